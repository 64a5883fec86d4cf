/**
 * The held order lists by account and list key: a list's idempotency. A list key names one list while the kernel holds
 * it, whatever its legs' keys (a retry with new leg client_order_ids is the same list's repeat: a conflict if its body
 * differs), so a list's id need not be a function of its key alone (place-list.ts listIdFor, under the key window).
 *
 * A cache of `state.orderLists.lists` (one per Map object), built from it the first time a Map is seen (a restored
 * snapshot, a clone) and kept by apply-list.ts as lists are taken and forgotten. At most one held list has a key: a
 * second under it is decided as the first's repeat.
 */

import type { OrderList } from '../../domain/order-lists.ts'
import type { KernelState } from '../state.ts'

const indexes = new WeakMap<Map<string, OrderList>, Map<string, string>>()

function keyOf(accountId: string, listKey: string): string {
  return `${accountId} ${listKey}`
}

function indexOf(lists: Map<string, OrderList>): Map<string, string> {
  let index = indexes.get(lists)
  if (index === undefined) {
    index = new Map()
    for (const list of lists.values()) index.set(keyOf(list.accountId, list.listKey), list.listId)
    indexes.set(lists, index)
  }
  return index
}

/** The id of the list the kernel holds under this account's list key, if any. */
export function heldListIdOf(state: KernelState, accountId: string, listKey: string): string | undefined {
  return indexOf(state.orderLists.lists).get(keyOf(accountId, listKey))
}

/** A list taken into `lists` (apply-list.ts). */
export function noteListHeld(lists: Map<string, OrderList>, list: OrderList): void {
  indexes.get(lists)?.set(keyOf(list.accountId, list.listKey), list.listId)
}

/** A list forgotten from `lists` (apply-list.ts). */
export function noteListForgotten(lists: Map<string, OrderList>, list: OrderList): void {
  const index = indexes.get(lists)
  const key = keyOf(list.accountId, list.listKey)
  if (index?.get(key) === list.listId) index.delete(key)
}
