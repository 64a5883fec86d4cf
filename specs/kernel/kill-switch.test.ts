import { describe, expect, test } from 'bun:test'
import type { EventOf } from '../../src/domain/events/index.ts'
import { ACCOUNT, d, Harness, market, ops, report, T0, trader } from './fixtures.ts'

function killSwitch(harness: Harness, action: 'HALT' | 'CANCEL_ONLY' | 'RESUME') {
  return harness.run({ kind: 'kill_switch', nowMs: T0, principal: ops, action, note: 'test' })
}

describe('kill switches', () => {
  test('HALT refuses new orders at intake and ends queued ones (kill-switch-queued-place.test.ts), but cancels still go', () => {
    const harness = Harness.funded()
    const queued = harness.placedId({ client_order_id: 'q', qty: '0.01' })
    const open = harness.openOrder({ client_order_id: 'o', qty: '0.01' })
    harness.cancel(open)
    killSwitch(harness, 'HALT')
    expect(harness.state.tradingSwitch).toBe('halted')
    expect(harness.order(queued)).toMatchObject({ status: 'Canceled', lastReason: 'KILL_SWITCH_HALT' })
    expect(harness.place({ client_order_id: 'n' }).reply).toMatchObject({ kind: 'rejected', reason: 'MODE_HALTED', guard: 'mode' })
    expect(harness.next()).toMatchObject({ kind: 'cancel', orderId: open })
  })

  test('CANCEL_ONLY refuses new orders; RESUME lets them flow again', () => {
    const harness = Harness.funded()
    killSwitch(harness, 'CANCEL_ONLY')
    expect(harness.place().reply).toMatchObject({ kind: 'rejected', reason: 'MODE_CANCEL_ONLY' })
    killSwitch(harness, 'RESUME')
    expect(harness.place({ client_order_id: 'c2' }).reply.kind).toBe('accepted')
  })

  test('only operators may pull a kill switch', () => {
    const harness = Harness.funded()
    const decision = harness.run({ kind: 'kill_switch', nowMs: T0, principal: trader, action: 'HALT', note: '' })
    expect(decision).toEqual({ events: [], reply: { kind: 'refused', reason: 'PERMISSION_DENIED', detail: 'kill switches need ops or admin' } })
  })

  test('flatten cancels every open order and closes positions with reduce-only Lane0 sells, even under HALT', () => {
    const harness = Harness.funded()
    const queued = harness.placedId({ client_order_id: 'q', qty: '0.01' })
    const open = harness.openOrder({ client_order_id: 'o', side: 'sell', qty: '0.5', price: '50500' })
    killSwitch(harness, 'HALT')
    const decision = harness.run({
      kind: 'flatten',
      nowMs: T0,
      principal: ops,
      accountId: ACCOUNT,
      flattenId: 'f-1',
      markets: { 'sim:BTC-USD': market('50000'), 'sim:AAPL': market('190') },
    })
    expect(harness.order(queued).status).toBe('Canceled')
    expect(harness.order(open).status).toBe('CancelRequested')
    const closes = decision.events.filter((e): e is EventOf<'order.accepted'> => e.type === 'order.accepted')
    expect(closes.map((c) => [c.symbol, c.side, c.lane, c.reduceOnly, c.tif])).toEqual([
      ['AAPL', 'sell', 0, true, 'IOC'],
      ['BTC-USD', 'sell', 0, true, 'IOC'],
    ])
    // 2 BTC held, 0.5 reserved by the open sell being canceled: 1.5 closes now.
    expect(closes[1]?.qty).toBe(d('1.5'))
    expect(closes[1]?.price).toBe(d('47500'))
    // Lane0 work under HALT: the cancel first, then the closes.
    expect(harness.next()).toMatchObject({ lane: 0 })
    const repeat = harness.run({ kind: 'flatten', nowMs: T0, principal: ops, accountId: ACCOUNT, flattenId: 'f-1', markets: { 'sim:BTC-USD': market('50000') } })
    expect(repeat.events.filter((e) => e.type === 'order.accepted')).toEqual([])
  })

  test('flatten without a price for a position raises FLATTEN_NO_PRICE', () => {
    const harness = Harness.funded()
    const decision = harness.run({ kind: 'flatten', nowMs: T0, principal: ops, accountId: ACCOUNT, flattenId: 'f-2', markets: {} })
    expect(decision.events.filter((e) => e.type === 'alert.raised').map((e) => (e as EventOf<'alert.raised'>).reason)).toEqual([
      'FLATTEN_NO_PRICE',
      'FLATTEN_NO_PRICE',
    ])
  })

  test('CANCEL_ONLY holds even the flatten closes; cancels still go', () => {
    const harness = Harness.funded()
    const open = harness.openOrder({ client_order_id: 'o', qty: '0.01' })
    killSwitch(harness, 'CANCEL_ONLY')
    harness.run({ kind: 'flatten', nowMs: T0, principal: ops, accountId: ACCOUNT, flattenId: 'f-3', markets: { 'sim:BTC-USD': market('50000') } })
    expect(harness.next()).toMatchObject({ kind: 'cancel', orderId: open })
    harness.send(open, 'cancel')
    harness.cancelResult(open, { kind: 'ok', value: { accepted: true } })
    harness.report(report(harness.order(open), { execId: 'c', kind: 'canceled' }))
    expect(harness.next()).toBeNull()
  })
})

describe("a flatten close's decision record", () => {
  test('names the build that decided it; a command without one (recorded by an older leader) decides it with an empty build, as before', () => {
    const command = { kind: 'flatten' as const, nowMs: T0, principal: ops, accountId: ACCOUNT, flattenId: 'f-b', markets: { 'sim:BTC-USD': market('50000') } }
    const buildOf = (decision: { events: readonly { type: string }[] }): string[] =>
      decision.events.filter((e): e is EventOf<'order.accepted'> => e.type === 'order.accepted').map((close) => close.decision.buildCommit)
    expect(buildOf(Harness.funded().run({ ...command, buildCommit: 'abc123' }))).toEqual(['abc123'])
    expect(buildOf(Harness.funded().run(command))).toEqual([''])
  })
})
