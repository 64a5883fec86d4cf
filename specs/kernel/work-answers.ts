/**
 * What the venue and the reconciler answer in the work index's seeded drives (work-index.test.ts,
 * work-index-venues.test.ts): one call in flight answered at random, a read-back's answer at random.
 */

import type { KernelCommand } from '../../src/kernel/index.ts'
import type { VenueOutcome } from '../../src/venues/adapter.ts'
import type { Harness } from './fixtures.ts'

/** Answers one call in flight, picked by `rand`: ok, retryable (a wait up to 3 s), unknown or rejected. */
export function answerOneCall(harness: Harness, rand: () => number): void {
  const calls = [...harness.state.inFlight.values()]
  const call = calls[Math.floor(rand() * calls.length)]
  if (call === undefined) return
  const roll = rand()
  const outcome: VenueOutcome<{ venueOrderId: string }> =
    roll < 0.55
      ? { kind: 'ok', value: { venueOrderId: `v-${call.orderId}` } }
      : roll < 0.7
        ? { kind: 'retryable', reason: 'throttled', retryAfterMs: Math.floor(rand() * 3_000) }
        : roll < 0.85
          ? { kind: 'unknown', reason: 'timeout' }
          : { kind: 'rejected', reason: 'no' }
  const nowMs = harness.nowMs
  const ack: VenueOutcome<{ accepted: true }> = outcome.kind === 'ok' ? { kind: 'ok', value: { accepted: true } } : outcome
  const command: KernelCommand =
    call.action === 'place'
      ? { kind: 'place_result', nowMs, orderId: call.orderId, outcome }
      : call.action === 'cancel'
        ? { kind: 'cancel_result', nowMs, orderId: call.orderId, outcome: ack }
        : { kind: 'amend_result', nowMs, orderId: call.orderId, outcome: ack }
  harness.run(command)
}

/** A read-back's answer for `orderId`: absent at the venue, or open there as the kernel holds it (half each). */
export function answerReadBack(harness: Harness, rand: () => number, orderId: string): void {
  const order = harness.state.orders.get(orderId)
  if (order === undefined) return
  const venueOrder =
    rand() < 0.5
      ? null
      : { clientOrderId: order.venueClientOrderId, venueOrderId: `v-${orderId}`, account: order.accountId, symbol: order.symbol, side: order.side, qty: order.qty, cumQty: order.cumQty, status: 'open' as const }
  harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, orderId, venueOrder, trades: [] })
}
