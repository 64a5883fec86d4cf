/**
 * A flatten over an order waiting to be sent again (Enqueued after a send went out: a place answered retryable, or a
 * resend). Its cancel does not end it on egress's word (cancel.ts: Unknown, cancel wanted, its worst case held until
 * the read-back), so the position it holds is not free for the flatten's close: only an order ended on the spot
 * releases what it held to the close.
 */

import { describe, expect, test } from 'bun:test'
import type { EventOf } from '../../src/domain/events/index.ts'
import { availableBalance } from '../../src/kernel/state.ts'
import { ACCOUNT, d, Harness, market, ops, resentOrder } from './fixtures.ts'

function flatten(harness: Harness, flattenId: string): EventOf<'order.accepted'>[] {
  const decision = harness.run({ kind: 'flatten', nowMs: harness.nowMs, principal: ops, accountId: ACCOUNT, flattenId, markets: { 'sim:BTC-USD': market('50000', { observedAtMs: harness.nowMs }) } })
  return decision.events.filter((event): event is EventOf<'order.accepted'> => event.type === 'order.accepted' && event.baseAsset === 'BTC')
}

describe('flatten over an order sent before and waiting to go out again', () => {
  test('a sell answered retryable keeps its position held: the close sells only the rest', () => {
    const harness = Harness.funded()
    const orderId = harness.placedId({ side: 'sell', qty: '1', price: '50000' })
    harness.send(orderId)
    harness.placeResult(orderId, { kind: 'retryable', reason: 'rate_limited', retryAfterMs: 1_000 })
    expect(harness.order(orderId)).toMatchObject({ status: 'Enqueued', sendAttempts: 1 })
    const closes = flatten(harness, 'f-1')
    expect(harness.order(orderId)).toMatchObject({ status: 'Unknown', cancelWanted: true })
    expect(harness.order(orderId).reservation.remaining).toBe(d('1'))
    expect(closes.map((close) => close.qty)).toEqual([d('1')])
    expect(harness.reserved('BTC')).toBe(d('2'))
    expect(availableBalance(harness.state, ACCOUNT, 'BTC')).toBe(0n)
  })

  test('a resent sell likewise', () => {
    const harness = Harness.funded()
    const orderId = resentOrder(harness, { side: 'sell' })
    const closes = flatten(harness, 'f-2')
    expect(closes.map((close) => close.qty)).toEqual([d('1')])
    expect(availableBalance(harness.state, ACCOUNT, 'BTC')).toBe(0n)
  })

  test('an order never sent is canceled on the spot and its position closed with the rest', () => {
    const harness = Harness.funded()
    harness.placedId({ side: 'sell', qty: '1', price: '50000' })
    const closes = flatten(harness, 'f-3')
    expect(closes.map((close) => close.qty)).toEqual([d('2')])
    expect(availableBalance(harness.state, ACCOUNT, 'BTC')).toBe(0n)
  })
})
