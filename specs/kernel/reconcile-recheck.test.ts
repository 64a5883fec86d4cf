/**
 * An Unknown order with fills that the venue answers "not found" (src/kernel/reconcile-recheck.ts): it stays Unknown and
 * is asked again, each repeat twice as far off as the one before up to a bound, so a stuck order writes a bounded
 * number of records (and venue questions) per hour; news of it starts the waits over.
 */
import { describe, expect, test } from 'bun:test'
import type { DomainEvent } from '../../src/domain/events/index.ts'
import { applyInPlace, initialState, stateDigest } from '../../src/kernel/index.ts'
import { RECONCILE_RECHECK_MS_MAX } from '../../src/kernel/reconcile-recheck.ts'
import { kernelStateBytes, kernelStateFromBytes } from '../../src/runtime/snapshot/index.ts'
import { config, Harness } from './fixtures.ts'
import { realFillReport, unknownOrder, venueTradeOf } from './venue-fixtures.ts'

const HOUR_MS = 3_600_000

/** An Unknown order with a fill booked, past the grace since its send: the venue's "not found" now proves nothing. */
function unknownWithFill(harness: Harness): string {
  const orderId = unknownOrder(harness)
  harness.nowMs += 10_000
  notFound(harness, orderId)
  expect(harness.order(orderId)).toMatchObject({ status: 'Unknown', cumQty: 1_000_000n })
  return orderId
}

/** The venue's answer: no such order, and its one trade of it. */
function notFound(harness: Harness, orderId: string): DomainEvent[] {
  const trades = [venueTradeOf(harness, orderId, 'x-1', '0.01')]
  return harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, askedAtMs: harness.nowMs, orderId, venueOrder: null, trades }).events
}

/** The executor's loop for one order: whenever it is due, the venue answers at once, the same. */
function askFor(harness: Harness, orderId: string, durationMs: number): DomainEvent[] {
  const events: DomainEvent[] = []
  const endMs = harness.nowMs + durationMs
  while (harness.nowMs < endMs) {
    const due = harness.next()
    if (due?.kind === 'reconcile' && due.orderId === orderId) events.push(...notFound(harness, orderId))
    harness.nowMs = Math.max(harness.nowMs + 1, Math.min(endMs, harness.order(orderId).notBeforeMs))
  }
  return events
}

/** The waits of the next `count` answers, each asked when due. */
function waitsOf(harness: Harness, orderId: string, count: number): number[] {
  const waits: number[] = []
  for (let answerIndex = 0; answerIndex < count; answerIndex++) {
    harness.nowMs = Math.max(harness.nowMs, harness.order(orderId).notBeforeMs)
    notFound(harness, orderId)
    waits.push(harness.order(orderId).notBeforeMs - harness.nowMs)
  }
  return waits
}

describe('an Unknown order with fills the venue does not find', () => {
  test('over an hour: about 20 deferrals on record (was one, and a read-back, every second: 3,600), still Unknown', () => {
    const harness = Harness.funded()
    const orderId = unknownWithFill(harness)
    const unknownSinceMs = harness.order(orderId).unknownSinceMs
    const events = askFor(harness, orderId, HOUR_MS)
    expect(events.every((event) => event.type === 'order.reconcile_deferred')).toBe(true)
    // 1, 2, 4 … 256 s, then every 5 minutes: 9 + 10 answers.
    expect(events.length).toBeLessThanOrEqual(22)
    expect(harness.order(orderId)).toMatchObject({ status: 'Unknown', unknownSinceMs })
    expect(harness.order(orderId).notBeforeMs - harness.nowMs).toBeLessThanOrEqual(RECONCILE_RECHECK_MS_MAX)
  })

  test('a recheck configured at 0 still backs off: over 10 s a handful of deferrals, not one per ms the venue answers in', () => {
    // Found by the scheduling review: twice a wait of 0 is 0, so with reconcileRecheckMs 0 (the schema allows it) the
    // order was asked again the moment each answer came, a deferral and two venue calls per round trip, for good.
    const harness = Harness.funded({ config: config({ params: { reconcileRecheckMs: 0 } }) })
    const orderId = unknownWithFill(harness)
    const events = askFor(harness, orderId, 10_000)
    // 1, 2, 4 … 8,192 ms: 14 answers.
    expect(events.length).toBeLessThanOrEqual(16)
    expect(harness.order(orderId).status).toBe('Unknown')
  })

  test('the wait doubles from the configured recheck to the bound', () => {
    const harness = Harness.funded()
    const orderId = unknownWithFill(harness)
    expect(waitsOf(harness, orderId, 11)).toEqual([2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 128_000, 256_000, 300_000, 300_000, 300_000])
  })

  test('news of the order starts the waits over: a fill in the answer, or a fill report between two answers', () => {
    const harness = Harness.funded()
    const orderId = unknownWithFill(harness)
    waitsOf(harness, orderId, 6)
    // A trade not seen before, in the answer.
    harness.nowMs = harness.order(orderId).notBeforeMs
    const trades = [venueTradeOf(harness, orderId, 'x-1', '0.01'), venueTradeOf(harness, orderId, 'x-2', '0.01')]
    const events = harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, askedAtMs: harness.nowMs, orderId, venueOrder: null, trades }).events
    expect(events.map((event) => event.type)).toContain('order.fill')
    expect(harness.order(orderId).notBeforeMs - harness.nowMs).toBe(1_000)
    expect(waitsOf(harness, orderId, 3)).toEqual([2_000, 4_000, 8_000])
    // A fill report between two answers moves the order (Partial); not found past the grace, it is Unknown again and
    // its waits start over.
    harness.nowMs += 500
    realFillReport(harness, orderId, { execId: 'x-3', lastQty: '0.01', cumQty: '0.03' })
    expect(harness.order(orderId).status).toBe('Partial')
    harness.nowMs += 10_000
    notFound(harness, orderId)
    expect(harness.order(orderId).status).toBe('Unknown')
    expect(harness.order(orderId).notBeforeMs - harness.nowMs).toBe(1_000)
    expect(waitsOf(harness, orderId, 2)).toEqual([2_000, 4_000])
  })

  test('replay, and a snapshot restored mid-way, reach the same schedule as the live run', () => {
    const harness = Harness.funded()
    const orderId = unknownWithFill(harness)
    askFor(harness, orderId, 10 * 60_000)
    const restored = new Harness()
    restored.state = kernelStateFromBytes(kernelStateBytes(harness.state))
    restored.nowMs = harness.nowMs
    const logged = harness.log.length
    askFor(harness, orderId, HOUR_MS)
    const replayed = initialState()
    harness.log.forEach((event, index) => applyInPlace(replayed, event, { lsn: index + 1 }))
    expect(stateDigest(replayed)).toBe(stateDigest(harness.state))
    // The restored state, asked the same from where the snapshot was taken, records the same deferrals.
    expect(askFor(restored, orderId, HOUR_MS)).toEqual(harness.log.slice(logged))
    expect(stateDigest(restored.state)).toBe(stateDigest(harness.state))
  })
})
