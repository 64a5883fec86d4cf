/**
 * An order the venue reports filled past its quantity cannot be converged: egress books nothing of it, keeps the
 * order Unknown and asks again. Asked every `reconcileRecheckMs` with an alert per answer, one stuck order wrote two
 * records a second for as long as it stayed so (7,200 an hour at the default 1 s). Now the first answer with a given
 * overfill raises the alert and every repeat of it only schedules the next question, each twice as far off as the one
 * before up to OVERFILL_RECHECK_MS_MAX: about 20 answers, and one alert, an hour. A different overfill (the venue's
 * cumulative quantity moved) is news: it is alerted and rechecked from the start, as is one after the order converged.
 * The interval is kernel state (Order.overfillRecheckMs, set by `order.overfill_recheck`), so replay and a standby
 * reach the same schedule.
 */

import { formatDecimal, type Units } from '../domain/decimal.ts'
import { anomaly, type Emitter } from './emit.ts'
import type { KernelState } from './state.ts'

/** The longest wait between two questions about the same overfill. */
export const OVERFILL_RECHECK_MS_MAX = 5 * 60_000

/** Whether the venue's answer repeats the overfill already alerted for this Unknown order. */
export function isRepeatedOverfill(emitter: Emitter, venueCumQty: Units): boolean {
  const { draft } = emitter
  return draft.status === 'Unknown' && venueCumQty > draft.qty && draft.overfillCumQty === venueCumQty
}

/** Records an overfill answer: the alert when it is news, and when to ask again. */
export function overfillRecheck(state: KernelState, emitter: Emitter, input: { venueCumQty: Units; nowMs: number }): void {
  const { draft } = emitter
  const { venueCumQty, nowMs } = input
  const repeated = isRepeatedOverfill(emitter, venueCumQty)
  if (!repeated) anomaly(emitter, { atMs: nowMs, reason: 'FILL_OVERFILL', detail: `venue reports cumQty ${formatDecimal(venueCumQty)} of ${formatDecimal(draft.qty)}` })
  const recheckMs = state.config?.params.reconcileRecheckMs ?? 1_000
  const waitMs = repeated ? nextRecheckMs(draft.overfillRecheckMs, recheckMs) : recheckMs
  emitter.events.push({ type: 'order.overfill_recheck', atMs: nowMs, orderId: draft.orderId, venueCumQty, retryAtMs: nowMs + waitMs })
}

/** Twice the previous wait, from `recheckMs` up to the bound (which a longer configured recheck replaces). */
export function nextRecheckMs(previousMs: number, recheckMs: number): number {
  const boundMs = Math.max(OVERFILL_RECHECK_MS_MAX, recheckMs)
  return Math.min(boundMs, Math.max(recheckMs, previousMs * 2))
}
