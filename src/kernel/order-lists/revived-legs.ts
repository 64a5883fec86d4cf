/**
 * A leg of a fired OCO list that comes back live is canceled. Once a list has fired, its legs other than one that
 * executed are done with: the sibling's cancel was asked when it fired (follow-ups.ts), and a leg that fired it by
 * ending or being canceled has ended. But venue news can contradict an end: a leg found not at the venue (Failed)
 * that the venue reports after all, a canceled one whose cancel report shows fills egress missed — it goes Unknown,
 * then open again (inbox.ts, reconcile.ts). A leg whose cancel was asked keeps it (Order.cancelWanted: a read-back
 * finding it open makes it CancelRequested, an ack or fill sends the cancel again); one that ended with no cancel
 * asked — the leg that fired the list by failing, or a sibling already ended when it fired — would work on alone, a
 * take-profit without its stop-loss, under a list that says it fired, even after the list ended.
 *
 * So any decision that leaves such a leg not ended and with no cancel asked gets, in the same decision, that leg's
 * cancel: the events a user's cancel gives (cancelEvents, Lane0), reason OCO_LEG_REVIVED. Guarded are the sibling of
 * the leg that fired the list, and that leg too unless it fired the list by executing (it is the leg that works on).
 * Lists open and ended alike: an ended list is kept while the kernel holds a leg of it (apply-list.ts), and a leg
 * retired cannot come back. Deterministic (the decision's events and the state), so replay, a standby and redecide
 * reach the same records; a cancel asked stays asked, so it is never asked twice.
 */

import type { DomainEvent } from '../../domain/events/index.ts'
import type { OrderList, OrderListTrigger } from '../../domain/order-lists.ts'
import { siblingOf } from '../../domain/order-lists.ts'
import type { Order } from '../../domain/orders.ts'
import { cancelEvents } from '../cancel.ts'
import type { Decision } from '../commands.ts'
import type { KernelState } from '../state.ts'
import { firedListOf } from './fired-list.ts'
import { advanceDraft, legEventOrderId, siblingWantsCancel } from './follow-ups.ts'

/** `decision` with the cancel of each leg of a fired list it leaves live with no cancel asked (itself when none). */
export function withRevivedLegsCanceled(state: KernelState, decision: Decision): Decision {
  const { byLeg, endedByLeg } = state.orderLists
  if (decision.events.length === 0 || (byLeg.size === 0 && endedByLeg.size === 0)) return decision
  // The legs of kept lists the decision touches, as its events leave them, and when it last touched each.
  const drafts = new Map<string, Order>()
  const touchedAtMs = new Map<string, number>()
  for (const event of decision.events) {
    const orderId = legEventOrderId(event)
    if (orderId === null || (!byLeg.has(orderId) && !endedByLeg.has(orderId))) continue
    advanceDraft(state, drafts, orderId, event)
    touchedAtMs.set(orderId, event.atMs)
  }
  if (drafts.size === 0) return decision
  const added: DomainEvent[] = []
  for (const [orderId, atMs] of touchedAtMs) {
    // A list this decision fires is not fired yet in the state: its sibling's cancel comes from the firing (follow-ups.ts).
    const list = firedListOf(state, orderId)
    const draft = drafts.get(orderId)
    if (list === null || list.triggered === null || draft === undefined || !guarded(list, list.triggered, orderId) || !siblingWantsCancel(draft)) continue
    added.push(...revivedCancel(list, draft, atMs, state.config?.digest))
  }
  return added.length === 0 ? decision : { events: [...decision.events, ...added], reply: decision.reply }
}

/**
 * The cancel of `leg`, a guarded leg of fired `list` found live with no cancel asked, at `atMs` (reason OCO_LEG_REVIVED),
 * recorded with the kernel's config digest (a venue's answer caused it: no build is named).
 */
export function revivedCancel(list: OrderList, leg: Order, atMs: number, configDigest: string | undefined): DomainEvent[] {
  return cancelEvents(leg, { atMs, principalId: list.principalId, reason: 'OCO_LEG_REVIVED', unsentReason: 'OCO_LEG_REVIVED', configDigest }) ?? []
}

/**
 * Whether a fired list's leg must not work on: the sibling of the leg that fired it, and that leg unless it fired the
 * list by executing (its rest works on: one cancels the other, not itself).
 */
export function guarded(list: OrderList, trigger: Pick<OrderListTrigger, 'legOrderId' | 'cause'>, orderId: string): boolean {
  if (orderId === trigger.legOrderId) return trigger.cause !== 'fill'
  return siblingOf(list, trigger.legOrderId) === orderId
}
