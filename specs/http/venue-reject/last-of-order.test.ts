/**
 * `venue_reject` of GET /v1/orders/{id} reads only the order's records that may carry a venue's refusal (the log index
 * keeps their positions), newest first up to the first that is one: the first GET of an order with a long history read
 * every record of it (an order amended thousands of times held the event loop for as long).
 */

import { afterAll, beforeAll, expect, spyOn, test } from 'bun:test'
import type { DomainEvent } from '../../../src/domain/events/index.ts'
import type { LogIndex, LoggedEvent } from '../../../src/http/log-index.ts'
import { lastVenueRejectOf } from '../../../src/http/venue-reject/last-of-order.ts'
import { auth, eventually, json, LIMIT_BUY, post, startTestGateway, type TestGateway } from '../fixture.ts'

const base = { orderId: 'o-1', atMs: 1_000 }
const cancelRejected = { type: 'order.cancel_rejected', ...base, venueReason: 'too late to cancel' }
const amendTimedOut = { type: 'order.amend_failed', ...base, amendId: 1, reason: 'VENUE_TIMEOUT', detail: 'no answer' }
const amendRefused = { type: 'order.amend_failed', ...base, amendId: 2, reason: 'VENUE_AMEND_REJECTED', detail: 'unknown order' }

/** A log index of one order whose refusal records are `records` (by LSN), counting the records read. */
function indexOf(records: Map<number, unknown>): { index: LogIndex; reads: number[] } {
  const reads: number[] = []
  const index = {
    complete: true,
    venueRefusalPositionsOf: () => [...records.keys()],
    read: (lsns: readonly number[]): LoggedEvent[] => {
      reads.push(...lsns)
      return lsns.map((lsn) => ({ lsn, event: records.get(lsn) as DomainEvent }))
    },
  }
  return { index: index as unknown as LogIndex, reads }
}

test('newest first, past an amend the kernel failed for its own reason, to the venue refusal before it; then only what is new', () => {
  const records = new Map<number, unknown>([[10, cancelRejected], [20, amendTimedOut]])
  const { index, reads } = indexOf(records)
  expect(lastVenueRejectOf(index, 'o-1')).toMatchObject({ action: 'cancel', reason: 'too late to cancel', lsn: 10 })
  expect(reads).toEqual([20, 10])
  expect(lastVenueRejectOf(index, 'o-1')).toMatchObject({ lsn: 10 })
  expect(reads).toEqual([20, 10])
  records.set(30, amendRefused)
  expect(lastVenueRejectOf(index, 'o-1')).toMatchObject({ action: 'amend', reason: 'unknown order', lsn: 30 })
  expect(reads).toEqual([20, 10, 30])
})

let t: TestGateway
beforeAll(async () => {
  t = await startTestGateway()
})
afterAll(async () => t.stop())

test('an order with a long history and no venue refusal: its first GET reads none of its records for venue_reject', async () => {
  const trader = await t.token({})
  const orderId = (await json(await t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': 'long-history' })))).order_id as string
  await eventually(() => t.gateway.engine.state.orders.get(orderId)?.status === 'AckedOpen')
  // Amends the price band refuses: one record each.
  for (let amend = 0; amend < 40; amend++) expect((await t.request(`/v1/orders/${orderId}/amend`, post(trader, { price: '90000' }))).status).toBe(422)
  const logIndex = t.http.services.logIndex
  expect(logIndex.recordCountOf(orderId)).toBeGreaterThan(40)
  const reads = spyOn(logIndex, 'read')
  try {
    const body = await json(await t.request(`/v1/orders/${orderId}`, { headers: auth(trader) }))
    expect(body.venue_reject).toBeNull()
    expect(reads.mock.calls.flatMap(([lsns]) => lsns)).toEqual([])
  } finally {
    reads.mockRestore()
  }
})
