/**
 * An HA pair is upgraded standby first: for a while the standby (this build, compact payloads, version 3) follows a
 * leader that writes the plain binary format (version 2) of the same events. The standby's shadow decider must
 * compare what the leader decided, not how its build spelled it — or every decision of a rolling upgrade is a
 * mismatch and the one alarm that says "the two nodes would not act alike" cries wolf. A real difference in an older
 * record, and a record newer than this build reads, must still be mismatches.
 */

import { schemaAtVersion } from '../../../src/domain/events/binary-records.ts'
import { afterEach, describe, expect, test } from 'bun:test'
import { recordLayoutOf } from '../../../src/domain/events/binary-layout.ts'
import { compileRecordWriter } from '../../../src/domain/events/binary-writer.ts'
import type { SchemaLike } from '../../../src/domain/events/json-plan.ts'
import { EVENT_CODES, EVENT_SCHEMAS, EVENT_VERSIONS, type DomainEvent } from '../../../src/domain/events/index.ts'
import { isCommandRecord, ShadowDecider } from '../../../src/runtime/ha/index.ts'
import { domainEventOf } from '../../../src/runtime/records.ts'
import { applyInPlace, initialState } from '../../../src/kernel/index.ts'
import { copyFrame, type Frame } from '../../../wal/index.ts'
import { removeTempDirs } from '../../wal/support.ts'
import { removeDir, run, startWorld, traderA, traderB } from '../harness.ts'

afterEach(removeTempDirs)

const PLAIN_VERSION = 2

/** The event as a build of the plain format (schema version 2) wrote it. */
function plainRecord(event: DomainEvent): { type: number; version: number; payload: Uint8Array } {
  const write = compileRecordWriter(recordLayoutOf(schemaAtVersion(event.type, 2), 'plain'), event.type)
  return { type: EVENT_CODES[event.type], version: PLAIN_VERSION, payload: write(event) }
}

/** A leader's log with command records: orders on two accounts, fills, a cancel of an unknown order. */
async function leaderFrames(): Promise<Frame[]> {
  const world = await startWorld({ seed: 23 })
  world.gateway.engine.commandRecords = true
  for (let index = 0; index < 6; index++) {
    const [principal, account] = index % 2 === 0 ? [traderA, 'acct-a'] : [traderB, 'acct-b']
    await world.gateway.place(principal, { account, symbol: 'BTC-USD', side: index % 3 === 0 ? 'sell' : 'buy', type: 'limit', qty: '0.1', price: index % 3 === 0 ? '59000' : '61000', client_order_id: `versions-${index}` }, null)
  }
  await run(world, 2_000)
  await world.gateway.cancel(traderA, 'versions-missing').catch(() => {})
  await run(world, 500)
  const wal = world.gateway.engine.wal
  // Copied as each comes: a frame's views last until the next (wal/reader.ts).
  const frames = Array.from(wal.read(wal.firstLsn), copyFrame)
  await world.gateway.stop()
  removeDir(world.dir)
  return frames
}

/** What a standby's shadow decider makes of `frames`, with each leader event frame first passed through `rewrite`. */
function shadowOf(frames: readonly Frame[], rewrite: (frame: Frame, event: DomainEvent) => Frame): ShadowDecider {
  const state = initialState()
  const shadow = new ShadowDecider()
  for (const frame of frames) {
    if (isCommandRecord(frame.type)) shadow.command(frame, state)
    const event = domainEventOf(frame)
    if (event === null) continue
    shadow.event(rewrite(frame, event), state)
    applyInPlace(state, event, { lsn: frame.lsn })
  }
  return shadow
}

describe('shadow mode across payload versions (standby upgraded first)', () => {
  test('a leader writing version 2 payloads: every decision matches', async () => {
    const frames = await leaderFrames()
    const asIs = shadowOf(frames, (frame) => frame).stats
    expect(asIs.decisions).toBeGreaterThan(10)
    expect(asIs.mismatches).toBe(0)
    let rewritten = 0
    const older = shadowOf(frames, (frame, event) => {
      rewritten++
      return { ...frame, ...plainRecord(event) }
    }).stats
    // The rewrite did change the bytes (the plain format is not the compact one), so the match is not trivial.
    const sample = frames.find((frame) => !isCommandRecord(frame.type) && domainEventOf(frame)?.type === 'order.accepted')
    expect(sample).toBeDefined()
    const sampleEvent = domainEventOf(sample as Frame) as DomainEvent
    expect(plainRecord(sampleEvent).payload).not.toEqual((sample as Frame).payload)
    expect(EVENT_VERSIONS['order.accepted']).toBeGreaterThan(PLAIN_VERSION)
    expect(rewritten).toBeGreaterThan(asIs.decisions)
    expect(older.lastMismatches).toEqual([])
    expect(older.decisions).toBe(asIs.decisions)
    expect(older.matches).toBe(asIs.decisions)
  })

  test('a version 2 record that says something else is still a mismatch, naming the member', async () => {
    const frames = await leaderFrames()
    let changed = 0
    const shadow = shadowOf(frames, (frame, event) => {
      if (event.type !== 'order.accepted') return { ...frame, ...plainRecord(event) }
      changed++
      return { ...frame, ...plainRecord({ ...event, atMs: event.atMs + 1 }) }
    })
    expect(changed).toBeGreaterThan(0)
    expect(shadow.stats.mismatches).toBe(changed)
    expect(shadow.stats.lastMismatches[0]?.difference).toContain('atMs')
  })

  test('a record newer than this build reads (a leader upgraded first) is a mismatch naming both versions', async () => {
    const frames = await leaderFrames()
    const shadow = shadowOf(frames, (frame, event) => (event.type === 'order.accepted' ? { ...frame, version: frame.version + 1 } : frame))
    const accepted = frames.filter((frame) => !isCommandRecord(frame.type) && domainEventOf(frame)?.type === 'order.accepted').length
    expect(accepted).toBeGreaterThan(0)
    expect(shadow.stats.mismatches).toBe(accepted)
    const current = EVENT_VERSIONS['order.accepted']
    expect(shadow.stats.lastMismatches[0]?.difference).toContain(`v${current} on the standby`)
    expect(shadow.stats.lastMismatches[0]?.difference).toContain(`v${current + 1} on the leader`)
  })
})
