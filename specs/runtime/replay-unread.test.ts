/**
 * Restart replay leaves out, unparsed, the members apply never reads (src/kernel/apply-unread.ts). The events it folds
 * are the fully validated events minus exactly those members, and the state it builds is the state folding the fully
 * validated events builds, and the live state.
 */

import { MEMBERS_ADDED } from '../../src/domain/events/registry.ts'
import { afterAll, describe, expect, test } from 'bun:test'
import { decodeEvent } from '../../src/domain/events/index.ts'
import { applyInPlace, stateDigest } from '../../src/kernel/index.ts'
import { APPLY_UNREAD_MEMBERS } from '../../src/kernel/apply-unread.ts'
import { initialState } from '../../src/kernel/state.ts'
import { Engine } from '../../src/runtime/engine.ts'
import { isAuditRecord, kernelReplayEventOf } from '../../src/runtime/records.ts'
import { crashWorld, removeDir } from './harness.ts'
import { tradedWorld } from './snapshot/support.ts'

const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) removeDir(dir)
})

describe('kernel replay without the members apply never reads', () => {
  test('each event is the validated event minus its unread members; replayed state = fully decoded fold = live state', async () => {
    const world = await tradedWorld(13, 60)
    dirs.push(world.dir)
    await world.gateway.engine.settled()
    const wal = world.gateway.engine.wal
    const full = initialState()
    const cut = new Map<string, number>()
    for (const frame of wal.read(1)) {
      if (isAuditRecord(frame.type)) {
        expect(kernelReplayEventOf(frame)).toBeNull()
        continue
      }
      const validated = decodeEvent({ type: frame.type, version: frame.version, payload: frame.payload })
      const paths = APPLY_UNREAD_MEMBERS.get(validated.type) ?? []
      const expected = structuredClone(validated) as Record<string, unknown>
      for (const path of paths) {
        const [outer, inner] = path.split('.') as [string, string | undefined]
        if (inner === undefined) {
          // A member added as optional (a venue's cancel carries no attribution) may be absent; any other is there.
          if (!(outer in (MEMBERS_ADDED[validated.type] ?? {}))) expect(expected[outer]).toBeDefined()
          delete expected[outer]
        } else delete (expected[outer] as Record<string, unknown>)[inner]
      }
      if (paths.length > 0) cut.set(validated.type, (cut.get(validated.type) ?? 0) + 1)
      expect(kernelReplayEventOf(frame) as unknown).toEqual(expected)
      applyInPlace(full, validated, { lsn: frame.lsn })
    }
    expect(cut.get('order.accepted') ?? 0).toBeGreaterThan(0)
    expect(cut.get('order.send_requested') ?? 0).toBeGreaterThan(0)
    expect(cut.get('inbox.report_accepted') ?? 0).toBeGreaterThan(0)
    expect(cut.get('order.call_completed') ?? 0).toBeGreaterThan(0)
    const replayed = Engine.replay(wal)
    expect(stateDigest(replayed.state)).toBe(stateDigest(full))
    expect(stateDigest(replayed.state)).toBe(stateDigest(world.gateway.engine.state))
    await crashWorld(world)
  })
})
