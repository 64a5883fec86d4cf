/**
 * Cancel requests (Lane0). An order never sent is canceled on the spot; an order that may be at the venue goes to
 * CancelRequested and its cancel waits in Lane0, ahead of everything else. An order sent before and waiting to go out
 * again (a resend, or a place the venue answered retryable) is never ended on egress's word alone: an earlier copy may
 * be live at the venue, so it goes to Unknown with the cancel wanted, holding its worst case, and reconciliation reads
 * it back (not found after the grace: it ends; found open: its cancel goes out; filled: booked). A cancel is never
 * shed and never refused by a kill switch, by data health or by overload. Repeating a cancel is harmless.
 */

import type { ReasonCode } from '../domain/reasons.ts'
import { traceMemberOf } from '../domain/trace-context.ts'
import { attributed } from './attribution.ts'
import { DONE_REPLY, type CancelCommand, type Decision } from './commands.ts'
import { emit, emitterFor } from './emit.ts'
import { mayActFor } from './permissions.ts'
import type { KernelState } from './state.ts'
import type { DomainEvent } from '../domain/events/index.ts'
import type { Order } from '../domain/orders.ts'

export function decideCancel(state: KernelState, command: CancelCommand): Decision {
  const order = state.orders.get(command.orderId)
  if (order === undefined) return { events: [], reply: { kind: 'refused', reason: 'ORDER_NOT_FOUND', detail: command.orderId } }
  if (!mayActFor(command.principal, order.accountId)) {
    return { events: [], reply: { kind: 'refused', reason: 'ACCOUNT_NOT_PERMITTED', detail: order.accountId } }
  }
  if (order.status === 'CancelRequested' || order.status === 'CancelPending' || (order.status === 'Unknown' && order.cancelWanted)) {
    return { events: [], reply: DONE_REPLY }
  }
  const input = { atMs: command.nowMs, principalId: command.principal.id, reason: command.reason, configDigest: state.config?.digest, buildCommit: command.buildCommit }
  const events = cancelEvents(order, command.traceparent === undefined ? input : { ...input, traceparent: command.traceparent })
  if (events === null) {
    return { events: [], reply: { kind: 'refused', reason: 'ORDER_NOT_CANCELABLE', detail: `order is ${order.status}` } }
  }
  return { events, reply: DONE_REPLY }
}

/** The reasons an order never sent is canceled with on the spot. */
export type UnsentCancelReason = 'CANCELED_BEFORE_SEND' | 'TTL_EXPIRED' | 'STALE_AT_START' | 'MODE_ESCALATED' | 'KILL_SWITCH_HALT' | 'KILL_SWITCH_CANCEL_ONLY' | 'ACCOUNT_HALTED' | 'ACCOUNT_CANCEL_ONLY' | 'OCO_SIBLING_FILLED' | 'OCO_SIBLING_CANCELED' | 'OCO_SIBLING_ENDED' | 'OCO_LEG_REVIVED'

/**
 * The events that cancel `order`, or null when it is already done. Shared with flatten, mode escalation and kill switches
 * (which end an order never sent with their own `unsentReason`; CANCELED_BEFORE_SEND when not given). The record that
 * answers the cancel (order.cancel_requested, or order.canceled for an order never sent) carries who decided it under
 * which config and build (attribution.ts), each when given.
 */
export function cancelEvents(
  order: Order,
  input: CancelInput,
): DomainEvent[] | null {
  const emitter = emitterFor(order)
  const at = { atMs: input.atMs, orderId: order.orderId }
  // The request's trace goes on the record that answers it: the cancel itself, or the local end of an unsent order.
  const trace = traceMemberOf(input)
  if (order.status === 'Enqueued' && order.sendAttempts === 0) {
    // The end names who ended it, as a cancel request would: for an order never sent it is the only record of the cancel.
    emit(emitter, attributed({ type: 'order.canceled', ...at, reason: input.unsentReason ?? 'CANCELED_BEFORE_SEND', source: 'local', ...trace, principalId: input.principalId }, input))
    return emitter.events
  }
  if (order.status === 'Enqueued') {
    const detail = `canceled while waiting to be sent again (attempt ${order.sendAttempts} went out): an earlier copy may be at the venue, read back before the order ends`
    emit(emitter, { type: 'order.unknown', ...at, reason: 'VENUE_OUTCOME_UNKNOWN', detail })
    emit(emitter, attributed({ type: 'order.cancel_requested', ...at, principalId: input.principalId, reason: input.reason, ...trace }, input))
    return emitter.events
  }
  if (order.status === 'Sent' || order.status === 'AckedOpen' || order.status === 'Partial' || order.status === 'Unknown') {
    // A cancel supersedes an amend still waiting in Lane2 (one already at the venue is settled by its answer).
    const amend = order.amend
    if (amend?.stage === 'requested') {
      emit(emitter, { type: 'order.amend_failed', ...at, amendId: amend.amendId, reason: 'AMEND_SUPERSEDED', detail: 'a cancel was requested before the amend was sent' })
    }
    emit(emitter, attributed({ type: 'order.cancel_requested', ...at, principalId: input.principalId, reason: input.reason, ...trace }, input))
    return emitter.events
  }
  return null
}

/** What a cancel is decided with: who, when, why, and the config and build it is decided under (attribution.ts). */
export interface CancelInput {
  atMs: number
  principalId: string
  reason: ReasonCode
  unsentReason?: UnsentCancelReason
  traceparent?: string
  /** The kernel's config digest (state.config); undefined when it holds none. */
  configDigest?: string | undefined
  /** The command's build; undefined when the command carries none (a venue's answer, an older leader's record). */
  buildCommit?: string | undefined
}
