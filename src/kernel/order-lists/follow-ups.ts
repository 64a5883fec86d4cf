/**
 * OCO: the kernel's own follow-up to any decision that touches a leg of an open list. When a leg executes (an
 * `order.fill`, even partial), is canceled (`order.cancel_requested` or `order.canceled`, by anyone: the user, a
 * flatten, a kill switch, the venue) or ends any other way (rejected, expired, failed), and the list has not fired
 * yet, the same decision gets `order_list.triggered` and the cancel of the other leg — the events a user's cancel would
 * give (cancelEvents, Lane0), with a reason that names the list (OCO_SIBLING_FILLED, _CANCELED, _ENDED).
 *
 * Why inside the decision and not as a later command: the fill and the sibling's cancel are then one durable batch,
 * so no crash, restart or failover can leave a list whose leg filled with its sibling still working and no record of
 * why; replay applies the records, and a standby or redecide deciding the same command on the same state gets the same
 * events. A list fires once (`triggered` is set when its record applies): a fill of the second leg racing the sibling
 * cancel (both legs executed) fires nothing more and cancels nothing twice; it asks the cancel of the first leg's rest
 * when that leg is still working with none asked (executedAfterFiring), once, as any sibling's.
 */

import { formatDecimal } from '../../domain/decimal.ts'
import type { DomainEvent } from '../../domain/events/index.ts'
import type { OrderList, OrderListTriggerCause } from '../../domain/order-lists.ts'
import { siblingOf } from '../../domain/order-lists.ts'
import type { Order } from '../../domain/orders.ts'
import type { ReasonCode } from '../../domain/reasons.ts'
import { isTerminal } from '../../domain/states.ts'
import { cancelEvents, type UnsentCancelReason } from '../cancel.ts'
import type { Decision } from '../commands.ts'
import { transitionOf } from '../event-transition.ts'
import { transitionTarget } from '../state-machine.ts'
import type { KernelState } from '../state.ts'

const REASON_OF: Record<OrderListTriggerCause, ReasonCode & UnsentCancelReason> = {
  fill: 'OCO_SIBLING_FILLED',
  canceled: 'OCO_SIBLING_CANCELED',
  ended: 'OCO_SIBLING_ENDED',
}

export interface Fired {
  list: OrderList
  legOrderId: string
  cause: OrderListTriggerCause
  atMs: number
}

/** `decision` with the follow-ups of the lists it fires appended (the decision itself when it fires none). */
export function withListFollowUps(state: KernelState, decision: Decision): Decision {
  const { byLeg, lists } = state.orderLists
  if (byLeg.size === 0 || decision.events.length === 0) return decision
  // Each leg the decision touches, as its events leave it (status and whether a cancel is wanted).
  const drafts = new Map<string, Order>()
  const fired: Fired[] = []
  const raced: Fired[] = []
  const doubled: DomainEvent[] = []
  for (const event of decision.events) {
    const orderId = legEventOrderId(event)
    if (orderId === null) continue
    const listId = byLeg.get(orderId)
    if (listId === undefined) continue
    const draft = advanceDraft(state, drafts, orderId, event)
    if (draft === null) continue
    const list = lists.get(listId)
    if (list === undefined || fired.some((item) => item.list === list)) continue
    if (list.triggered !== null) {
      if (executedAfterFiring(list, orderId, event) && !raced.some((item) => item.list === list)) raced.push({ list, legOrderId: orderId, cause: 'fill', atMs: event.atMs })
      const alert = bothExecutedAlert(state, list, orderId, event)
      if (alert !== null && !doubled.some((item) => item.type === 'alert.raised' && item.orderId === orderId)) doubled.push(alert)
      continue
    }
    const cause = causeOf(event, draft)
    if (cause !== null) fired.push({ list, legOrderId: orderId, cause, atMs: event.atMs })
  }
  if (fired.length === 0 && raced.length === 0 && doubled.length === 0) return decision
  const events = [...decision.events]
  for (const item of fired) events.push(...followUp(state, drafts, item))
  // The leg that fired the list works on only while its sibling has not executed too.
  for (const item of raced) events.push(...siblingCancel(state, drafts, item))
  events.push(...doubled)
  return { events, reply: decision.reply }
}

/**
 * The alert (OCO_BOTH_EXECUTED) when `event` is the first fill of a leg of fired `list` whose other leg has executed
 * already: both legs of a one-cancels-the-other list traded (the second's cancel reached the venue too late), so the
 * account holds up to twice the exposure the list was for — a stop-loss sold on top of a take-profit — and an operator
 * must hear of it, once, as the pair's overfill it is. Each leg held its own reservation, so both are covered.
 */
function bothExecutedAlert(state: KernelState, list: OrderList, orderId: string, event: DomainEvent): DomainEvent | null {
  if (event.type !== 'order.fill' || (state.orders.get(orderId)?.cumQty ?? 0n) > 0n) return null
  const siblingId = siblingOf(list, orderId)
  if (siblingId === null) return null
  const sibling = state.orders.get(siblingId)
  // A sibling retention retired (ended, past its grace or the cap) is known to have executed when its fill fired the list.
  const executed = sibling === undefined ? list.triggered?.legOrderId === siblingId && list.triggered.cause === 'fill' : sibling.cumQty > 0n
  if (!executed) return null
  const had = sibling === undefined ? 'its fill fired the list; the order is retired since' : formatDecimal(sibling.cumQty)
  const detail = `both legs of OCO list ${list.listId} executed: ${orderId} filled after ${siblingId} had (${had}); its cancel came too late`
  return { type: 'alert.raised', atMs: event.atMs, reason: 'OCO_BOTH_EXECUTED', orderId, detail }
}

/**
 * Whether `event` is a fill of the leg that did not fire the fired `list`: both legs executed (the sibling filled at
 * the venue before its cancel got there). The leg that fired it by executing, left working, would take the rest of its
 * quantity on top of the sibling's: a take-profit's remainder still selling after the stop-loss sold the position.
 * It is canceled as the sibling of an executed leg (siblingCancel: nothing when it has ended or has its cancel asked).
 * A list still fires once; its `triggered` record stays the first leg's.
 */
function executedAfterFiring(list: OrderList, orderId: string, event: DomainEvent): boolean {
  return event.type === 'order.fill' && list.triggered !== null && list.triggered.legOrderId !== orderId
}

/**
 * The legs of open lists that `events` touch, as the events leave them (status and whether a cancel is wanted): what
 * a follow-up appended after those events is decided on.
 */
export function legDrafts(state: KernelState, events: readonly DomainEvent[]): Map<string, Order> {
  const drafts = new Map<string, Order>()
  const { byLeg } = state.orderLists
  if (byLeg.size === 0) return drafts
  for (const event of events) {
    const orderId = legEventOrderId(event)
    if (orderId !== null && byLeg.has(orderId)) advanceDraft(state, drafts, orderId, event)
  }
  return drafts
}

export function advanceDraft(state: KernelState, drafts: Map<string, Order>, orderId: string, event: DomainEvent): Order | null {
  const order = drafts.get(orderId) ?? state.orders.get(orderId)
  if (order === undefined) return null
  const draft = advance(order, event)
  drafts.set(orderId, draft)
  return draft
}

/** A list's firing: its `order_list.triggered`, then the sibling's cancel when one is still to be asked for. */
export function followUp(state: KernelState, drafts: Map<string, Order>, item: Fired): DomainEvent[] {
  const { list, legOrderId, cause, atMs } = item
  const trigger: DomainEvent = { type: 'order_list.triggered', atMs, listId: list.listId, legOrderId, cause }
  return [trigger, ...siblingCancel(state, drafts, item)]
}

/** The cancel of the fired leg's sibling (reason naming the list), or nothing when the sibling needs none. */
export function siblingCancel(state: KernelState, drafts: Map<string, Order>, item: Fired): DomainEvent[] {
  const { list, legOrderId, cause, atMs } = item
  const siblingId = siblingOf(list, legOrderId)
  const sibling = siblingId === null ? undefined : (drafts.get(siblingId) ?? state.orders.get(siblingId))
  // Done already, or its cancel asked for (by the same decision — a flatten, a kill switch — or before): nothing to add.
  if (sibling === undefined || !siblingWantsCancel(sibling)) return []
  const reason = REASON_OF[cause]
  // A venue's answer fired it: the config digest is the kernel's, and no build is named (the command carries none).
  return cancelEvents(sibling, { atMs, principalId: list.principalId, reason, unsentReason: reason, configDigest: state.config?.digest }) ?? []
}

/** Whether a fired list's sibling still needs its cancel asked for: not ended, and no cancel asked for it yet. */
export function siblingWantsCancel(sibling: Order): boolean {
  if (isTerminal(sibling.status) || sibling.cancelWanted) return false
  return sibling.status !== 'CancelRequested' && sibling.status !== 'CancelPending'
}

function causeOf(event: DomainEvent, draft: Order): OrderListTriggerCause | null {
  if (event.type === 'order.fill') return 'fill'
  if (event.type === 'order.cancel_requested' || event.type === 'order.canceled') return 'canceled'
  return isTerminal(draft.status) ? 'ended' : null
}

/** The order as `event` leaves it, in what the follow-up reads: its status and whether a cancel is wanted. */
function advance(order: Order, event: DomainEvent): Order {
  const name = transitionOf(event, order)
  const status = name === null ? order.status : (transitionTarget(order.status, name) ?? order.status)
  const cancelWanted = order.cancelWanted || event.type === 'order.cancel_requested'
  const qty = event.type === 'order.amended' ? event.qty : order.qty
  return { ...order, status, cancelWanted, qty }
}

/** The order an order-lifecycle event is about; null for the others (and for records that name no order). */
export function legEventOrderId(event: DomainEvent): string | null {
  if (!event.type.startsWith('order.') || event.type === 'order.accepted' || event.type === 'order.rejected') return null
  return 'orderId' in event && typeof event.orderId === 'string' ? event.orderId : null
}
