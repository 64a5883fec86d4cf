/**
 * Compaction bounds the log index in a running process too. Its positions per order and its order → account map grew
 * by an entry per accepted order for as long as the process ran (~80 MB per million orders for the map alone), though
 * compaction removed the records they pointed to. Now, once the log's first LSN has moved, the next durable batch
 * starts a walk (in slices) that forgets what pointed only below it, keeping the account of an order the kernel still
 * holds (its end, still to come, names only the order: sse-retired-compacted.test.ts).
 */

import { expect, test } from 'bun:test'
import { LogIndex } from '../../src/http/log-index.ts'
import { eventually, LIMIT_BUY, post } from './fixture.ts'
import { retiringGateway } from './order-steps.ts'

const fixture = retiringGateway()
const { place, ended } = fixture

test('after compaction the index forgets the orders whose records went, in slices, and keeps what the log and kernel still hold', async () => {
  const t = fixture.gateway()
  const trader = fixture.trader()
  const wal = t.gateway.engine.wal
  const engine = t.gateway.engine
  const resting = await place(LIMIT_BUY, 'resting')
  await eventually(() => engine.state.orders.get(resting)?.status === 'AckedOpen')
  const fillers: string[] = []
  for (let index = 0; wal.segments.length < 24; index++) {
    fillers.push(await place({ ...LIMIT_BUY, tif: 'IOC' }, `filler-${index}`))
    await ended(fillers.at(-1) as string)
  }
  // One index timed by a clock that moves a millisecond per look, with a 1 ms slice: every look ends a slice.
  let nowMs = 0
  let pauses = 0
  const sliced = LogIndex.build(engine, { forgetSliceMs: 1, nowMs: () => (nowMs += 1), forgetPause: async () => void pauses++ })
  const service = t.http.services.logIndex
  // The service's index has followed every acceptance; one built now knows the accounts of held orders only.
  const before = service.entryCounts
  expect(sliced.entryCounts.orders).toBe(before.orders)
  expect(before.accounts).toBeGreaterThan(fillers.length)
  expect(before.orders).toBeGreaterThan(fillers.length)

  // Compaction: every segment but the newest (the resting order's acceptance among them); the kernel still holds it.
  expect(wal.removeSegmentsBelow(wal.segments.at(-1)?.firstLsn ?? 0).length).toBeGreaterThan(0)
  expect(engine.state.orders.has(resting)).toBe(true)
  // Nothing is forgotten until the next durable batch: nothing is added before it either.
  expect(service.entryCounts).toEqual(before)
  const slicedWalk = sliced.forgetCompacted()
  // The walk starts on a later turn, not inside its caller (the durable-batch listener, which runs before the acks).
  expect(sliced.entryCounts.orders).toBe(before.orders)
  const last = await place({ ...LIMIT_BUY, tif: 'IOC' }, 'after')
  await Promise.all([slicedWalk, service.forgetCompacted()])

  const after = service.entryCounts
  expect(sliced.entryCounts.orders).toBe(after.orders)
  expect(after.orders).toBeLessThan(before.orders / 2)
  expect(after.accounts).toBeLessThan(before.accounts / 2)
  // The walk took turns: a pause after each slice of 64 entries (the clock is looked at every 64).
  expect(before.orders).toBeGreaterThan(64)
  expect(pauses).toBeGreaterThanOrEqual(Math.floor(before.orders / 64))
  // The order the kernel holds keeps its account though its acceptance is gone; the newest order keeps its records.
  expect(sliced.orderAccountOf(resting)).toBe('demo-1')
  expect(service.orderAccountOf(resting)).toBe('demo-1')
  expect(service.positionsOf(last).length).toBeGreaterThan(0)
  expect(service.positionsOf(last).every((lsn) => lsn >= wal.firstLsn)).toBe(true)
  // An order whose records all went is no longer known to the index (and was unreadable before: the log lacks them).
  const gone = fillers[0] as string
  expect(engine.state.orders.has(gone)).toBe(false)
  expect(service.positionsOf(gone)).toEqual([])
  expect(service.orderAccountOf(gone)).toBe(null)

  // The resting order, once ended and retired, still has its account: its last records are in the retained log.
  expect((await t.request(`/v1/orders/${resting}/cancel`, post(trader, {}))).status).toBe(202)
  await ended(resting)
  await ended(await place({ ...LIMIT_BUY, tif: 'IOC' }, 'after-cancel'))
  await eventually(() => !engine.state.orders.has(resting))
  await service.forgetCompacted()
  expect(service.orderAccountOf(resting)).toBe('demo-1')
  sliced.close()
}, 30_000)
