/**
 * An amend cutting the quantity (0.1 → 0.05), sent, and overtaken by fills at the venue (0.1 filled: the order
 * Filled), answered `ok` after: no evidence can apply it (an order is never less than it filled), and it stayed `sent`
 * — the answer alerted and asked for a read-back, the read-back ended the order Filled, and the Filled order still
 * showed an amend under way in its view and its explanation, for good (nothing later settles it). It now fails
 * AMEND_QTY_BELOW_FILLED on the evidence that cannot apply it, whichever evidence that is. An amend above what has
 * filled is still applied by its evidence as before.
 */

import { expect, test } from 'bun:test'
import type { EventOf } from '../../src/domain/events/index.ts'
import { d, Harness, report } from './fixtures.ts'
import { venueOrderOf, venueTradeOf } from './venue-fixtures.ts'

/** An open order (0.1) whose amend to `qty` is sent, then filled whole at the venue before the amend's answer. */
function amendOvertaken(harness: Harness, qty: string): string {
  const orderId = harness.openOrder()
  expect(harness.amend(orderId, { qty }).reply.kind).toBe('amend_accepted')
  harness.send(orderId, 'amend')
  harness.report(report(harness.order(orderId), { execId: 'f1', kind: 'fill', lastQty: d('0.1'), lastPrice: d('50000'), cumQty: d('0.1') }))
  expect(harness.order(orderId)).toMatchObject({ status: 'Filled', amend: { stage: 'sent' } })
  return orderId
}

/** The venue's view 10 s on: the order under the amend's id, filled 0.1. */
function readBackFilled(harness: Harness, orderId: string) {
  harness.nowMs += 10_000
  const clientOrderId = harness.order(orderId).amend?.clientOrderId ?? ''
  const venueOrder = venueOrderOf(harness, orderId, { clientOrderId, qty: d('0.1'), cumQty: d('0.1'), status: 'filled' })
  return harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, askedAtMs: harness.nowMs - 20, orderId, venueOrder, trades: [venueTradeOf(harness, orderId, 'f1', '0.1')] })
}

test('an amend overtaken by fills and answered ok ends failed AMEND_QTY_BELOW_FILLED; read back, the order is Filled with no amend under way', () => {
  const harness = Harness.funded()
  const orderId = amendOvertaken(harness, '0.05')
  const answered = harness.amendResult(orderId, { kind: 'ok', value: { accepted: true } })
  const failed = answered.events.find((event) => event.type === 'order.amend_failed') as EventOf<'order.amend_failed'> | undefined
  expect(failed).toMatchObject({ amendId: 1, reason: 'AMEND_QTY_BELOW_FILLED' })
  expect(harness.order(orderId).amend?.stage).toBe('failed')

  readBackFilled(harness, orderId)
  expect(harness.order(orderId)).toMatchObject({ status: 'Filled', amend: { stage: 'failed' } })
  expect(harness.state.inFlight.has(orderId)).toBe(false)
  expect(harness.reserved('USD')).toBe(0n)
  expect(harness.next()).toBeNull()
})

test('an amend overtaken by fills whose answer was lost ends failed when the read-back finds the order under its id', () => {
  const harness = Harness.funded()
  const orderId = amendOvertaken(harness, '0.05')
  harness.amendResult(orderId, { kind: 'unknown', reason: 'timeout' })
  const read = readBackFilled(harness, orderId)
  expect(harness.eventTypes(read)).toContain('order.amend_failed')
  expect(harness.order(orderId)).toMatchObject({ status: 'Filled', amend: { stage: 'failed' } })
})

test('an amend above what has filled is still applied by the read-back that proves it', () => {
  const harness = Harness.funded()
  const orderId = amendOvertaken(harness, '0.2')
  harness.amendResult(orderId, { kind: 'ok', value: { accepted: true } })
  expect(harness.order(orderId).amend?.stage).toBe('sent')
  harness.nowMs += 10_000
  const clientOrderId = harness.order(orderId).amend?.clientOrderId ?? ''
  const venueOrder = venueOrderOf(harness, orderId, { clientOrderId, qty: d('0.2'), cumQty: d('0.1'), status: 'open' })
  harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, askedAtMs: harness.nowMs - 20, orderId, venueOrder, trades: [venueTradeOf(harness, orderId, 'f1', '0.1')] })
  expect(harness.order(orderId)).toMatchObject({ status: 'Partial', qty: d('0.2'), amend: null })
})
