/**
 * An Unknown order the venue reports filled past its quantity (src/kernel/overfill-recheck.ts): one alert per distinct
 * overfill, and rechecks that back off to a bound, so a stuck order writes a bounded number of records per hour.
 */
import { describe, expect, test } from 'bun:test'
import type { DomainEvent } from '../../src/domain/events/index.ts'
import { applyInPlace, initialState, stateDigest } from '../../src/kernel/index.ts'
import { nextRecheckMs, OVERFILL_RECHECK_MS_MAX } from '../../src/kernel/overfill-recheck.ts'
import type { VenueOrder } from '../../src/venues/adapter.ts'
import { d, Harness } from './fixtures.ts'
import { unknownOrder } from './venue-fixtures.ts'

const HOUR_MS = 3_600_000

function answer(harness: Harness, orderId: string, cumQty: string): VenueOrder {
  const order = harness.order(orderId)
  return { clientOrderId: order.venueClientOrderId, venueOrderId: 'v-9', account: order.accountId, symbol: order.symbol, side: order.side, qty: d('0.2'), cumQty: d(cumQty), status: 'partially_filled' }
}

/** The executor's loop for one order: whenever it is due, the venue answers at once with the same overfill. */
function askForAnHour(harness: Harness, orderId: string, cumQty: () => string): DomainEvent[] {
  const events: DomainEvent[] = []
  const endMs = harness.nowMs + HOUR_MS
  while (harness.nowMs < endMs) {
    const due = harness.next()
    if (due?.kind === 'reconcile' && due.orderId === orderId) {
      events.push(...harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, askedAtMs: harness.nowMs, orderId, venueOrder: answer(harness, orderId, cumQty()), trades: [] }).events)
    }
    harness.nowMs = Math.max(harness.nowMs + 1, Math.min(endMs, harness.order(orderId).notBeforeMs))
  }
  return events
}

describe('an overfilled Unknown order', () => {
  test('over an hour of the same overfill: one alert and about 20 answers on record (was an alert and a deferral every second: 7,200)', () => {
    const harness = Harness.funded()
    const orderId = unknownOrder(harness)
    const events = askForAnHour(harness, orderId, () => '0.15')
    const alerts = events.filter((event) => event.type === 'alert.raised')
    expect(alerts).toHaveLength(1)
    expect(alerts[0]).toMatchObject({ reason: 'FILL_OVERFILL' })
    // 1, 2, 4 … 256 s, then every 5 minutes: 9 + 10 answers, one record each, and the alert.
    expect(events.length).toBeLessThanOrEqual(25)
    expect(harness.order(orderId)).toMatchObject({ status: 'Unknown', overfillCumQty: d('0.15'), overfillRecheckMs: OVERFILL_RECHECK_MS_MAX })
  })

  test('the recheck interval doubles from the configured one to the bound', () => {
    const harness = Harness.funded()
    const orderId = unknownOrder(harness)
    const waits: number[] = []
    for (let answerIndex = 0; answerIndex < 12; answerIndex++) {
      harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, askedAtMs: harness.nowMs, orderId, venueOrder: answer(harness, orderId, '0.15'), trades: [] })
      waits.push(harness.order(orderId).notBeforeMs - harness.nowMs)
      harness.nowMs = harness.order(orderId).notBeforeMs
    }
    expect(waits).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 128_000, 256_000, 300_000, 300_000, 300_000])
    expect(nextRecheckMs(0, 400_000)).toBe(400_000)
    expect(nextRecheckMs(400_000, 400_000)).toBe(400_000)
  })

  test('a different overfill is news: alerted, and rechecked from the start', () => {
    const harness = Harness.funded()
    const orderId = unknownOrder(harness)
    const ask = (cumQty: string) => harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, askedAtMs: harness.nowMs, orderId, venueOrder: answer(harness, orderId, cumQty), trades: [] })
    expect(harness.eventTypes(ask('0.15'))).toEqual(['alert.raised', 'order.overfill_recheck'])
    harness.nowMs += 1_000
    expect(harness.eventTypes(ask('0.15'))).toEqual(['order.overfill_recheck'])
    harness.nowMs += 2_000
    expect(harness.eventTypes(ask('0.18'))).toEqual(['alert.raised', 'order.overfill_recheck'])
    expect(harness.order(orderId).notBeforeMs - harness.nowMs).toBe(1_000)
  })

  test('once the venue answer makes sense again the order converges and the overfill is forgotten', () => {
    const harness = Harness.funded()
    const orderId = unknownOrder(harness)
    const ask = (cumQty: string, status: VenueOrder['status'] = 'partially_filled') =>
      harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, askedAtMs: harness.nowMs, orderId, venueOrder: { ...answer(harness, orderId, cumQty), qty: d('0.1'), status }, trades: [] })
    ask('0.15')
    harness.nowMs += 1_000
    ask('0.05')
    expect(harness.order(orderId)).toMatchObject({ status: 'Partial', overfillCumQty: null, overfillRecheckMs: 0 })
  })

  test('replaying the log reaches the same schedule', () => {
    const harness = Harness.funded()
    const orderId = unknownOrder(harness)
    askForAnHour(harness, orderId, () => '0.15')
    const replayed = initialState()
    harness.log.forEach((event, index) => applyInPlace(replayed, event, { lsn: index + 1 }))
    expect(stateDigest(replayed)).toBe(stateDigest(harness.state))
  })
})
