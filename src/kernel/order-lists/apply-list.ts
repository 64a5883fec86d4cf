/**
 * Applying order-list records, and ending a list when its second leg ends. A list is created by
 * `order_list.accepted` (its legs' `order.accepted` applied just before it), fired once by `order_list.triggered`,
 * and ended — no record: it follows from the legs' own records — when an order event leaves both legs terminal (a leg
 * the kernel retired was terminal). Ended lists beyond ORDER_LISTS_ENDED_KEPT_MAX are forgotten oldest first, up to
 * the first a leg of is still held (legHeld), past those a leg of is live again (legLive).
 */

import { assert } from '../../domain/assert.ts'
import type { EventOf } from '../../domain/events/index.ts'
import { ORDER_LISTS_ENDED_KEPT_MAX, type OrderList } from '../../domain/order-lists.ts'
import { isTerminal } from '../../domain/states.ts'
import type { KernelState } from '../state.ts'
import { noteListForgotten, noteListHeld } from './list-keys.ts'

export function applyOrderListEvent(state: KernelState, event: EventOf<'order_list.accepted' | 'order_list.triggered'>): void {
  const lists = state.orderLists
  if (event.type === 'order_list.accepted') {
    assert(!lists.lists.has(event.listId), () => `order list ${event.listId} accepted twice`)
    const list: OrderList = {
      listId: event.listId,
      type: event.listType,
      accountId: event.accountId,
      listKey: event.listKey,
      bodyDigest: event.bodyDigest,
      principalId: event.principalId,
      legs: [...event.legs],
      acceptedAtMs: event.atMs,
      triggered: null,
      endedAtMs: null,
    }
    for (const leg of list.legs) {
      assert(state.orders.has(leg), () => `order list ${event.listId}: leg ${leg} is not an order`)
      assert(!lists.byLeg.has(leg), () => `order ${leg} is a leg of two open lists`)
    }
    lists.lists.set(list.listId, list)
    noteListHeld(lists.lists, list)
    lists.open++
    for (const leg of list.legs) lists.byLeg.set(leg, list.listId)
    // A list whose legs both ended within its own decision (never: they were just accepted) would end here.
    endIfDone(state, list, event.atMs)
    return
  }
  const list = lists.lists.get(event.listId)
  assert(list !== undefined && list.triggered === null, () => `order list ${event.listId} is unknown or fired already`)
  list.triggered = { legOrderId: event.legOrderId, cause: event.cause, atMs: event.atMs }
}

/** After an order event: the list of which `orderId` is a leg ends if both its legs are now terminal. */
export function noteLegEvent(state: KernelState, orderId: string, atMs: number): void {
  const listId = state.orderLists.byLeg.get(orderId)
  if (listId === undefined) return
  const list = state.orderLists.lists.get(listId)
  assert(list !== undefined, () => `order ${orderId} names list ${listId}, which is not held`)
  endIfDone(state, list, atMs)
}

function endIfDone(state: KernelState, list: OrderList, atMs: number): void {
  for (const leg of list.legs) {
    const order = state.orders.get(leg)
    if (order !== undefined && !isTerminal(order.status)) return
  }
  const lists = state.orderLists
  list.endedAtMs = atMs
  lists.open--
  for (const leg of list.legs) {
    lists.byLeg.delete(leg)
    lists.endedByLeg.set(leg, list.listId)
  }
  let ended = lists.lists.size - lists.open
  if (ended <= ORDER_LISTS_ENDED_KEPT_MAX) return
  for (const [listId, kept] of lists.lists) {
    if (ended <= ORDER_LISTS_ENDED_KEPT_MAX) break
    if (kept.endedAtMs === null) continue
    // A list with a leg live again (revived-legs.ts) is walked past: that leg is never retired while it is live (a
    // cancel a quiet venue never answers), and stopping at it held every ended list behind it, for good.
    if (legLive(state, kept)) continue
    // Oldest first, and no further than the first still held: lists behind it wait (they go once it does) rather
    // than have every list end walk past all the held ones, which are most of the newer lists. Its legs are terminal,
    // so retired in time (retention.ts).
    if (legHeld(state, kept)) break
    lists.lists.delete(listId)
    noteListForgotten(lists.lists, kept)
    for (const leg of kept.legs) lists.endedByLeg.delete(leg)
    ended--
  }
}

/**
 * Whether the kernel still holds a leg of `list` (retention.ts has not retired it). An ended leg it holds can come
 * back: venue news contradicting its end (a report for a leg found not at the venue, fills a cancel report shows were
 * missed) moves it to Unknown and on to open, and its list must then be found — a leg of a fired list that comes back
 * is canceled (revived-legs.ts), a suspect proven never received is not resent (fired-list.ts; a suspect is never
 * retired while marked). Forgotten, the leg would be taken for a lone order and work on alone, a take-profit without
 * its stop-loss. A leg retired cannot come back: news of it is an orphan, and a resend or a cancel finds no order.
 * So the ended lists held are the newest ORDER_LISTS_ENDED_KEPT_MAX, those a leg of is held (the terminal orders'
 * own bound and grace, and the rare legs live again), and those accepted after the oldest with a held terminal leg.
 */
function legHeld(state: KernelState, list: OrderList): boolean {
  return list.legs.some((leg) => state.orders.has(leg))
}

/**
 * Whether a leg of ended `list` is live again (venue news brought it back, revived-legs.ts): rare, and the only held
 * leg of an ended list that retention never retires while it stays so. Walked past, so each list end costs at most
 * one step per such list.
 */
function legLive(state: KernelState, list: OrderList): boolean {
  return list.legs.some((leg) => {
    const order = state.orders.get(leg)
    return order !== undefined && !isTerminal(order.status)
  })
}
