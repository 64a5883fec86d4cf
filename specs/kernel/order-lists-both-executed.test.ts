/**
 * OCO: both legs executing (the second filled at the venue before its cancel got there) is the pair's overfill: the
 * account may hold up to twice the exposure the list was for. The kernel cancels the rest of the leg that fired the
 * list (order-lists.test.ts); it also raises OCO_BOTH_EXECUTED, once, on the first fill that leaves both legs executed.
 * Before, nothing told an operator: each leg's fill was an ordinary fill, the list's record named the first leg only.
 */

import { describe, expect, test } from 'bun:test'
import type { EventOf } from '../../src/domain/events/index.ts'
import type { Decision, PlaceListCommand } from '../../src/kernel/index.ts'
import { ACCOUNT, body, d, Harness, market, report, T0, trader } from './fixtures.ts'

function openList(harness: Harness): { listId: string; a: string; b: string } {
  const command: PlaceListCommand = {
    kind: 'place_list',
    nowMs: harness.nowMs,
    principal: trader,
    idempotencyKey: null,
    body: {
      type: 'oco',
      account: ACCOUNT,
      client_list_id: 'list-1',
      orders: [body({ side: 'sell', qty: '0.1', price: '50500', client_order_id: undefined }), body({ side: 'sell', qty: '0.1', price: '49500', client_order_id: undefined })],
    },
    market: market(),
    live: { credentialPresent: true, environmentLive: true, haLeader: true },
    configDigest: 'cfg-1',
    buildCommit: 'test',
  }
  const decision = harness.run(command)
  if (decision.reply.kind !== 'list_accepted') throw new Error(`expected the list accepted, got ${JSON.stringify(decision.reply)}`)
  const [a, b] = decision.reply.orderIds as [string, string]
  for (const orderId of [a, b]) {
    harness.send(orderId)
    harness.placeResult(orderId, { kind: 'ok', value: { venueOrderId: `v-${orderId}` } })
  }
  return { listId: decision.reply.listId, a, b }
}

function alertsOf(decision: Decision): EventOf<'alert.raised'>[] {
  return decision.events.filter((event): event is EventOf<'alert.raised'> => event.type === 'alert.raised')
}

function fill(harness: Harness, orderId: string, execId: string, lastQty: string, cumQty: string): Decision {
  return harness.report(report(harness.order(orderId), { execId, kind: 'fill', lastQty: d(lastQty), lastPrice: harness.order(orderId).price ?? d('50000'), cumQty: d(cumQty) }))
}

describe('OCO: both legs executed', () => {
  test('the sibling filling after the list fired raises OCO_BOTH_EXECUTED, once, naming both legs', () => {
    const harness = Harness.funded()
    const { listId, a, b } = openList(harness)
    expect(alertsOf(fill(harness, a, 'fa', '0.04', '0.04'))).toEqual([])
    const raced = fill(harness, b, 'fb', '0.05', '0.05')
    expect(harness.eventTypes(raced)).toEqual(['inbox.report_accepted', 'order.fill', 'order.cancel_requested', 'alert.raised'])
    const [alert] = alertsOf(raced)
    expect(alert).toMatchObject({ type: 'alert.raised', atMs: T0, reason: 'OCO_BOTH_EXECUTED', orderId: b })
    expect(alert?.detail).toContain(listId)
    expect(alert?.detail).toContain(`after ${a} had (0.04)`)
    // More fills of either leg raise nothing more.
    expect(alertsOf(fill(harness, b, 'fb2', '0.05', '0.1'))).toEqual([])
    expect(alertsOf(fill(harness, a, 'fa2', '0.02', '0.06'))).toEqual([])
    expect(harness.log.filter((event) => event.type === 'alert.raised')).toHaveLength(1)
  })

  test('a list fired by a cancel whose two legs then both fill before their cancels land: alerted on the second', () => {
    const harness = Harness.funded()
    const { a, b } = openList(harness)
    harness.cancel(a)
    expect(harness.order(b).status).toBe('CancelRequested')
    expect(alertsOf(fill(harness, b, 'fb', '0.1', '0.1'))).toEqual([])
    const second = fill(harness, a, 'fa', '0.03', '0.03')
    expect(alertsOf(second).map((event) => [event.reason, event.orderId])).toEqual([['OCO_BOTH_EXECUTED', a]])
  })

  test('one leg executing alone raises nothing', () => {
    const harness = Harness.funded()
    const { a, b } = openList(harness)
    expect(alertsOf(fill(harness, a, 'fa', '0.1', '0.1'))).toEqual([])
    harness.send(b, 'cancel')
    harness.cancelResult(b, { kind: 'ok', value: { accepted: true } })
    harness.report(report(harness.order(b), { execId: 'cb', kind: 'canceled', cumQty: 0n }))
    expect(harness.log.filter((event) => event.type === 'alert.raised')).toEqual([])
  })
})
