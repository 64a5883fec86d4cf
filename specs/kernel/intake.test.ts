import { describe, expect, test } from 'bun:test'
import { GUARD_NAMES } from '../../src/domain/guards.ts'
import type { EventOf } from '../../src/domain/events/index.ts'
import { ACCOUNT, admin, config, d, Harness, market, ops, policy, T0, trader } from './fixtures.ts'

function rejection(harness: Harness, overrides: Record<string, unknown> = {}, command: Parameters<Harness['place']>[1] = {}) {
  const decision = harness.place(overrides, command)
  expect(decision.reply.kind).toBe('rejected')
  const event = decision.events[0] as EventOf<'order.rejected'>
  expect(event.type).toBe('order.rejected')
  return event
}

describe('intake guards', () => {
  test('a valid limit order is accepted with the rounded order, the reservation, the lane and all seven guards passed', () => {
    const harness = Harness.funded()
    const decision = harness.place({ qty: '0.12345', price: '50000.005' })
    expect(decision.reply).toEqual({ kind: 'accepted', orderId: expect.any(String), duplicate: false })
    const event = decision.events[0] as EventOf<'order.accepted'>
    expect(event.qty).toBe(d('0.1234'))
    expect(event.price).toBe(d('50000'))
    expect(event.lane).toBe(2)
    expect(event.venueClientOrderId).toBe(`eg-${event.orderId}`)
    expect(event.decision.guards.map((g) => g.guard)).toEqual([...GUARD_NAMES])
    expect(event.decision.guards.every((g) => g.outcome === 'pass')).toBe(true)
    // Reservation of the order as sent: 0.1234 × 50000, plus 10 bps fee allowance.
    expect(event.reservationAsset).toBe('USD')
    expect(event.reservationAmount).toBe(d('6170') + d('6.17'))
    expect(harness.order(event.orderId).status).toBe('Enqueued')
  })

  test('the body names its time in force `tif` (issue 4); the old name `time_in_force` is an unknown field', () => {
    const harness = Harness.funded()
    const event = harness.place({ client_order_id: 'tif-1', tif: 'IOC' }).events[0] as EventOf<'order.accepted'>
    expect(event.tif).toBe('IOC')
    expect(rejection(harness, { client_order_id: 'tif-2', time_in_force: 'IOC' }).reason).toBe('SYNTAX_INVALID')
    expect((harness.place({ client_order_id: 'tif-3' }).events[0] as EventOf<'order.accepted'>).tif).toBe('GTC')
  })

  test('a sell rounds its price up to the tick and reserves the base position', () => {
    const harness = Harness.funded()
    const event = harness.place({ side: 'sell', price: '50000.001' }).events[0] as EventOf<'order.accepted'>
    expect(event.price).toBe(d('50000.01'))
    expect(event.reservationAsset).toBe('BTC')
    expect(event.reservationAmount).toBe(d('0.1'))
    expect(harness.reserved('BTC')).toBe(d('0.1'))
  })

  const cases: [string, string, Record<string, unknown>, Parameters<Harness['place']>[1]][] = [
    ['syntax', 'SYNTAX_INVALID', { qty: 0.1 }, {}],
    ['syntax', 'SYNTAX_INVALID', { unexpected: true }, {}],
    ['syntax', 'SYNTAX_INVALID', { type: 'market' }, {}],
    ['syntax', 'IDEMPOTENCY_KEY_MISSING', { client_order_id: undefined }, {}],
    ['policy', 'PERMISSION_DENIED', {}, { principal: { ...trader, roles: ['auditor'] } }],
    ['policy', 'ACCOUNT_NOT_PERMITTED', { account: 'acct-2' }, {}],
    ['policy', 'INSTRUMENT_UNKNOWN', { symbol: 'DOGE-USD' }, {}],
    ['policy', 'MARKET_ORDERS_DISABLED', { type: 'market', price: undefined }, {}],
    ['policy', 'ORDER_NOTIONAL_LIMIT', { qty: '30', price: '50000' }, {}],
    ['data_health', 'DATA_MISSING', {}, { market: null }],
    ['data_health', 'DATA_STALE', {}, { market: market('50000', { observedAtMs: T0 - 60_000 }) }],
    ['data_health', 'DATA_JUMP', {}, { market: market('50000', { previousPrice: d('40000') }) }],
    ['data_health', 'PRICE_BAND', { price: '60000' }, {}],
    ['reservation', 'INSUFFICIENT_FUNDS', { qty: '3', price: '50000' }, {}],
    ['reservation', 'INSUFFICIENT_POSITION', { side: 'sell', qty: '3' }, {}],
    ['reservation', 'REDUCE_ONLY_WOULD_INCREASE', { reduce_only: true }, {}],
    ['capability', 'POST_ONLY_UNSUPPORTED', { post_only: true, tif: 'IOC' }, {}],
    ['capability', 'QTY_BELOW_MIN', { qty: '0.00005' }, {}],
    ['capability', 'NOTIONAL_BELOW_MIN', { qty: '0.0001', price: '50000' }, {}],
  ]
  for (const [guard, reason, overrides, command] of cases) {
    test(`${guard} guard rejects with ${reason} (${JSON.stringify(overrides)})`, () => {
      const harness = Harness.funded()
      const event = rejection(harness, overrides, command)
      expect(event.reason).toBe(reason as typeof event.reason)
      expect(event.guard).toBe(guard)
      const records = event.decision.guards
      expect(records.at(-1)).toMatchObject({ guard, outcome: 'fail', reason })
      expect(records.map((r) => r.guard)).toEqual(GUARD_NAMES.slice(0, GUARD_NAMES.indexOf(guard as (typeof GUARD_NAMES)[number]) + 1))
      expect(harness.state.orders.size).toBe(0)
    })
  }

  test('a missing policy denies', () => {
    const harness = Harness.funded({ config: config({ policies: [] }) })
    expect(rejection(harness).reason).toBe('POLICY_MISSING')
  })

  test('an expired policy denies', () => {
    const harness = Harness.funded({ config: config({ policies: [policy({ validUntilMs: T0 - 1 })] }) })
    expect(rejection(harness).reason).toBe('POLICY_EXPIRED')
  })

  test('a symbol missing from the policy is refused', () => {
    const harness = Harness.funded({ config: config({ policies: [policy({ instruments: ['sim:ETH-USD'] })] }) })
    expect(rejection(harness).reason).toBe('SYMBOL_NOT_ALLOWED')
  })

  test('the open-orders limit of the policy is enforced', () => {
    const harness = Harness.funded({ config: config({ policies: [policy({ maxOpenOrders: 1 })] }) })
    harness.placedId({ client_order_id: 'a', qty: '0.01' })
    expect(rejection(harness, { client_order_id: 'b', qty: '0.01' }).reason).toBe('OPEN_ORDERS_LIMIT')
  })

  test('market orders are accepted only when enabled for the account and instrument, reserving at the band edge', () => {
    const harness = Harness.funded({ config: config({ policies: [policy({ marketOrderInstruments: ['sim:BTC-USD'] })] }) })
    const event = harness.place({ type: 'market', price: undefined, qty: '0.1' }).events[0] as EventOf<'order.accepted'>
    expect(event.type).toBe('order.accepted')
    expect(event.price).toBeNull()
    // 0.1 × 50000 × 1.05 = 5250, plus 10 bps.
    expect(event.reservationAmount).toBe(d('5250') + d('5.25'))
  })

  test('the guard order is fixed: a body failing both policy and data health reports policy', () => {
    const harness = Harness.funded()
    const event = rejection(harness, { account: 'acct-2' }, { market: null })
    expect(event.reason).toBe('ACCOUNT_NOT_PERMITTED')
    expect(event.decision.guards.map((g) => g.guard)).toEqual(['syntax', 'policy'])
  })

  test('the guard order is fixed: data health is reported before insufficient funds and capability', () => {
    const harness = Harness.funded()
    expect(rejection(harness, { qty: '3', post_only: true, tif: 'FOK' }, { market: null }).reason).toBe('DATA_MISSING')
    expect(rejection(harness, { qty: '3', post_only: true, tif: 'FOK' }).reason).toBe('INSUFFICIENT_FUNDS')
  })

  test('a reduce-only sell goes to Lane1', () => {
    const harness = Harness.funded()
    const event = harness.place({ side: 'sell', reduce_only: true }).events[0] as EventOf<'order.accepted'>
    expect(event.lane).toBe(1)
  })

  test('an equity rounds its quantity down to whole shares', () => {
    const harness = Harness.funded()
    const event = harness.place({ symbol: 'AAPL', qty: '2.7', price: '190' }, { market: market('190') }).events[0] as EventOf<'order.accepted'>
    expect(event.qty).toBe(d('2'))
  })

  test('a full lane sheds new orders with LANE_FULL but a cancel is still accepted', () => {
    const harness = Harness.funded({ config: config({ params: { lane2DepthMax: 2 } }) })
    const first = harness.placedId({ client_order_id: 'a', qty: '0.01' })
    harness.placedId({ client_order_id: 'b', qty: '0.01' })
    expect(rejection(harness, { client_order_id: 'c', qty: '0.01' }).reason).toBe('LANE_FULL')
    expect(harness.cancel(first).reply).toEqual({ kind: 'done' })
    expect(harness.order(first).status).toBe('Canceled')
  })

  test('live mode requires the live prerequisites in order: config digest, permission, readiness', () => {
    const harness = Harness.funded()
    harness.run({ kind: 'set_mode', nowMs: T0, principal: admin, mode: 'live', note: 'go live' })
    expect(rejection(harness, { client_order_id: 'a' }, { configDigest: 'other' }).reason).toBe('CONFIG_DIGEST_MISMATCH')
    expect(rejection(harness, { client_order_id: 'b' }, { principal: { ...trader, liveAllowed: false } }).reason).toBe('LIVE_NOT_PERMITTED')
    const notLeader = { credentialPresent: true, environmentLive: true, haLeader: false }
    expect(rejection(harness, { client_order_id: 'c' }, { live: notLeader }).reason).toBe('LIVE_NOT_READY')
    expect(harness.place({ client_order_id: 'd' }).reply.kind).toBe('accepted')
  })

  test('the mode defaults to paper', () => {
    expect(Harness.funded().state.mode).toBe('paper')
  })

  test('the decision record carries principal, config digest and build commit', () => {
    const harness = Harness.funded()
    const event = harness.place().events[0] as EventOf<'order.accepted'>
    expect(event.decision).toMatchObject({ principalId: 'alice', configDigest: 'cfg-1', buildCommit: 'test', nowMs: T0 })
    expect(event.accountId).toBe(ACCOUNT)
  })
})
