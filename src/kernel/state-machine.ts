/**
 * The order state machine (§7.1): the whole transition table, in one place. A transition not listed here is
 * forbidden; decide() refuses it and records `order.transition_refused` instead of applying it, and apply() asserts
 * it never sees one. Self-transitions listed below are deliberate no-ops that absorb duplicated or reordered venue
 * news (§7.3) — e.g. a late `new` report for an order already known to be open.
 */

import type { OrderState } from '../domain/states.ts'

export type TransitionName =
  | 'accept'
  | 'enqueue'
  | 'reject_intake'
  | 'send'
  | 'send_blocked'
  | 'requeue'
  | 'ack'
  | 'venue_reject'
  | 'fill_partial'
  | 'fill_full'
  | 'cancel_request'
  | 'cancel_local'
  | 'cancel_send'
  | 'cancel_ack'
  | 'cancel_retry'
  | 'venue_cancel'
  | 'expire'
  | 'unknown'
  | 'reconcile_open'
  | 'reconcile_partial'
  | 'reconcile_filled'
  | 'reconcile_canceled'
  | 'reconcile_rejected'
  | 'reconcile_expired'
  | 'reconcile_failed'
  | 'reconcile_cancel_requested'
  | 'resend'
  | 'amend_request'
  | 'amend_send'
  | 'amend_apply'

type Row = Partial<Record<OrderState, OrderState>>

/** States in which the venue may hold the order: where venue news can land. */
const AT_VENUE = ['Sent', 'AckedOpen', 'Partial', 'CancelRequested', 'CancelPending', 'Unknown'] as const

function row(froms: readonly OrderState[], to: OrderState | 'same'): Row {
  return Object.fromEntries(froms.map((from) => [from, to === 'same' ? from : to])) as Row
}

const RECONCILABLE = ['Unknown', 'CancelPending', 'CancelRequested', 'AckedOpen', 'Partial'] as const

export const TRANSITIONS: Readonly<Record<TransitionName, Row>> = {
  accept: { Draft: 'Validated' },
  enqueue: { Validated: 'Enqueued' },
  reject_intake: { Draft: 'Rejected', Validated: 'Rejected' },
  send: { Enqueued: 'Sent' },
  send_blocked: { Enqueued: 'Rejected' },
  requeue: { Sent: 'Enqueued' },
  ack: {
    Sent: 'AckedOpen',
    Unknown: 'AckedOpen',
    ...row(['AckedOpen', 'Partial', 'CancelRequested', 'CancelPending', 'Filled', 'Canceled', 'Expired'], 'same'),
  },
  // Rejected → Rejected is for replay: logs written before inbox.ts recorded nothing for a reject report of an order the
  // place's answer had already rejected hold a second `order.venue_rejected`, and apply() must still take it.
  venue_reject: { ...row(['Sent', 'CancelRequested', 'Unknown'], 'Rejected'), Rejected: 'Rejected' },
  fill_partial: {
    ...row(['Sent', 'AckedOpen', 'Partial', 'Unknown'], 'Partial'),
    // A fill racing a cancel is normal: the cancel is still wanted for the rest.
    ...row(['CancelRequested', 'CancelPending'], 'same'),
    // A late fill after the venue confirmed a cancel or expiry: the money moved, the order stays done.
    ...row(['Canceled', 'Expired'], 'same'),
  },
  fill_full: row([...AT_VENUE, 'Canceled', 'Expired'], 'Filled'),
  cancel_request: {
    ...row(['Sent', 'AckedOpen', 'Partial'], 'CancelRequested'),
    ...row(['CancelRequested', 'CancelPending', 'Unknown'], 'same'),
  },
  cancel_local: { Enqueued: 'Canceled', CancelRequested: 'Canceled' },
  cancel_send: { CancelRequested: 'CancelPending' },
  cancel_ack: { CancelPending: 'CancelPending' },
  cancel_retry: { CancelPending: 'CancelRequested' },
  // Canceled → Canceled and Expired → Expired are for replay: logs written before inbox.ts recorded nothing for a
  // repeated end (endToldAgain) hold a second `order.canceled` / `order.expired`, and apply() must still take it.
  venue_cancel: { ...row(AT_VENUE, 'Canceled'), Canceled: 'Canceled' },
  expire: { ...row(AT_VENUE, 'Expired'), Expired: 'Expired' },
  // Unknown is where anomalies go (§7.3), including venue news that contradicts a terminal state.
  // A refused cancel also lands here: the venue may have refused because the order is already done, or unknown to it.
  // So does an order sent before and waiting in Enqueued to go out again, when the venue reports on it (inbox.ts).
  unknown: row([...AT_VENUE, 'Enqueued', 'Filled', 'Canceled', 'Expired', 'Rejected', 'Failed'], 'Unknown'),
  reconcile_open: row(RECONCILABLE, 'AckedOpen'),
  reconcile_partial: row(RECONCILABLE, 'Partial'),
  reconcile_filled: row(RECONCILABLE, 'Filled'),
  reconcile_canceled: row(RECONCILABLE, 'Canceled'),
  reconcile_rejected: row(RECONCILABLE, 'Rejected'),
  reconcile_expired: row(RECONCILABLE, 'Expired'),
  reconcile_failed: row(['Unknown'], 'Failed'),
  reconcile_cancel_requested: row(['Unknown', 'CancelPending', 'AckedOpen', 'Partial'], 'CancelRequested'),
  resend: { Failed: 'Enqueued' },
  // An amend changes quantity and price, never the state: it is only asked for and sent while the order rests open,
  // and venue evidence that it was applied may land wherever the venue can still touch the order.
  amend_request: row(['AckedOpen', 'Partial'], 'same'),
  amend_send: row(['AckedOpen', 'Partial'], 'same'),
  amend_apply: row(AT_VENUE, 'same'),
}

export type TransitionResult = { ok: true; to: OrderState } | { ok: false; from: OrderState; transition: TransitionName }

export function transition(from: OrderState, name: TransitionName): TransitionResult {
  const to = transitionTarget(from, name)
  return to === undefined ? { ok: false, from, transition: name } : { ok: true, to }
}

/** The state `name` leads to from `from`, or undefined when it is forbidden; for apply, which needs no result object. */
export function transitionTarget(from: OrderState, name: TransitionName): OrderState | undefined {
  return TRANSITIONS[name][from]
}

const RECONCILE_TRANSITIONS: Partial<Record<OrderState, TransitionName>> = {
  AckedOpen: 'reconcile_open',
  Partial: 'reconcile_partial',
  Filled: 'reconcile_filled',
  Canceled: 'reconcile_canceled',
  Rejected: 'reconcile_rejected',
  Expired: 'reconcile_expired',
  Failed: 'reconcile_failed',
  CancelRequested: 'reconcile_cancel_requested',
}

/** The transition a reconcile result to `to` uses, or null if reconciliation may not conclude that state. */
export function reconcileTransition(to: OrderState): TransitionName | null {
  return RECONCILE_TRANSITIONS[to] ?? null
}
