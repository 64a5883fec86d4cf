/**
 * The fired list an order is a leg of, if any: the open one or the ended one kept (the leg indexes of
 * src/domain/order-lists.ts). Once a list has fired, its legs' story is settled: the sibling was canceled for it, so a
 * leg that ended (Failed, proven never received) is not sent again — it would work on alone, a take-profit without
 * its stop-loss, under a list that says it fired (resend.ts). An ended list is kept while the kernel holds a leg of
 * it (apply-list.ts), so every leg that could be resent finds its list.
 */

import type { OrderList } from '../../domain/order-lists.ts'
import type { KernelState } from '../state.ts'

export function firedListOf(state: KernelState, orderId: string): OrderList | null {
  const { byLeg, endedByLeg, lists } = state.orderLists
  const listId = byLeg.get(orderId) ?? endedByLeg.get(orderId)
  const list = listId === undefined ? undefined : lists.get(listId)
  return list !== undefined && list.triggered !== null ? list : null
}
