/**
 * A flatten's closes follow the instrument's size rules (src/kernel/flatten-close-sizes.ts). It sent one close for the
 * whole holding and never read maxQty: 150 BTC on the sim's BTC-USD (maxQty 100) went out as one close of 150, which
 * the venue refuses, so the position stayed open. And a holding below minQty (0.5 AAPL, minQty 1) got no close, no
 * alert, and an empty not_closed: the operator was told the account was flat. Now a holding above maxQty is closed in
 * several closes of at most maxQty each, each its own order under its own idempotency key, and what cannot be closed
 * is named in the answer's not_closed with the rule it misses and raises FLATTEN_NOT_CLOSED.
 */

import { describe, expect, test } from 'bun:test'
import type { DomainEvent, EventOf } from '../../src/domain/events/index.ts'
import type { KernelConfig } from '../../src/domain/kernel-config.ts'
import { FLATTEN_CLOSES_PER_INSTRUMENT_MAX, heldFlatten } from '../../src/kernel/index.ts'
import { ACCOUNT, config, d, Harness, market, ops, T0 } from './fixtures.ts'

const MARKETS = { 'sim:BTC-USD': market('50000'), 'sim:AAPL': market('190') }

function flatten(h: Harness, flattenId: string, options: { ordersMax?: number; markets?: typeof MARKETS } = {}) {
  return h.run({ kind: 'flatten', nowMs: h.nowMs, principal: ops, accountId: ACCOUNT, flattenId, markets: options.markets ?? MARKETS, ...(options.ordersMax === undefined ? {} : { ordersMax: options.ordersMax }) })
}

function fund(h: Harness, asset: string, amount: string): void {
  h.run({ kind: 'fund', nowMs: T0, principalId: 'config', accountId: ACCOUNT, asset, amount: d(amount), reference: 'spec' })
}

function closesOf(events: readonly DomainEvent[], symbol: string): EventOf<'order.accepted'>[] {
  return events.filter((event): event is EventOf<'order.accepted'> => event.type === 'order.accepted' && event.symbol === symbol)
}

function requestedOf(events: readonly DomainEvent[]): EventOf<'account.flatten_requested'> {
  const requested = events.find((event) => event.type === 'account.flatten_requested')
  if (requested?.type !== 'account.flatten_requested') throw new Error('no account.flatten_requested')
  return requested
}

/** The sim instruments with AAPL's sizes changed. */
function withAapl(sizes: { maxQty: string; minQty: string }): KernelConfig {
  const base = config()
  return { ...base, instruments: base.instruments.map((item) => (item.symbol === 'AAPL' ? { ...item, maxQty: d(sizes.maxQty), minQty: d(sizes.minQty) } : item)) }
}

describe('a holding above the instrument maxQty', () => {
  test('150 BTC (maxQty 100) is closed by a close of 100 and one of 50, each its own order and key', () => {
    const h = Harness.funded()
    fund(h, 'BTC', '148')
    const decision = flatten(h, 'f-1')
    const closes = closesOf(decision.events, 'BTC-USD')
    expect(closes.map((close) => close.qty)).toEqual([d('100'), d('50')])
    // The first keeps the key and order id a single close always had; the second is named after it.
    expect(closes.map((close) => close.idempotencyKey)).toEqual(['flatten:f-1:sim:BTC-USD', 'flatten:f-1:sim:BTC-USD#2'])
    expect(new Set(closes.map((close) => close.orderId)).size).toBe(2)
    expect(new Set(closes.map((close) => close.venueClientOrderId)).size).toBe(2)
    expect(h.reserved('BTC')).toBe(d('150'))
    expect(requestedOf(decision.events).notClosed).toEqual([])
    expect(decision.events.some((event) => event.type === 'alert.raised')).toBe(false)
  })

  test('a remainder under the minimum notional takes what it lacks from the close before it', () => {
    // 100.0001 BTC at a close price of 47 500: 0.0001 is 4.75 USD, under the minimum notional of 10.
    const h = Harness.funded()
    fund(h, 'BTC', '98.0001')
    const closes = closesOf(flatten(h, 'f-1').events, 'BTC-USD')
    expect(closes.map((close) => close.qty)).toEqual([d('99.9998'), d('0.0003')])
  })

  test('a remainder the close before it cannot lend to is named in not_closed (QTY_BELOW_MIN) and alerted', () => {
    const h = Harness.funded({ config: withAapl({ maxQty: '10', minQty: '6' }) })
    fund(h, 'AAPL', '-39') // 11 AAPL: 10 + 1, and 5 + 6 would take the first close under its minimum
    const decision = flatten(h, 'f-1')
    expect(closesOf(decision.events, 'AAPL').map((close) => close.qty)).toEqual([d('10')])
    expect(requestedOf(decision.events).notClosed).toEqual([{ asset: 'AAPL', qty: d('1'), reason: 'QTY_BELOW_MIN' }])
    expect(decision.events.filter((event) => event.type === 'alert.raised')).toMatchObject([{ reason: 'FLATTEN_NOT_CLOSED', detail: expect.stringContaining('acct-1 sim:AAPL: 1 not closed (QTY_BELOW_MIN') }])
  })

  test('where both can meet the minimum, the closes are balanced: 15 AAPL as 9 and 6', () => {
    const h = Harness.funded({ config: withAapl({ maxQty: '10', minQty: '6' }) })
    fund(h, 'AAPL', '-35')
    const decision = flatten(h, 'f-1')
    expect(closesOf(decision.events, 'AAPL').map((close) => close.qty)).toEqual([d('9'), d('6')])
    expect(requestedOf(decision.events).notClosed).toEqual([])
  })

  test(`at most ${FLATTEN_CLOSES_PER_INSTRUMENT_MAX} closes per instrument: the rest is named (FLATTEN_CLOSES_MAX) and a new flatten closes it`, () => {
    const h = Harness.funded({ config: withAapl({ maxQty: '1', minQty: '1' }) })
    fund(h, 'AAPL', String(FLATTEN_CLOSES_PER_INSTRUMENT_MAX + 2 - 50))
    const first = flatten(h, 'f-1')
    expect(closesOf(first.events, 'AAPL')).toHaveLength(FLATTEN_CLOSES_PER_INSTRUMENT_MAX)
    expect(requestedOf(first.events).notClosed).toEqual([{ asset: 'AAPL', qty: d('2'), reason: 'FLATTEN_CLOSES_MAX' }])
    const second = flatten(h, 'f-2')
    expect(closesOf(second.events, 'AAPL').map((close) => close.qty)).toEqual([d('1'), d('1')])
  })

  test('closes past the first of each instrument count against ordersMax when decided in parts', () => {
    const h = Harness.funded()
    fund(h, 'BTC', '448') // 450 BTC: five closes of at most 100
    const decision = flatten(h, 'f-1', { ordersMax: 3 })
    // AAPL's one close (by instrument key), then BTC-USD's first and three more: the three past a first are ordersMax.
    expect(closesOf(decision.events, 'AAPL')).toHaveLength(1)
    expect(closesOf(decision.events, 'BTC-USD').map((close) => close.qty)).toEqual([d('100'), d('100'), d('100'), d('100')])
    expect(requestedOf(decision.events).notClosed).toEqual([{ asset: 'BTC', qty: d('50'), reason: 'FLATTEN_CLOSES_MAX' }])
  })
})

describe('a holding the instrument size rules cannot close', () => {
  test('0.5 AAPL (minQty 1) is named in not_closed with QTY_BELOW_MIN and raises FLATTEN_NOT_CLOSED', () => {
    const h = Harness.funded()
    fund(h, 'AAPL', '-49.5')
    const decision = flatten(h, 'f-1')
    expect(closesOf(decision.events, 'AAPL')).toEqual([])
    expect(closesOf(decision.events, 'BTC-USD')).toHaveLength(1)
    expect(requestedOf(decision.events).notClosed).toEqual([{ asset: 'AAPL', qty: d('0.5'), reason: 'QTY_BELOW_MIN' }])
    expect(decision.events.filter((event) => event.type === 'alert.raised')).toMatchObject([{ reason: 'FLATTEN_NOT_CLOSED', orderId: null, detail: expect.stringContaining('acct-1 sim:AAPL: 0.5 not closed (QTY_BELOW_MIN') }])
    // The repeat answers the same, byte for byte.
    expect(flatten(h, 'f-1').reply).toEqual({ kind: 'flatten_repeat', lsn: h.state.lastLsn, notClosed: [{ asset: 'AAPL', qty: d('0.5'), reason: 'QTY_BELOW_MIN' }] })
  })

  test('what is left under the lot after the closes is named too', () => {
    const h = Harness.funded()
    fund(h, 'BTC', '0.00005') // 2.00005 BTC, lot 0.0001
    const decision = flatten(h, 'f-1')
    expect(closesOf(decision.events, 'BTC-USD').map((close) => close.qty)).toEqual([d('2')])
    expect(requestedOf(decision.events).notClosed).toEqual([{ asset: 'BTC', qty: d('0.00005'), reason: 'QTY_BELOW_MIN' }])
  })

  test('a holding under the minimum notional is named with NOTIONAL_BELOW_MIN', () => {
    const h = Harness.funded()
    fund(h, 'BTC', '-1.9999') // 0.0001 BTC: 4.75 USD at the close price
    expect(requestedOf(flatten(h, 'f-1').events).notClosed).toEqual([{ asset: 'BTC', qty: d('0.0001'), reason: 'NOTIONAL_BELOW_MIN' }])
  })

  test('a holding without a reference price is named with FLATTEN_NO_PRICE beside its alert', () => {
    const h = Harness.funded()
    const decision = flatten(h, 'f-1', { markets: { 'sim:BTC-USD': market('50000') } as typeof MARKETS })
    expect(requestedOf(decision.events).notClosed).toEqual([{ asset: 'AAPL', qty: d('50'), reason: 'FLATTEN_NO_PRICE' }])
    expect(decision.events.filter((event) => event.type === 'alert.raised')).toMatchObject([{ reason: 'FLATTEN_NO_PRICE' }])
  })
})

describe('a flatten decided again', () => {
  test('never sends a second close under a key still held, the second and later closes included', () => {
    const h = Harness.funded()
    fund(h, 'BTC', '148')
    const first = flatten(h, 'f-1')
    // The closes end unfilled (IOC), which frees the 150 BTC, and the answer is no longer held (as past the bound).
    for (const close of closesOf(first.events, 'BTC-USD')) {
      h.cancel(close.orderId)
    }
    h.state.flattens.get(ACCOUNT)?.delete('f-1')
    expect(heldFlatten(h.state, ACCOUNT, 'f-1', h.nowMs)).toBeNull()
    expect(h.reserved('BTC')).toBe(0n)
    const again = flatten(h, 'f-1')
    expect(again.events[0]?.type).toBe('account.flatten_requested')
    expect(closesOf(again.events, 'BTC-USD')).toEqual([])
  })

  test('names what the closes it does not send leave open (FLATTEN_CLOSES_MAX), and counts only the closes sent', () => {
    const h = Harness.funded()
    fund(h, 'BTC', '148')
    for (const close of closesOf(flatten(h, 'f-1').events, 'BTC-USD')) h.cancel(close.orderId)
    fund(h, 'BTC', '100') // 250 BTC: closes of 100, 100 and 50, the first two under the keys the first decision took
    h.state.flattens.get(ACCOUNT)?.delete('f-1')
    const again = flatten(h, 'f-1')
    const closes = closesOf(again.events, 'BTC-USD')
    expect(closes.map((close) => [close.idempotencyKey, close.qty])).toEqual([['flatten:f-1:sim:BTC-USD#3', d('50')]])
    // Before, the answer read the account as flat and no alert was raised, while 200 BTC stayed open.
    expect(requestedOf(again.events).notClosed).toEqual([{ asset: 'BTC', qty: d('200'), reason: 'FLATTEN_CLOSES_MAX' }])
    const alerts = again.events.flatMap((event) => (event.type === 'alert.raised' ? [`${event.reason} ${event.detail}`] : []))
    expect(alerts).toHaveLength(1)
    expect(alerts[0]).toStartWith('FLATTEN_NOT_CLOSED acct-1 sim:BTC-USD: 200 not closed (FLATTEN_CLOSES_MAX; ')
    expect(alerts[0]).toEndWith('; 1 closes sent)')
    // A new flatten closes the rest.
    expect(closesOf(flatten(h, 'f-2').events, 'BTC-USD').map((close) => close.qty)).toEqual([d('100'), d('100')])
  })

  test('names the closes it does not send apart from what the sizes leave: a new flatten closes only the first', () => {
    const h = Harness.funded()
    fund(h, 'BTC', '148')
    for (const close of closesOf(flatten(h, 'f-1').events, 'BTC-USD')) h.cancel(close.orderId)
    fund(h, 'BTC', '0.00005') // under the lot (0.0001): no close takes it
    h.state.flattens.get(ACCOUNT)?.delete('f-1')
    const again = flatten(h, 'f-1')
    expect(closesOf(again.events, 'BTC-USD')).toEqual([])
    // Was one entry, 150.00005 FLATTEN_CLOSES_MAX: the answer said a new flatten closes the part under the lot too.
    expect(requestedOf(again.events).notClosed).toEqual([
      { asset: 'BTC', qty: d('0.00005'), reason: 'QTY_BELOW_MIN' },
      { asset: 'BTC', qty: d('150'), reason: 'FLATTEN_CLOSES_MAX' },
    ])
    const alerts = again.events.flatMap((event) => (event.type === 'alert.raised' ? [`${event.reason} ${event.detail}`] : []))
    expect(alerts).toHaveLength(1)
    expect(alerts[0]).toStartWith('FLATTEN_NOT_CLOSED acct-1 sim:BTC-USD: 150.00005 not closed (QTY_BELOW_MIN 0.00005, FLATTEN_CLOSES_MAX 150; ')
    // A new flatten closes the 150 and leaves what is under the lot, as the answer said.
    const next = flatten(h, 'f-2')
    expect(closesOf(next.events, 'BTC-USD').map((close) => close.qty)).toEqual([d('100'), d('50')])
    expect(requestedOf(next.events).notClosed).toEqual([{ asset: 'BTC', qty: d('0.00005'), reason: 'QTY_BELOW_MIN' }])
  })

  test('never closes again what a live close of its first decision holds: only what is free is sized', () => {
    const h = Harness.funded()
    fund(h, 'BTC', '148')
    const [first, second] = closesOf(flatten(h, 'f-1').events, 'BTC-USD')
    h.cancel(first?.orderId as string) // the close of 100 ends unfilled; the close of 50 is live
    h.state.flattens.get(ACCOUNT)?.delete('f-1')
    const again = flatten(h, 'f-1')
    // The 100 freed would take the first close's key, still held: not sent, and named.
    expect(closesOf(again.events, 'BTC-USD')).toEqual([])
    expect(requestedOf(again.events).notClosed).toEqual([{ asset: 'BTC', qty: d('100'), reason: 'FLATTEN_CLOSES_MAX' }])
    expect(h.order(second?.orderId as string).status).not.toBe('Canceled')
    expect(h.reserved('BTC')).toBe(d('50'))
  })

  test('past the key window, with the first close retired and its key forgotten, closes only what the live close leaves', () => {
    const h = Harness.funded({ config: config({ params: { terminalOrdersKeptMax: 1 } }) })
    fund(h, 'BTC', '148')
    const [first, second] = closesOf(flatten(h, 'f-1').events, 'BTC-USD')
    h.cancel(first?.orderId as string)
    // A day and two hours later another order ends: the first close is retired, and its key, aged, forgotten.
    h.nowMs += 26 * 3_600_000
    h.cancel(h.placedId({ side: 'sell', qty: '0.001', price: '51000', client_order_id: 'c-late' }, { market: market('50000', { observedAtMs: h.nowMs }) }))
    expect(h.state.orders.has(first?.orderId as string)).toBe(false)
    expect(h.state.idempotency.has(`${ACCOUNT} flatten:f-1:sim:BTC-USD`)).toBe(false)
    expect(heldFlatten(h.state, ACCOUNT, 'f-1', h.nowMs)).toBeNull()
    const again = flatten(h, 'f-1')
    const closes = closesOf(again.events, 'BTC-USD')
    // One close of the 100 freed, a new order under the span's id; the live close of 50 is not closed a second time.
    expect(closes.map((close) => [close.idempotencyKey, close.qty])).toEqual([['flatten:f-1:sim:BTC-USD', d('100')]])
    expect(closes[0]?.orderId).not.toBe(first?.orderId)
    expect(requestedOf(again.events).notClosed).toEqual([])
    expect(h.order(second?.orderId as string).reservation.remaining).toBe(d('50'))
    expect(h.reserved('BTC')).toBe(h.balance('BTC'))
  })
})
