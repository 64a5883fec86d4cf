/**
 * A venue that refuses every cancel of an order while saying the order is open: each refusal moves the order Unknown,
 * the read-back finds it open with its cancel wanted, and the cancel goes out again (reconcile.ts). Before, at once,
 * every time: cancel → reject → read back → cancel as fast as the venue answered, for good. Now the first repeat goes
 * at once (a lost or refused cancel is usually a race), each later one waits twice as long as the last from sendRetryMs,
 * up to CANCEL_RETRY_MS_MAX, and the CANCEL_ATTEMPTS_ALERT-th raises CANCEL_ATTEMPTS_EXCEEDED for an operator. The
 * cancel is never dropped: it keeps going at the bound. Lane0's load shedding is untouched (nothing here is shed).
 */

import { describe, expect, test } from 'bun:test'
import { CANCEL_ATTEMPTS_ALERT, CANCEL_RETRY_MS_MAX } from '../../src/kernel/reconcile.ts'
import type { VenueOrder } from '../../src/venues/adapter.ts'
import { Harness } from './fixtures.ts'

function openAtVenue(harness: Harness, orderId: string): VenueOrder {
  const { venueClientOrderId: clientOrderId, accountId: account, symbol, side, qty } = harness.order(orderId)
  return { venueOrderId: `v-${orderId}`, clientOrderId, account, symbol, side, qty, status: 'open', cumQty: 0n }
}

/** One round: the due cancel goes out, the venue refuses it, the read-back finds the order open. Returns its alerts. */
function refusedRound(harness: Harness, orderId: string): string[] {
  expect(harness.next()).toMatchObject({ orderId, kind: 'cancel', lane: 0 })
  harness.send(orderId, 'cancel')
  const refused = harness.cancelResult(orderId, { kind: 'rejected', reason: 'cancel_not_allowed' })
  expect(harness.order(orderId).status).toBe('Unknown')
  const read = harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, orderId, venueOrder: openAtVenue(harness, orderId), trades: [] })
  expect(harness.order(orderId)).toMatchObject({ status: 'CancelRequested', cancelWanted: true })
  return [...refused.events, ...read.events].flatMap((event) => (event.type === 'alert.raised' ? [event.reason] : []))
}

/** How long from now until the order's cancel is due again. */
function waitMs(harness: Harness, orderId: string): number {
  return Math.max(0, harness.order(orderId).notBeforeMs - harness.nowMs)
}

describe('a venue refusing every cancel of an order it says is open', () => {
  test('the repeats back off (at once, then doubling from sendRetryMs up to the bound), alerting once at the limit', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder()
    harness.cancel(orderId)
    const waits: number[] = []
    const exceeded: number[] = []
    for (let round = 1; round <= CANCEL_ATTEMPTS_ALERT + 4; round++) {
      const alerts = refusedRound(harness, orderId)
      if (alerts.includes('CANCEL_ATTEMPTS_EXCEEDED')) exceeded.push(round)
      const wait = waitMs(harness, orderId)
      waits.push(wait)
      if (wait > 0) expect(harness.next()).toBeNull()
      harness.nowMs += wait
    }
    expect(waits.slice(0, 6)).toEqual([0, 1_000, 2_000, 4_000, 8_000, 16_000])
    expect(Math.max(...waits)).toBe(CANCEL_RETRY_MS_MAX)
    expect(waits.at(-1)).toBe(CANCEL_RETRY_MS_MAX)
    expect(exceeded).toEqual([CANCEL_ATTEMPTS_ALERT])
    expect(harness.order(orderId).cancelAttempts).toBe(CANCEL_ATTEMPTS_ALERT + 4)
  })

  test('a new cancel request by the owner does not shorten the wait, and the order is never ended on egress\'s word', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder()
    harness.cancel(orderId)
    refusedRound(harness, orderId)
    refusedRound(harness, orderId)
    const wait = waitMs(harness, orderId)
    expect(wait).toBe(1_000)
    expect(harness.cancel(orderId)).toEqual({ events: [], reply: { kind: 'done' } })
    expect(waitMs(harness, orderId)).toBe(wait)
    expect(harness.order(orderId).status).toBe('CancelRequested')
  })
})
