/**
 * A start's repair of the OCO lists a torn log tail left half-decided. A list fires in the decision of the leg event
 * that fires it (follow-ups.ts): the leg's fill, cancel or end, then `order_list.triggered`, then the sibling's cancel,
 * one append. But the log cuts a damaged tail at record boundaries, not at decision boundaries (wal/ tail repair;
 * DESIGN on the power cut's cut): a power cut can keep the leg's record and lose what the same decision wrote after
 * it. Nothing fires that list again — the leg's event is in the log, no later event is a new one — so the sibling
 * would work on alone, a take-profit without its stop-loss.
 *
 * So the start's `bootstrap` decision repairs, after its own events, every list the log left in one of these states:
 *   - not fired, with a leg filled (any fill), asking for its cancel, canceled or otherwise ended (or no longer held):
 *     `order_list.triggered` and the sibling's cancel, as the live decision would have written them, with the cause
 *     the leg's state shows (fill before a cancel before an end; the first such leg in the list's order);
 *   - fired, with the sibling not ended and no cancel ever asked for it (the cut fell between the trigger and the
 *     cancel): the sibling's cancel, with the reason of the recorded cause;
 *   - fired by a leg's fill, open, the sibling executed too and the leg that fired it not ended with no cancel asked (the
 *     cut fell between the sibling's fill and the cancel of that leg's rest, follow-ups.ts executedAfterFiring): that
 *     leg's cancel, OCO_SIBLING_FILLED;
 *   - fired, open or ended, with a leg that came back live and no cancel asked (revived-legs.ts: the cut fell between
 *     the news that brought it back and its cancel) — the leg that fired it (unless by executing), or a leg of an
 *     ended list: its cancel, OCO_LEG_REVIVED.
 * None can arise on a whole log: a leg's firing event and the list's firing are one decision, so are a leg's return
 * and its cancel, and a cancel, once asked, stays asked (Order.cancelWanted). Deterministic (the lists in acceptance
 * order, the state and the command's time only) and idempotent: once its records are in the log the list is fired and
 * the cancels asked, so the next start — after another crash, even one that cut this decision — finds nothing to
 * repair or repairs it the same way. They are ordinary records, so replay, a standby and redecide see them as any
 * other decision's.
 */

import type { DomainEvent } from '../../domain/events/index.ts'
import type { OrderList, OrderListTriggerCause } from '../../domain/order-lists.ts'
import { siblingOf } from '../../domain/order-lists.ts'
import type { Order } from '../../domain/orders.ts'
import { isTerminal } from '../../domain/states.ts'
import type { Decision } from '../commands.ts'
import type { KernelState } from '../state.ts'
import { followUp, legDrafts, siblingCancel, siblingWantsCancel } from './follow-ups.ts'
import { guarded, revivedCancel } from './revived-legs.ts'

/** `decision` (a start's bootstrap) with the firings a torn tail left out appended, decided at `atMs`. */
export function withTornListsFired(state: KernelState, decision: Decision, atMs: number): Decision {
  if (state.orderLists.lists.size === 0) return decision
  const drafts = legDrafts(state, decision.events)
  const firedHere = new Set<string>()
  for (const event of decision.events) if (event.type === 'order_list.triggered') firedHere.add(event.listId)
  const added: DomainEvent[] = []
  for (const list of state.orderLists.lists.values()) {
    if (firedHere.has(list.listId)) continue
    const legOf = (orderId: string): Order | undefined => drafts.get(orderId) ?? state.orders.get(orderId)
    if (list.triggered === null) {
      const fire = list.endedAtMs === null ? tornTrigger(list, legOf) : null
      if (fire !== null) added.push(...followUp(state, drafts, { list, ...fire, atMs }))
      continue
    }
    const { legOrderId, cause } = list.triggered
    for (const orderId of list.legs) {
      const leg = legOf(orderId)
      if (leg === undefined || !guarded(list, list.triggered, orderId) || !siblingWantsCancel(leg)) continue
      // An open list's sibling: the firing's cancel was cut. Otherwise the leg came back live after it had ended and
      // its cancel was cut (revived-legs.ts): the leg that fired the list, or any leg of an ended one.
      const revived = list.endedAtMs !== null || orderId === legOrderId
      if (!revived) added.push(...siblingCancel(state, drafts, { list, legOrderId, cause, atMs }))
      else added.push(...revivedCancel(list, leg, atMs, state.config?.digest))
    }
    // Both legs executed (the sibling filled before its cancel got there): the rest of the leg that fired the list by
    // executing is canceled in the decision of the sibling's fill (follow-ups.ts executedAfterFiring), cut after the fill.
    const sibling = cause === 'fill' && list.endedAtMs === null ? siblingOf(list, legOrderId) : null
    if (sibling !== null && (legOf(sibling)?.cumQty ?? 0n) > 0n) added.push(...siblingCancel(state, drafts, { list, legOrderId: sibling, cause, atMs }))
  }
  return added.length === 0 ? decision : { events: [...decision.events, ...added], reply: decision.reply }
}

/** The leg and cause that should have fired a list not fired, or null when none of its legs has done anything yet. */
function tornTrigger(list: OrderList, legOf: (orderId: string) => Order | undefined): { legOrderId: string; cause: OrderListTriggerCause } | null {
  for (const cause of ['fill', 'canceled', 'ended'] as const) {
    for (const legOrderId of list.legs) {
      if (legCause(legOf(legOrderId)) === cause) return { legOrderId, cause }
    }
  }
  return null
}

/** What a leg's state says fired it, as the live trigger would name it (follow-ups.ts causeOf); null: nothing yet. */
function legCause(order: Order | undefined): OrderListTriggerCause | null {
  // A leg no longer held was retired, which only an ended order is.
  if (order === undefined) return 'ended'
  if (order.cumQty > 0n) return 'fill'
  if (order.cancelWanted || order.status === 'Canceled' || order.status === 'CancelRequested' || order.status === 'CancelPending') return 'canceled'
  return isTerminal(order.status) ? 'ended' : null
}
