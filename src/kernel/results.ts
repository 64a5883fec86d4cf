/**
 * What the adapter answered, fed back by the runtime. Every answer says what it proves: an ack is venue evidence; a
 * definite reject ends the order; a retryable error means the venue did nothing, so the send is requeued; an unknown
 * outcome makes the order Unknown — never Rejected or Failed without venue evidence (§7). Then it ends the order's call
 * (`order.call_completed`, freeing room on its venue×symbol): last, see completed().
 */

import { attributed } from './attribution.ts'
import { instrumentKey } from '../domain/instruments.ts'
import type { Order } from '../domain/orders.ts'
import { isTerminal } from '../domain/states.ts'
import { VenueReason } from '../domain/venue-reasons.ts'
import { GATEWAY_PRINCIPAL_ID } from '../domain/accounts.ts'
import { DONE_REPLY, type BootstrapCommand, type CancelResultCommand, type Decision, type PlaceResultCommand } from './commands.ts'
import { anomaly, emit, emitterFor, type Emitter } from './emit.ts'
import { ackConcludes } from './inbox.ts'
import { switchHolds, switchHoldText } from './send.ts'
import type { CallAction, KernelState } from './state.ts'

/**
 * The longest back-off a venue's `retryable` answer is taken at: an hour. A venue (or a broken one) may say more;
 * waiting past this is never what a trader wants, and an unbounded value would put a retry time past the safe-integer
 * range into the log, where its own schema refuses it on the next read (and the restart with it).
 */
export const RETRY_AFTER_MS_MAX = 3_600_000

/** When a retryable call may be tried again: `retryAfterMs` from now, read as 0..RETRY_AFTER_MS_MAX (not a number: the most). */
export function retryAtMsOf(nowMs: number, retryAfterMs: number): number {
  const waitMs = Number.isFinite(retryAfterMs) ? Math.min(Math.max(Math.ceil(retryAfterMs), 0), RETRY_AFTER_MS_MAX) : RETRY_AFTER_MS_MAX
  return nowMs + waitMs
}

export function inFlightOrder(state: KernelState, orderId: string, action: CallAction): Order | null {
  const order = state.orders.get(orderId)
  if (order === undefined) return null
  return state.inFlight.get(orderId)?.action === action ? order : null
}

export function stale(orderId: string): Decision {
  return { events: [], reply: { kind: 'refused', reason: 'TRANSITION_REFUSED', detail: `no call in flight for ${orderId}` } }
}

/**
 * The answer's last event about the order: a call in flight keeps the order in the kernel's state (retention.ts never
 * retires a busy order), so every event before this one finds the order there. Ended first, an order the venue had
 * already finished (a fill report ahead of the place answer) could be retired by this very event, and the answer's
 * next event (its send_acked) then named an order the state no longer held: the commit threw halfway through the
 * decision. Logs written before this order of events (call_completed first) replay as they were written.
 */
export function completed(emitter: Emitter, atMs: number, action: CallAction, outcome: { kind: string; reason?: string }): void {
  const detail = outcome.reason ?? ''
  const kind = outcome.kind === 'ok' || outcome.kind === 'rejected' || outcome.kind === 'retryable' || outcome.kind === 'unknown' ? outcome.kind : 'lost'
  emitter.events.push({ type: 'order.call_completed', atMs, orderId: emitter.draft.orderId, action, outcome: kind, detail })
}

export function decidePlaceResult(state: KernelState, command: PlaceResultCommand): Decision {
  const order = inFlightOrder(state, command.orderId, 'place')
  if (order === null) return stale(command.orderId)
  const emitter = emitterFor(order)
  placeAnswerEvents(state, emitter, order, command)
  completed(emitter, command.nowMs, 'place', command.outcome)
  return { events: emitter.events, reply: DONE_REPLY }
}

/** What a place answer proves, as events before its `order.call_completed` (see completed). */
function placeAnswerEvents(state: KernelState, emitter: Emitter, order: Order, command: PlaceResultCommand): void {
  const { outcome } = command
  if (outcome.kind === 'ok') {
    // The common answer, before `at` is made for the others.
    if (order.venueOrderId === null && ackConcludes(order)) emit(emitter, { type: 'order.send_acked', atMs: command.nowMs, orderId: order.orderId, venueOrderId: outcome.value.venueOrderId })
    return
  }
  const at = { atMs: command.nowMs, orderId: order.orderId }
  // The place is still unanswered from the kernel's point of view only in Sent, or in CancelRequested when the
  // cancel arrived while the place was in flight. In any other state a venue report already told us more.
  const pending = order.status === 'Sent' || (order.status === 'CancelRequested' && order.venueOrderId === null)
  const duplicate = outcome.kind === 'rejected' && outcome.reason === VenueReason.duplicateClientOrderId
  if (duplicate) {
    // The order exists at the venue. If reports already said so there is nothing to add; otherwise find out its state.
    if (pending) emit(emitter, { type: 'order.unknown', ...at, reason: 'VENUE_DUPLICATE_CLIENT_ORDER_ID', detail: outcome.reason })
  } else if (!pending) {
    // A reject that agrees with the reject report already applied says nothing new; anything else contradicts it.
    const agrees = outcome.kind === 'rejected' && order.status === 'Rejected'
    if ((outcome.kind === 'rejected' || outcome.kind === 'retryable') && !agrees) {
      anomaly(emitter, { atMs: command.nowMs, reason: 'TRANSITION_REFUSED', detail: `place ${outcome.kind} after venue reported the order` })
    }
  } else if (outcome.kind === 'rejected') {
    emit(emitter, { type: 'order.venue_rejected', ...at, venueReason: outcome.reason })
  } else if (outcome.kind === 'retryable') {
    // The venue says this copy did nothing, but the order went out before (this attempt, maybe earlier ones) and no
    // read-back has proven it absent since: ended here, a copy live at the venue would be shown canceled, holding
    // nothing. Unknown keeps its worst case held and the cancel wanted; reconciliation reads it back.
    // Under a kill switch that holds it, the place is not sent again at RESUME (kill-switch.ts): it is read back and
    // canceled as a queued one sent before would be at the switch. Flatten's closes are never ended by a switch.
    const held = order.flattenId === null ? switchHolds(state, order, 'place') : null
    if (order.status === 'CancelRequested') emit(emitter, { type: 'order.unknown', ...at, reason: 'VENUE_OUTCOME_UNKNOWN', detail: `place answered retryable (${outcome.reason}) while a cancel was wanted: read back before the order ends` })
    else if (held !== null) {
      emit(emitter, { type: 'order.unknown', ...at, reason: 'VENUE_OUTCOME_UNKNOWN', detail: `place answered retryable (${outcome.reason}) with the ${switchHoldText(state, order, held).replace(' is ', ' ')}: not sent again, read back before the order ends` })
      emit(emitter, attributed({ type: 'order.cancel_requested', ...at, principalId: GATEWAY_PRINCIPAL_ID, reason: held }, { configDigest: state.config?.digest }))
    } else emit(emitter, { type: 'order.send_retry', ...at, action: 'place', venueReason: outcome.reason, retryAtMs: retryAtMsOf(command.nowMs, outcome.retryAfterMs) })
  } else {
    emit(emitter, { type: 'order.unknown', ...at, reason: 'VENUE_OUTCOME_UNKNOWN', detail: outcome.reason })
  }
}

export function decideCancelResult(state: KernelState, command: CancelResultCommand): Decision {
  const order = inFlightOrder(state, command.orderId, 'cancel')
  if (order === null) return stale(command.orderId)
  const emitter = emitterFor(order)
  // Reports may have finished the order while the cancel was in flight; then the answer changes nothing.
  if (order.status === 'CancelPending') cancelAnswerEvents(emitter, order, command)
  completed(emitter, command.nowMs, 'cancel', command.outcome)
  return { events: emitter.events, reply: DONE_REPLY }
}

/** What a cancel answer proves about an order still CancelPending, as events before its `order.call_completed`. */
function cancelAnswerEvents(emitter: Emitter, order: Order, command: CancelResultCommand): void {
  const { outcome } = command
  const at = { atMs: command.nowMs, orderId: order.orderId }
  if (outcome.kind === 'ok') {
    emit(emitter, { type: 'order.cancel_acked', ...at })
  } else if (outcome.kind === 'rejected' && outcome.reason === VenueReason.unknownOrder) {
    emit(emitter, { type: 'order.cancel_rejected', ...at, venueReason: outcome.reason })
    emit(emitter, { type: 'order.unknown', ...at, reason: 'VENUE_UNKNOWN_ORDER', detail: 'cancel answered unknown_order: not proof of absence' })
  } else if (outcome.kind === 'rejected') {
    emit(emitter, { type: 'order.cancel_rejected', ...at, venueReason: outcome.reason })
    anomaly(emitter, { atMs: command.nowMs, reason: 'VENUE_CANCEL_REJECTED', detail: outcome.reason })
  } else if (outcome.kind === 'retryable') {
    emit(emitter, { type: 'order.send_retry', ...at, action: 'cancel', venueReason: outcome.reason, retryAtMs: retryAtMsOf(command.nowMs, outcome.retryAfterMs) })
  } else {
    emit(emitter, { type: 'order.unknown', ...at, reason: 'VENUE_OUTCOME_UNKNOWN', detail: outcome.reason })
  }
}

/** After replay at start: each call that was in flight when the process stopped has an unknown outcome. */
export function decideBootstrap(state: KernelState, command: BootstrapCommand): Decision {
  const events = []
  // By instrument, then order id: with one call per instrument this is the order the slots were always visited in.
  const calls = [...state.inFlight.values()].flatMap((call) => {
    const order = state.orders.get(call.orderId)
    return order === undefined ? [] : [{ call, order, key: `${instrumentKey(order.venue, order.symbol)}\n${order.orderId}` }]
  })
  calls.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  for (const { call, order } of calls) {
    const emitter = emitterFor(order)
    const pending = callPending(order, call.action)
    if (pending) {
      emit(emitter, { type: 'order.unknown', atMs: command.nowMs, orderId: order.orderId, reason: 'VENUE_OUTCOME_UNKNOWN', detail: 'in flight when the process stopped' })
    }
    completed(emitter, command.nowMs, call.action, { kind: 'lost', reason: 'in flight when the process stopped' })
    events.push(...emitter.events)
  }
  for (const order of strandedSent(state)) {
    const emitter = emitterFor(order)
    emit(emitter, { type: 'order.unknown', atMs: command.nowMs, orderId: order.orderId, reason: 'VENUE_OUTCOME_UNKNOWN', detail: 'Sent with no call in flight: the log ends inside its place answer' })
    events.push(...emitter.events)
  }
  return { events, reply: DONE_REPLY }
}

/**
 * Orders Sent with no call in flight, by instrument then order id. A place answer ends the call and moves the order
 * on in one decision, so this only happens when the log ends inside that decision: a batch written in part (recovery
 * keeps its whole frames) or a standby promoted holding half of it. The venue may hold the order, so it is Unknown
 * and reconciled, as a call in flight would be; left Sent it was neither reconciled nor swept, for good.
 */
function strandedSent(state: KernelState): Order[] {
  const stranded: Order[] = []
  for (const order of state.orders.values()) if (order.status === 'Sent' && !state.inFlight.has(order.orderId)) stranded.push(order)
  const key = (order: Order): string => `${instrumentKey(order.venue, order.symbol)}\n${order.orderId}`
  return stranded.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0))
}

/** Whether the kernel still waits for this call's answer to know the order's state (so a lost answer means Unknown). */
function callPending(order: Order, action: CallAction): boolean {
  switch (action) {
    case 'place':
      return order.status === 'Sent' || (order.status === 'CancelRequested' && order.venueOrderId === null)
    case 'cancel':
      return order.status === 'CancelPending'
    case 'amend':
      return order.amend?.stage === 'sent' && order.status !== 'Unknown' && !isTerminal(order.status)
  }
}
