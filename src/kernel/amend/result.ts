/**
 * The adapter's answer to an amend. It says what it proves — unless a report has already settled the amend, in which
 * case it adds nothing — and then frees the venue×symbol slot:
 * - ok: the venue replaced the order (applied now; the `replaced` report, when it comes, finds it done);
 * - rejected: the amend did not happen and the order stands — except `duplicate_client_order_id`, which says the venue
 *   already has the amend's id, i.e. the replace happened before: the order goes Unknown and reconciliation reads the
 *   venue's view; and `unknown_order`, which fails the amend but is no proof the order is gone: Unknown as well;
 * - retryable: the venue did nothing; the amend goes back to Lane2 — or fails if a cancel is now wanted, or if a kill
 *   switch engaged while it was in flight (HALT and CANCEL_ONLY send no amend: one the switch caught mid-flight must not
 *   wait in Lane2 and go out at RESUME as if just asked for; the order stays as the venue holds it);
 * - unknown: the amend may or may not have happened; the order goes Unknown with the amend still pending, and the
 *   order holds the worst case of both until reconciliation settles it.
 */

import type { AmendState, Order } from '../../domain/orders.ts'
import { VenueReason } from '../../domain/venue-reasons.ts'
import { DONE_REPLY, type AmendResultCommand, type Decision } from '../commands.ts'
import { emit, emitterFor, type Emitter } from '../emit.ts'
import { completed, inFlightOrder, retryAtMsOf, stale } from '../results.ts'
import { switchHolds, switchHoldText } from '../send.ts'
import type { KernelState } from '../state.ts'
import { applyAmend, failAmend } from './evidence.ts'

export function decideAmendResult(state: KernelState, command: AmendResultCommand): Decision {
  const order = inFlightOrder(state, command.orderId, 'amend')
  if (order === null) return stale(command.orderId)
  const emitter = emitterFor(order)
  // A report may have settled the amend while it was in flight; then the answer adds nothing.
  if (order.amend !== null && order.amend.stage === 'sent') amendAnswerEvents(state, emitter, { order, amend: order.amend, command })
  completed(emitter, command.nowMs, 'amend', command.outcome)
  return { events: emitter.events, reply: DONE_REPLY }
}

/** What an amend answer proves, as events before its `order.call_completed` (see completed in results.ts). */
function amendAnswerEvents(state: KernelState, emitter: Emitter, input: { order: Order; amend: AmendState; command: AmendResultCommand }): void {
  const { order, amend, command } = input
  const { outcome } = command
  const at = { atMs: command.nowMs, orderId: order.orderId }
  const amendId = amend.amendId
  if (outcome.kind === 'ok') {
    applyAmend(emitter, { atMs: command.nowMs, source: 'result', amendId })
  } else if (outcome.kind === 'rejected' && outcome.reason === VenueReason.duplicateClientOrderId) {
    emit(emitter, { type: 'order.unknown', ...at, reason: 'VENUE_DUPLICATE_CLIENT_ORDER_ID', detail: `amend ${amend.clientOrderId}: ${outcome.reason}` })
  } else if (outcome.kind === 'rejected') {
    failAmend(emitter, { atMs: command.nowMs, reason: 'VENUE_AMEND_REJECTED', detail: outcome.reason, amendId })
    if (outcome.reason === VenueReason.unknownOrder) {
      emit(emitter, { type: 'order.unknown', ...at, reason: 'VENUE_UNKNOWN_ORDER', detail: `amend ${amend.clientOrderId}: ${outcome.reason}` })
    }
  } else if (outcome.kind === 'retryable') {
    const held = switchHolds(state, order, 'amend')
    if (order.cancelWanted) failAmend(emitter, { atMs: command.nowMs, reason: 'AMEND_SUPERSEDED', detail: `throttled (${outcome.reason}) and a cancel is wanted`, amendId })
    else if (held !== null) failAmend(emitter, { atMs: command.nowMs, reason: held, detail: `throttled (${outcome.reason}) and the ${switchHoldText(state, order, held)}: not sent again`, amendId })
    else emit(emitter, { type: 'order.send_retry', ...at, action: 'amend', venueReason: outcome.reason, retryAtMs: retryAtMsOf(command.nowMs, outcome.retryAfterMs) })
  } else {
    emit(emitter, { type: 'order.unknown', ...at, reason: 'VENUE_OUTCOME_UNKNOWN', detail: `amend ${amend.clientOrderId}: ${outcome.reason}` })
  }
}
