/**
 * A lone surrogate from outside (a JSON escape in an HTTP body or a venue message) cannot be held in UTF-8: the engine
 * makes commands well-formed before the kernel decides, so the state built live equals the state replayed from the log.
 */

import { afterAll, describe, expect, test } from 'bun:test'
import { isWellFormedDeep, wellFormedDeep } from '../../src/domain/well-formed.ts'
import { stateDigest } from '../../src/kernel/index.ts'
import { Engine } from '../../src/runtime/engine.ts'
import { domainEventOf } from '../../src/runtime/records.ts'
import { crashWorld, opsUser, removeDir, startWorld } from './harness.ts'

const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) removeDir(dir)
})

describe('well-formed commands', () => {
  test('wellFormedDeep replaces lone surrogates in strings and keys, keeps everything else, and returns a clean value as it is', () => {
    const clean = { a: 'x', b: ['y', 1n, null], c: { d: 'é😀' } }
    expect(wellFormedDeep(clean)).toBe(clean)
    const dirty: Record<string, unknown> = { a: 'x\uD800', b: ['y', '\uDC00z', 2], ['k\uD801']: { d: 'ok' }, when: new Date(0) }
    const fixed = wellFormedDeep(dirty)
    expect(fixed).toEqual({ a: 'x\uFFFD', b: ['y', '\uFFFDz', 2], ['k\uFFFD']: { d: 'ok' }, when: new Date(0) })
    expect(fixed.when).toBe(dirty.when) // not a plain object: kept as it is
    expect(isWellFormedDeep(fixed)).toBe(true)
    expect(dirty.a).toBe('x\uD800') // the input is not changed
  })

  test('a halt whose note carries a lone surrogate is logged with U+FFFD in its place, and the log replays to the live state', async () => {
    const world = await startWorld({ seed: 3 })
    dirs.push(world.dir)
    const halted = await world.gateway.killSwitch(opsUser, 'HALT', 'venue said \uD800 down')
    expect(halted.reply.kind).not.toBe('rejected')
    await world.gateway.engine.settled()
    const notes = Array.from(world.gateway.engine.wal.read(1), (frame) => domainEventOf(frame)).flatMap((event) => (event?.type === 'switch.changed' ? [event.note] : []))
    expect(notes).toEqual(['venue said \uFFFD down'])
    // The live state and the state replayed from the log agree (before commands were made well-formed, the writer
    // logged U+FFFD while the live state kept the surrogate; now the writer would refuse it outright).
    expect(stateDigest(Engine.replay(world.gateway.engine.wal).state)).toBe(stateDigest(world.gateway.engine.state))
    await crashWorld(world)
  })
})
