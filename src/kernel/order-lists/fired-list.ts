/**
 * The fired list an order is a leg of, if any: the open one its leg index names, or else an ended one kept
 * (ORDER_LISTS_ENDED_KEPT_MAX; a scan, for the rare callers that ask about an ended order — a resend). Once a list has
 * fired, its legs' story is settled: the sibling was canceled for it, so a leg that ended (Failed, proven never
 * received) is not sent again — it would work on alone, a take-profit without its stop-loss, under a list that says it
 * fired (resend.ts). A leg of a list forgotten since is no longer known as one.
 */

import type { OrderList } from '../../domain/order-lists.ts'
import type { KernelState } from '../state.ts'

export function firedListOf(state: KernelState, orderId: string): OrderList | null {
  const { byLeg, lists } = state.orderLists
  const openId = byLeg.get(orderId)
  if (openId !== undefined) {
    const list = lists.get(openId)
    return list !== undefined && list.triggered !== null ? list : null
  }
  for (const list of lists.values()) {
    if (list.endedAtMs !== null && list.triggered !== null && list.legs.includes(orderId)) return list
  }
  return null
}
