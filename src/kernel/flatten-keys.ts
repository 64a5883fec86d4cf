/**
 * The idempotency keys a flatten's closes may take (each close is an order under its own key: flatten.ts closeEvent).
 * Intake refuses new orders with the index at its cap (params.idempotencyKeysHeldMax, key-window.ts), but a flatten is
 * a kill switch and is not refused for a full index: its closes take keys past the cap. They took them without bound:
 * closes that ended unfilled (an IOC with no taker) leave the position free, a flatten under a new key closes it again
 * under new keys, and a flatten that acts is never shed (routes/admin.ts), so a loop of them grew the index past the
 * cap as fast as the venue answered, for the whole key window (cap 4: 160 flattens, 304 keys and climbing).
 *
 * Now the closes take keys past the cap up to FLATTEN_CLOSES_PER_INSTRUMENT_MAX per configured instrument, the most one
 * flatten sends (one instrument per base asset), counting the keys the index lets go at the decision (key-window.ts
 * keysFreedAt): those of ended orders retention retires at the next order event included, so a quiet gateway, which
 * retires them only at order events, does not withhold a kill switch's closes while retiring would make room. A close
 * past that is not sent; what it would have closed is named in the answer's not_closed as OVERLOADED (retryable): keys
 * aged past the window make room again, and a new flatten then closes it. The index past its cap holds at most
 * FLATTEN_CLOSES_PER_INSTRUMENT_MAX × instruments keys once the order events after a decision have retired what it
 * counted as due (until then, also those keys: they were in the index already, so no loop of flattens adds to them).
 * Decided from the state alone (no clock but the command's), so replay and a standby agree.
 */

import { FLATTEN_CLOSES_PER_INSTRUMENT_MAX } from './flatten-close-sizes.ts'
import { keysFreedAt } from './key-window.ts'
import type { KernelState } from './state.ts'

/** The keys flatten closes may hold past the index's cap: one flatten's most, FLATTEN_CLOSES_PER_INSTRUMENT_MAX each. */
export function flattenKeysPastCapMax(state: KernelState): number {
  return FLATTEN_CLOSES_PER_INSTRUMENT_MAX * state.instruments.size
}

/** Keys a flatten decided at `nowMs` may take for its closes (Infinity without a cap). */
export function flattenKeysLeft(state: KernelState, nowMs: number): number {
  const cap = state.config?.params.idempotencyKeysHeldMax
  if (cap === undefined) return Number.POSITIVE_INFINITY
  const pastCapMax = flattenKeysPastCapMax(state)
  const room = Math.max(0, cap + pastCapMax - state.idempotency.size)
  // No flatten sends more closes than pastCapMax: with that much room the keys let go need no counting.
  if (room >= pastCapMax) return room
  return room + keysFreedAt(state, nowMs, pastCapMax - room)
}
