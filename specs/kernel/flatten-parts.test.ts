/**
 * A flatten cancels at most `ordersMax` orders per decision when asked in parts (flatten.ts): one decision cancelling
 * every open order of an account with more of them than the log's queue takes records was refused as overloaded
 * however often it was asked — the kill switch refused by its own size. Now a decision with more cancels records the
 * first `ordersMax` (by order id) and nothing else, nothing held; asked again it cancels the next ones, and the one that
 * finds `ordersMax` or fewer records the flatten, its last cancels and the closes, sized after every cancel. Its lsn is
 * the first answer a repeat answers (flatten-held.ts).
 */

import { describe, expect, test } from 'bun:test'
import type { DomainEvent, EventOf } from '../../src/domain/events/index.ts'
import { RECORD_UNITS_MAX } from '../../src/domain/recordable-amounts.ts'
import { heldFlatten } from '../../src/kernel/index.ts'
import { ACCOUNT, d, Harness, market, ops, T0 } from './fixtures.ts'

function flatten(harness: Harness, flattenId: string, ordersMax?: number) {
  const markets = { 'sim:BTC-USD': market('50000'), 'sim:AAPL': market('190') }
  return harness.run({ kind: 'flatten', nowMs: harness.nowMs, principal: ops, accountId: ACCOUNT, flattenId, markets, ...(ordersMax === undefined ? {} : { ordersMax }) })
}

/** Three sells never sent (holding 0.9 of the 2 BTC, canceled on the spot) and two buys open at the venue. */
function withOrders(harness: Harness): string[] {
  const orderIds: string[] = []
  for (let index = 0; index < 3; index++) orderIds.push(harness.placedId({ client_order_id: `s${index}`, side: 'sell', qty: '0.3', price: '51000' }))
  for (let index = 0; index < 2; index++) orderIds.push(harness.openOrder({ client_order_id: `b${index}`, qty: '0.01', price: '49000' }))
  return orderIds.sort()
}

/** The orders a decision's cancels name, in record order. */
function orderIdsOf(events: readonly DomainEvent[]): string[] {
  return events.flatMap((event) => (event.type === 'order.cancel_requested' || event.type === 'order.canceled' ? [event.orderId] : []))
}

describe('a flatten with more orders to cancel than one decision takes', () => {
  test('is decided in parts of ordersMax orders, by order id; the last records the flatten and the closes, sized after every cancel', () => {
    const harness = Harness.funded()
    const orderIds = withOrders(harness)
    expect(harness.reserved('BTC')).toBe(d('0.9'))
    const first = flatten(harness, 'f-1', 2)
    expect(first.reply).toEqual({ kind: 'done' })
    expect(orderIdsOf(first.events)).toEqual(orderIds.slice(0, 2))
    expect(first.events.some((event) => event.type === 'account.flatten_requested' || event.type === 'order.accepted')).toBe(false)
    // Nothing held yet: the flatten is asked again, not answered.
    expect(heldFlatten(harness.state, ACCOUNT, 'f-1', harness.nowMs)).toBeNull()
    const second = flatten(harness, 'f-1', 2)
    expect(orderIdsOf(second.events)).toEqual(orderIds.slice(2, 4))
    expect(heldFlatten(harness.state, ACCOUNT, 'f-1', harness.nowMs)).toBeNull()
    const last = flatten(harness, 'f-1', 2)
    expect(last.events[0]?.type).toBe('account.flatten_requested')
    expect(orderIdsOf(last.events)).toEqual(orderIds.slice(4))
    // The close takes the whole 2 BTC: the sells canceled by the earlier parts released theirs.
    expect(last.events.filter((event) => event.type === 'order.accepted')).toMatchObject([{ symbol: 'AAPL' }, { side: 'sell', symbol: 'BTC-USD', qty: d('2') }])
    const requested = last.events[0] as EventOf<'account.flatten_requested'>
    expect(requested.records).toBe(last.events.length)
    for (const orderId of orderIds) expect(harness.order(orderId).status === 'Canceled' || harness.order(orderId).cancelWanted).toBe(true)
    // Its lsn, the last record of the last part, is the first answer; a repeat decides nothing.
    const lastLsn = harness.state.lastLsn
    expect(heldFlatten(harness.state, ACCOUNT, 'f-1', harness.nowMs)?.lsn).toBe(lastLsn)
    const repeat = flatten(harness, 'f-1', 2)
    expect(repeat).toEqual({ events: [], reply: { kind: 'flatten_repeat', lsn: lastLsn, notClosed: [] } })
  })

  test('decides what one decision decides, in the same order', () => {
    const parts = Harness.funded()
    withOrders(parts)
    const whole = Harness.funded()
    withOrders(whole)
    for (let part = 0; part < 3; part++) flatten(parts, 'f-1', 2)
    const lastLsn = whole.state.lastLsn
    flatten(whole, 'f-1')
    expect(parts.log.slice(lastLsn).filter((event) => event.type !== 'account.flatten_requested')).toEqual(whole.log.slice(lastLsn).filter((event) => event.type !== 'account.flatten_requested'))
    expect(parts.state.flattens).toEqual(new Map([[ACCOUNT, new Map([['f-1', { lsn: parts.state.lastLsn, notClosed: [], decidedAtMs: T0 }]])]]))
  })

  test('a flatten that fits one decision is decided in it, as before', () => {
    const harness = Harness.funded()
    withOrders(harness)
    const decision = flatten(harness, 'f-1', 5)
    expect(harness.eventTypes(decision)[0]).toBe('account.flatten_requested')
    expect(orderIdsOf(decision.events)).toHaveLength(5)
  })

  test('a close past what a record holds refuses the flatten at its first part: not even the cancels are recorded', () => {
    const harness = Harness.funded()
    withOrders(harness)
    harness.run({ kind: 'fund', nowMs: T0, principalId: 'config', accountId: ACCOUNT, asset: 'BTC', amount: RECORD_UNITS_MAX, reference: 'top-up' })
    const lastLsn = harness.state.lastLsn
    const decision = flatten(harness, 'f-1', 2)
    expect(decision).toMatchObject({ events: [], reply: { kind: 'refused', reason: 'FLATTEN_POSITION_UNRECORDABLE' } })
    expect(harness.state.lastLsn).toBe(lastLsn)
  })
})
