/**
 * OCO_BOTH_EXECUTED (order-lists-both-executed.test.ts) when the leg that fired the list by filling has been retired
 * (retention.ts: ended, past the grace with more ended orders held than terminalOrdersKeptMax, or beyond the hard
 * cap) before its sibling's cancel landed and the sibling filled: the alert read the sibling's filled quantity from
 * the state only, found no order, and raised nothing — both legs traded and no operator heard of it (kernel review).
 * The list's own record says that leg executed: its fill fired it.
 */

import { expect, test } from 'bun:test'
import type { EventOf } from '../../src/domain/events/index.ts'
import type { PlaceListCommand } from '../../src/kernel/index.ts'
import { ACCOUNT, body, config, d, Harness, market, report, trader } from './fixtures.ts'

const GRACE_MS = 1_000

function openList(harness: Harness): [string, string] {
  const orders = [body({ side: 'sell', qty: '0.1', price: '50500', client_order_id: undefined }), body({ side: 'sell', qty: '0.1', price: '49500', client_order_id: undefined })]
  const command: PlaceListCommand = {
    kind: 'place_list',
    nowMs: harness.nowMs,
    principal: trader,
    idempotencyKey: null,
    body: { type: 'oco', account: ACCOUNT, client_list_id: 'list-1', orders },
    market: market(),
    live: { credentialPresent: true, environmentLive: true, haLeader: true },
    configDigest: 'cfg-1',
    buildCommit: 'test',
  }
  const decision = harness.run(command)
  if (decision.reply.kind !== 'list_accepted') throw new Error(`expected the list accepted, got ${JSON.stringify(decision.reply)}`)
  const legs = decision.reply.orderIds as [string, string]
  for (const orderId of legs) {
    harness.send(orderId)
    harness.placeResult(orderId, { kind: 'ok', value: { venueOrderId: `v-${orderId}` } })
  }
  return legs
}

/** An unrelated order placed and canceled before its send: one more ended order, so the oldest past the grace retires. */
function endAnother(harness: Harness, clientOrderId: string): void {
  const orderId = harness.placedId({ client_order_id: clientOrderId, side: 'sell', qty: '0.01', price: '51000' }, { market: market('50000', { observedAtMs: harness.nowMs }) })
  harness.cancel(orderId)
}

test("a fired list's sibling filling after the leg that fired it was retired still raises OCO_BOTH_EXECUTED", () => {
  const harness = Harness.funded({ config: config({ params: { terminalOrdersKeptMax: 1, terminalOrderRetireAfterMs: GRACE_MS } }) })
  const [a, b] = openList(harness)
  harness.report(report(harness.order(a), { execId: 'fa', kind: 'fill', lastQty: d('0.1'), lastPrice: d('50500'), cumQty: d('0.1') }))
  expect(harness.order(a).status).toBe('Filled')
  expect(harness.order(b).status).toBe('CancelRequested')
  endAnother(harness, 'other-1')
  harness.nowMs += GRACE_MS
  endAnother(harness, 'other-2')
  expect(harness.state.orders.has(a)).toBe(false)
  harness.send(b, 'cancel')
  const raced = harness.report(report(harness.order(b), { execId: 'fb', kind: 'fill', lastQty: d('0.05'), lastPrice: d('49500'), cumQty: d('0.05') }))
  const alerts = raced.events.filter((event): event is EventOf<'alert.raised'> => event.type === 'alert.raised')
  expect(alerts.map((alert) => alert.reason)).toEqual(['OCO_BOTH_EXECUTED'])
  expect(alerts[0]?.orderId).toBe(b)
  expect(alerts[0]?.detail).toContain(a)
  // Once: a further fill of the same leg adds no second alert.
  const again = harness.report(report(harness.order(b), { execId: 'fb2', kind: 'fill', lastQty: d('0.01'), lastPrice: d('49500'), cumQty: d('0.06') }))
  expect(again.events.some((event) => event.type === 'alert.raised')).toBe(false)
})
