/**
 * The hard cap on ended orders held (params.terminalOrdersHeldMax, src/kernel/retention.ts): the grace bounds the hot
 * state by time, not by count, so a sustained order rate held rate × grace orders; beyond the cap the oldest idle ended
 * orders retire even within the grace. A late fill for one is then an orphan, and such retirements are counted
 * (retiredEarlyCount, /metrics egress_orders_retired_early_total). A pure function of the events and the params:
 * replay from genesis and from a snapshot decide the same; a log whose kernel.configured has no cap replays as before.
 */

import { describe, expect, test } from 'bun:test'
import type { KernelParams } from '../../src/domain/kernel-config.ts'
import { applyInPlace, decide, initialState, stateDigest, type KernelState } from '../../src/kernel/index.ts'
import { retiredEarlyCount } from '../../src/kernel/retention.ts'
import { kernelStateBytes, kernelStateFromBytes } from '../../src/runtime/snapshot/state-codec.ts'
import type { DomainEvent } from '../../src/domain/events/index.ts'
import { config, d, Harness, report } from './fixtures.ts'

const HOUR_MS = 3_600_000
const CAPPED: Partial<KernelParams> = { terminalOrdersKeptMax: 1, terminalOrdersHeldMax: 2, terminalOrderRetireAfterMs: HOUR_MS }

/** Places and cancels (before any send: Canceled at once) `count` orders, 1 ms apart, all well within the grace. */
function endedOrders(harness: Harness, count: number, tag = 'o'): string[] {
  const ids: string[] = []
  for (let index = 0; index < count; index++) {
    harness.nowMs += 1
    const orderId = harness.placedId({ client_order_id: `${tag}${index}` })
    harness.cancel(orderId)
    ids.push(orderId)
  }
  return ids
}

function replayed(log: readonly DomainEvent[], from: KernelState = initialState(), firstLsn = 1): KernelState {
  log.forEach((event, index) => applyInPlace(from, event, { lsn: firstLsn + index }))
  return from
}

/** The log as a build before the cap recorded it: every kernel.configured without terminalOrdersHeldMax. */
function withoutCap(log: readonly DomainEvent[]): DomainEvent[] {
  return log.map((event) => {
    if (event.type !== 'kernel.configured') return event
    const { terminalOrdersHeldMax: _, ...params } = event.config.params
    return { ...event, config: { ...event.config, params } }
  })
}

describe('the cap on ended orders held', () => {
  test('beyond the cap the oldest idle ended orders retire even within the grace, and are counted', () => {
    const harness = Harness.funded({ config: config({ params: CAPPED }) })
    const [a, b, c, e] = endedOrders(harness, 4) as [string, string, string, string]
    expect([a, b, c, e].map((orderId) => harness.state.orders.has(orderId))).toEqual([false, false, true, true])
    expect(harness.state.terminalOrderIds.size).toBe(2)
    expect(retiredEarlyCount(harness.state)).toBe(2)
  })

  test('without a cap (the grace alone) every order ended within the grace stays, and none is counted', () => {
    const harness = Harness.funded({ config: config({ params: { ...CAPPED, terminalOrdersHeldMax: undefined } }) })
    const ids = endedOrders(harness, 4)
    expect(ids.every((orderId) => harness.state.orders.has(orderId))).toBe(true)
    expect(retiredEarlyCount(harness.state)).toBe(0)
  })

  test('a busy ended order is skipped by the cap, the idle ones behind it retire', () => {
    const harness = Harness.funded({ config: config({ params: CAPPED }) })
    const busy = harness.openOrder({ client_order_id: 'busy' })
    harness.cancel(busy)
    harness.send(busy, 'cancel')
    // The venue reports the cancel before the cancel call returns: Canceled with its call still in flight.
    harness.report(report(harness.order(busy), { execId: 'c1', kind: 'canceled', cumQty: 0n }))
    expect(harness.state.inFlight.has(busy)).toBe(true)
    const [a, b, c] = endedOrders(harness, 3) as [string, string, string]
    expect([busy, a, b, c].map((orderId) => harness.state.orders.has(orderId))).toEqual([true, false, false, true])
  })

  test('a late fill for an order the cap retired within the grace is an orphan: alerted, nothing booked', () => {
    const harness = Harness.funded({ config: config({ params: CAPPED }) })
    const first = harness.placedId({ client_order_id: 'first' })
    const order = harness.order(first)
    harness.cancel(first)
    endedOrders(harness, 2)
    expect(harness.state.orders.has(first)).toBe(false)
    const btc = harness.balance('BTC')
    const late = harness.report(report(order, { execId: 'f-late', kind: 'fill', lastQty: d('0.05'), lastPrice: d('50000'), cumQty: d('0.05'), fee: d('0'), feeAsset: 'USD' }))
    expect(late.events.find((event) => event.type === 'alert.raised')).toMatchObject({ reason: 'REPORT_ORPHANED' })
    expect(late.events.map((event) => event.type)).not.toContain('order.fill')
    expect(harness.balance('BTC')).toBe(btc)
  })

  test('replay from genesis and from a snapshot taken midway give the live state, digest for digest', () => {
    const harness = Harness.funded({ config: config({ params: CAPPED }) })
    endedOrders(harness, 3)
    const midLsn = harness.log.length
    const snapshot = kernelStateBytes(replayed(harness.log))
    endedOrders(harness, 4, 'p')
    expect(retiredEarlyCount(harness.state)).toBe(5)
    expect(stateDigest(replayed(harness.log))).toBe(stateDigest(harness.state))
    const restored = replayed(harness.log.slice(midLsn), kernelStateFromBytes(snapshot), midLsn + 1)
    expect(stateDigest(restored)).toBe(stateDigest(harness.state))
  })

  test('a log whose kernel.configured has no cap replays as before: every order ended within the grace stays', () => {
    const harness = Harness.funded({ config: config({ params: CAPPED }) })
    const ids = endedOrders(harness, 4)
    const old = replayed(withoutCap(harness.log))
    expect(ids.every((orderId) => old.orders.has(orderId))).toBe(true)
    expect(old.terminalOrderIds.size).toBe(4)
  })

  test('configuring a log recorded without the cap records the config again, with it; once recorded, not again', () => {
    const harness = Harness.funded({ config: config({ params: CAPPED }) })
    const old = replayed(withoutCap(harness.log))
    const command = { kind: 'configure' as const, nowMs: harness.nowMs, config: config({ params: CAPPED }) }
    const configured = decide(old, command).events
    expect(configured.map((event) => event.type)).toEqual(['kernel.configured'])
    applyInPlace(old, configured[0] as DomainEvent, { lsn: old.lastLsn + 1 })
    expect(old.config?.params.terminalOrdersHeldMax).toBe(2)
    expect(decide(old, command).events).toEqual([])
  })
})
