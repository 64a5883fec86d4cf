/**
 * Retirement of terminal orders (src/kernel/retention.ts) at the kernel level: an order that ended is retired only
 * after params.terminalOrderRetireAfterMs of event time, so a fill the venue reports after it confirmed a cancel is
 * still booked (review finding 2); a busy terminal order is skipped instead of holding up every retirement behind it
 * (finding 7); a `kernel.configured` record without the grace keeps the rule its log was decided with.
 */

import { describe, expect, test } from 'bun:test'
import { defaultKernelParams, type KernelParams } from '../../src/domain/kernel-config.ts'
import { applyInPlace, initialState, stateDigest } from '../../src/kernel/index.ts'
import { config, d, Harness, report } from './fixtures.ts'

const HOUR_MS = 3_600_000

/** Order a: cancel confirmed by the venue (Canceled); then order b ends (cancelled before any send). */
function canceledThenAnother(params: Partial<KernelParams>, advanceMs = 0): { harness: Harness; a: string; b: string } {
  const harness = Harness.funded({ config: config({ params }) })
  const a = harness.openOrder({ client_order_id: 'a' })
  harness.cancel(a)
  harness.send(a, 'cancel')
  harness.cancelResult(a, { kind: 'ok', value: { accepted: true } })
  harness.report(report(harness.order(a), { execId: 'c1', kind: 'canceled', cumQty: 0n }))
  expect(harness.order(a).status).toBe('Canceled')
  const b = harness.placedId({ client_order_id: 'b' })
  harness.nowMs += advanceMs
  harness.cancel(b)
  return { harness, a, b }
}

function lateFill(harness: Harness, orderId: string) {
  return harness.report(report(harness.order(orderId), { execId: 'f-late', kind: 'fill', lastQty: d('0.05'), lastPrice: d('50000'), cumQty: d('0.05'), fee: d('0'), feeAsset: 'USD' }))
}

describe('terminal order retirement', () => {
  test('the default grace is an hour', () => {
    expect(defaultKernelParams().terminalOrderRetireAfterMs).toBe(HOUR_MS)
  })

  test('a late fill after a confirmed cancel is booked even with a bound of 1: the order is kept within the grace', () => {
    const { harness, a } = canceledThenAnother({ terminalOrdersKeptMax: 1 }, 60_000)
    expect(harness.state.orders.has(a)).toBe(true)
    const btc = harness.balance('BTC')
    const late = lateFill(harness, a)
    expect(late.events.map((event) => event.type)).toContain('order.fill')
    expect(late.events.map((event) => event.type)).not.toContain('alert.raised')
    expect(harness.balance('BTC')).toBe(btc + d('0.05'))
  })

  test('once the grace has passed in event time the order is retired when another order event is applied', () => {
    const { harness, a, b } = canceledThenAnother({ terminalOrdersKeptMax: 1, terminalOrderRetireAfterMs: 1_000 }, 1_000)
    expect(harness.state.orders.has(a)).toBe(false)
    expect(harness.state.orders.has(b)).toBe(true)
    expect(harness.state.terminalOrderIds.size).toBe(1)
  })

  test('a busy terminal order is skipped, not a stop: the idle ones behind it retire; it retires once idle', () => {
    const harness = Harness.funded({ config: config({ params: { terminalOrdersKeptMax: 1, terminalOrderRetireAfterMs: 0 } }) })
    const a = harness.openOrder({ client_order_id: 'a' })
    harness.cancel(a)
    harness.send(a, 'cancel')
    // The venue reports the cancel before the cancel call returns: Canceled with its call still in flight.
    harness.report(report(harness.order(a), { execId: 'c1', kind: 'canceled', cumQty: 0n }))
    expect(harness.order(a).status).toBe('Canceled')
    expect(harness.state.inFlight.has(a)).toBe(true)
    const b = harness.placedId({ client_order_id: 'b' })
    harness.cancel(b)
    expect(harness.state.orders.has(a)).toBe(true)
    expect(harness.state.orders.has(b)).toBe(false)
    harness.cancelResult(a, { kind: 'ok', value: { accepted: true } })
    const c = harness.placedId({ client_order_id: 'c' })
    harness.cancel(c)
    expect(harness.state.orders.has(a)).toBe(false)
    expect(harness.state.orders.has(c)).toBe(true)
  })

  test('a record without the grace (written before it existed) keeps the old rule: no grace, stop at a busy order', () => {
    const { harness, a } = canceledThenAnother({ terminalOrdersKeptMax: 1, terminalOrderRetireAfterMs: null })
    expect(harness.state.orders.has(a)).toBe(false)
    const busy = Harness.funded({ config: config({ params: { terminalOrdersKeptMax: 1, terminalOrderRetireAfterMs: null } }) })
    const x = busy.openOrder({ client_order_id: 'x' })
    busy.cancel(x)
    busy.send(x, 'cancel')
    busy.report(report(busy.order(x), { execId: 'c1', kind: 'canceled', cumQty: 0n }))
    const y = busy.placedId({ client_order_id: 'y' })
    busy.cancel(y)
    expect(busy.state.orders.has(x)).toBe(true)
    expect(busy.state.orders.has(y)).toBe(true)
  })

  test('replaying the events gives the same state, digest for digest', () => {
    const { harness, a } = canceledThenAnother({ terminalOrdersKeptMax: 1, terminalOrderRetireAfterMs: 1_000 }, 1_000)
    expect(harness.state.orders.has(a)).toBe(false)
    const replayed = initialState()
    harness.log.forEach((event, index) => applyInPlace(replayed, event, { lsn: index + 1 }))
    expect(stateDigest(replayed)).toBe(stateDigest(harness.state))
  })
})
