/**
 * An amend waits in Lane2 between its acceptance and its send, and fills go on meanwhile. One cutting the quantity
 * (0.1 → 0.05) that fills overtake while it waits (0.06 filled) was sent as it stood: a replace to less than the venue
 * has filled, which the amend's own intake refuses (AMEND_QTY_BELOW_FILLED), which a venue refuses or takes as the
 * order done, and whose `ok` egress could not apply (amend/evidence.ts). It now fails at its send, unsent, with that
 * reason; the order stands, and a new amend above the filled quantity may follow.
 */

import { expect, test } from 'bun:test'
import type { EventOf } from '../../src/domain/events/index.ts'
import { heldFor } from '../../src/kernel/index.ts'
import { d, Harness, report } from './fixtures.ts'

test('an amend whose quantity fills reached while it waited is failed AMEND_QTY_BELOW_FILLED at its send, never sent', () => {
  const harness = Harness.funded()
  const orderId = harness.openOrder()
  expect(harness.amend(orderId, { qty: '0.05' }).reply.kind).toBe('amend_accepted')
  harness.report(report(harness.order(orderId), { execId: 'f1', kind: 'fill', lastQty: d('0.06'), lastPrice: d('50000'), cumQty: d('0.06') }))
  expect(harness.next()).toMatchObject({ kind: 'amend', orderId })

  const decision = harness.send(orderId, 'amend')
  expect(harness.eventTypes(decision)).toEqual(['order.amend_failed'])
  expect(decision.events[0] as EventOf<'order.amend_failed'>).toMatchObject({ amendId: 1, reason: 'AMEND_QTY_BELOW_FILLED' })
  const order = harness.order(orderId)
  expect({ status: order.status, qty: order.qty, stage: order.amend?.stage, inFlight: harness.state.inFlight.has(orderId) }).toEqual({ status: 'Partial', qty: d('0.1'), stage: 'failed', inFlight: false })
  expect(harness.reserved('USD')).toBe(heldFor(order))
  expect(harness.next()).toBeNull()

  // The order may be amended again, above what has filled.
  expect(harness.amend(orderId, { qty: '0.08' }).reply).toMatchObject({ kind: 'amend_accepted', amendId: 2 })
  expect(harness.eventTypes(harness.send(orderId, 'amend'))).toEqual(['order.amend_send_requested'])
})

test('an amend still above what has filled is sent as before', () => {
  const harness = Harness.funded()
  const orderId = harness.openOrder()
  expect(harness.amend(orderId, { qty: '0.05' }).reply.kind).toBe('amend_accepted')
  harness.report(report(harness.order(orderId), { execId: 'f1', kind: 'fill', lastQty: d('0.04'), lastPrice: d('50000'), cumQty: d('0.04') }))
  const sent = harness.send(orderId, 'amend')
  expect(harness.eventTypes(sent)).toEqual(['order.amend_send_requested'])
  expect((sent.events[0] as EventOf<'order.amend_send_requested'>).qty).toBe(d('0.05'))
})
