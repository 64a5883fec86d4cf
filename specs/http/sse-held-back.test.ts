/**
 * The SSE hub under a bound (src/http/sse/held-back.ts): durable events above what the node may acknowledge wait, and
 * go out once the bound passes them — once, in log order — whether they waited in memory or, past `heldEventsMax`,
 * were dropped and read again from the log a chunk at a time. A replay stops at the bound as the live feed does.
 * SyncReplication's bound per policy (src/runtime/ha/sync.ts acknowledgeableLsn).
 */

import { afterEach, expect, test } from 'bun:test'
import type { Wal } from '../../wal/index.ts'
import { domainEventOf } from '../../src/runtime/records.ts'
import { SseHub } from '../../src/http/sse/index.ts'
import { MovableBound } from './movable-bound.ts'
import { SyncReplication, type SyncPolicy } from '../../src/runtime/ha/index.ts'
import { LIMIT_BUY, startTestGateway, type TestGateway } from './fixture.ts'
import { SseReader } from './sse-client.ts'

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function hubOver(gateway: TestGateway, bound: MovableBound, heldEventsMax: number): Promise<{ hub: SseHub; read: (lastEventId: number | null) => SseReader }> {
  const hub = new SseHub({ engine: gateway.gateway.engine, heartbeatMs: 3_600_000, bufferEventsMax: 10_000, subscribersMax: 8, bound, heldEventsMax, replayChunkFrames: 3 })
  cleanups.push(() => hub.close())
  const read = (lastEventId: number | null): SseReader => {
    const opened = hub.open({ kind: 'global' }, lastEventId)
    if (!opened.ok) throw new Error(opened.reason)
    const reader = new SseReader(new Response(opened.stream))
    cleanups.push(() => reader.cancel())
    return reader
  }
  return { hub, read }
}

function domainLsns(wal: Wal, afterLsn: number, toLsn: number): number[] {
  return [...wal.read(afterLsn + 1, { toLsn })].filter((frame) => domainEventOf(frame) !== null).map((frame) => frame.lsn)
}

const ids = (reader: SseReader): number[] => reader.events().map((frame) => frame.id as number)
const principal = { id: 'alice', roles: ['trader' as const], accounts: ['demo-1'], liveAllowed: false }

for (const heldEventsMax of [10_000, 2]) {
  test(`events above the bound wait, then go out once and in order as it moves (${heldEventsMax === 2 ? 'past heldEventsMax: read again from the log' : 'held in memory'})`, async () => {
    const gateway = await startTestGateway()
    cleanups.push(() => gateway.stop())
    const wal = gateway.gateway.engine.wal
    const startLsn = wal.lastLsn
    const bound = new MovableBound(startLsn)
    const { hub, read } = await hubOver(gateway, bound, heldEventsMax)
    const live = read(null)
    for (let index = 0; index < 3; index++) expect((await gateway.gateway.place(principal, { ...LIMIT_BUY, client_order_id: `held-${index}` }, null)).reply.kind).toBe('accepted')
    await gateway.gateway.engine.settled()
    const all = domainLsns(wal, startLsn, wal.lastLsn)
    expect(all.length).toBeGreaterThan(3)
    // Nothing above the bound, live or replayed; the head is where the bound stands.
    const resumed = read(startLsn)
    await Bun.sleep(20)
    await live.until(() => true, 0)
    await resumed.until(() => true, 0)
    expect(live.events()).toEqual([])
    expect(resumed.events()).toEqual([])
    expect(hub.headLsn()).toBe(startLsn)

    const middle = all[1] as number
    bound.moveTo(middle)
    for (const reader of [live, resumed]) await reader.until(() => ids(reader).length >= 2)
    await Bun.sleep(20)
    for (const reader of [live, resumed]) expect(ids(reader)).toEqual(all.slice(0, 2))

    bound.moveTo(Number.MAX_SAFE_INTEGER)
    for (const reader of [live, resumed]) await reader.until(() => ids(reader).length >= all.length)
    // After the bound passed everything, what comes next goes straight through (the feed caught up with the log).
    expect((await gateway.gateway.place(principal, { ...LIMIT_BUY, client_order_id: 'after' }, null)).reply.kind).toBe('accepted')
    await gateway.gateway.engine.settled()
    const later = domainLsns(wal, startLsn, wal.lastLsn)
    for (const reader of [live, resumed]) await reader.until(() => ids(reader).length >= later.length)
    await Bun.sleep(20)
    for (const reader of [live, resumed]) expect(ids(reader)).toEqual(later)
    // A resume from inside what was held: the rest, none twice.
    const again = read(middle)
    await again.until(() => ids(again).length >= later.length - 2)
    expect(ids(again)).toEqual(later.slice(2))
  })
}

function syncOf(policy: SyncPolicy, leader: { lsn: number }): SyncReplication {
  return new SyncReplication({ policy, epoch: 1, timeoutMs: 1_000, waitersMax: 8, leaderLastLsn: () => leader.lsn, nowMs: () => 0, onTransition: () => {} })
}

test('the bound per policy: fail_closed what the standby holds; degrade_async the same in sync and the local log while degraded; off the local log', () => {
  const leader = { lsn: 100 }
  const failClosed = syncOf('fail_closed', leader)
  let moved = 0
  failClosed.onAcknowledgeableMoved(() => void moved++)
  expect(failClosed.acknowledgeableLsn(100)).toBe(0)
  failClosed.acknowledge(100, 1)
  expect(failClosed.state).toBe('sync')
  expect(moved).toBeGreaterThan(0)
  leader.lsn = 150
  expect(failClosed.acknowledgeableLsn(150)).toBe(100)
  const before = moved
  failClosed.acknowledge(130, 1)
  expect(moved).toBeGreaterThan(before)
  expect(failClosed.acknowledgeableLsn(150)).toBe(130)
  // Another term's acknowledgement moves nothing.
  failClosed.acknowledge(150, 2)
  expect(failClosed.acknowledgeableLsn(150)).toBe(130)

  leader.lsn = 100
  const degrade = syncOf('degrade_async', leader)
  expect(degrade.state).toBe('down')
  expect(degrade.acknowledgeableLsn(100)).toBe(100)
  degrade.acknowledge(100, 1)
  expect(degrade.state).toBe('sync')
  expect(degrade.acknowledgeableLsn(120)).toBe(100)

  expect(syncOf('off', leader).acknowledgeableLsn(100)).toBe(100)
})

test('what the term wrote before the streams were made (its bootstrap) waits for the bound like the rest; the log before the term does not', async () => {
  const gateway = await startTestGateway()
  cleanups.push(() => gateway.stop())
  const wal = gateway.gateway.engine.wal
  // Records of "this term" already in the log when the hub is made: a promotion's bootstrap writes before the service.
  const termStartLsn = wal.lastLsn
  for (let index = 0; index < 2; index++) expect((await gateway.gateway.place(principal, { ...LIMIT_BUY, client_order_id: `bootstrap-${index}` }, null)).reply.kind).toBe('accepted')
  await gateway.gateway.engine.settled()
  const written = domainLsns(wal, termStartLsn, wal.lastLsn)
  expect(written.length).toBeGreaterThan(2)
  const bound = Object.assign(new MovableBound(termStartLsn), { termStartLsn })
  const { hub, read } = await hubOver(gateway, bound, 10_000)
  expect(hub.headLsn()).toBe(termStartLsn)
  // A resume from before the term gets the log up to the term's start, and nothing the standby does not hold.
  const history = domainLsns(wal, termStartLsn - 3, termStartLsn)
  const resumed = read(termStartLsn - 3)
  const live = read(null)
  await resumed.until(() => ids(resumed).length >= history.length)
  await Bun.sleep(20)
  await live.until(() => true, 0)
  expect(ids(resumed)).toEqual(history)
  expect(live.events()).toEqual([])

  bound.moveTo(Number.MAX_SAFE_INTEGER)
  const lastLsn = written.at(-1) as number
  // The sim's answers go on being written: each stream holds the log's events, in order, up to its last one.
  for (const reader of [live, resumed]) await reader.until(() => (ids(reader).at(-1) ?? 0) >= lastLsn)
  expect(ids(live)).toEqual(domainLsns(wal, termStartLsn, ids(live).at(-1) as number))
  expect(ids(resumed)).toEqual([...history, ...domainLsns(wal, termStartLsn, ids(resumed).at(-1) as number)])
})
