/**
 * Orders with a time-to-live in the simulation's workload (workload.ts, ttl-checks.ts): on by default, left out by
 * withoutTtl (`--without-ttl`) and by the older workloads (withoutLists, withoutAmend), whose seeds were found with no
 * such orders and must replay the draws they were found with; and the order-ttl invariant holds its checks.
 */

import { describe, expect, test } from 'bun:test'
import { SIM_DEFAULTS } from './defaults.ts'
import { describeFailure } from './batch.ts'
import { runSeed } from './run-seed.ts'
import { TTL_GRACE_MS, TtlWatch } from './ttl-checks.ts'
import type { DomainEvent } from '../../src/domain/events/index.ts'
import { Harness, market, T0 } from '../kernel/fixtures.ts'

const STEPS = 60

describe('time-to-live orders in the simulation', () => {
  test('the default workload places orders with a time-to-live and holds order-ttl; --without-ttl and older workloads place none', async () => {
    const withTtl = await runSeed(3, { steps: STEPS, stepMsMax: SIM_DEFAULTS.stepMsMax, strict: true })
    expect(withTtl.failure === null ? null : describeFailure(withTtl.failure)).toBeNull()
    expect(withTtl.stats.counters.ttlOrders).toBeGreaterThan(0)
    for (const older of [{ withoutTtl: true }, { withoutLists: true }]) {
      const result = await runSeed(3, { steps: STEPS, stepMsMax: SIM_DEFAULTS.stepMsMax, strict: true, ...older })
      expect(result.failure === null ? null : describeFailure(result.failure)).toBeNull()
      expect(result.stats.counters.ttlOrders ?? 0).toBe(0)
    }
  }, 60_000)

  test('the state check flags an order open past its expiry and the grace with no cancel asked, and not one being canceled', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder({ ttl_ms: 1_000 })
    const watch = new TtlWatch()
    expect(watch.check(harness.state, T0 + 1_000 + TTL_GRACE_MS)).toEqual([])
    expect(watch.check(harness.state, T0 + 1_001 + TTL_GRACE_MS).map((violation) => violation.invariant)).toEqual(['order-ttl'])
    harness.nowMs = T0 + 1_000
    harness.run({ kind: 'ttl_expire', nowMs: harness.nowMs, orderId })
    expect(watch.check(harness.state, T0 + 10 * TTL_GRACE_MS)).toEqual([])
  })

  test('the log check flags an amend sent at or after the expiry as it does a place', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder({ ttl_ms: 1_000 })
    harness.nowMs = T0 + 999
    harness.amend(orderId, { qty: '0.2' }, { market: market('50000', { observedAtMs: harness.nowMs }) })
    harness.send(orderId, 'amend')
    const sent = harness.log.at(-1) as DomainEvent
    expect(sent.type).toBe('order.amend_send_requested')
    const watch = new TtlWatch()
    const follow = (events: DomainEvent[]): void => (watch as unknown as { events(events: readonly DomainEvent[]): void }).events(events)
    follow(harness.log)
    expect(watch.drain()).toEqual([])
    // The same amend decided one millisecond later, at the expiry: the kernel sends no such record (send.ts).
    follow([{ ...sent, atMs: T0 + 1_000 }])
    expect(watch.drain().map((violation) => violation.message)).toEqual([expect.stringContaining(`order ${orderId} amended (amend 1)`)])
  })
})
