/**
 * The synthetic quantity of an order still pending its true-up (Order.syntheticPendingQty, …Cash, …Notional): it grows
 * with each synthetic fill (order.synthetic_pending) and shrinks, by the share it records, with each real fill that
 * trues it up (order.fill_trued_up; synthetic-cover.ts). One definition for apply and for a decision's draft.
 */

import { assert } from '../domain/assert.ts'
import type { DomainEvent } from '../domain/events/index.ts'
import type { Order } from '../domain/orders.ts'
import { fillAmounts } from './ledger.ts'

export type PendingEvent = Extract<DomainEvent, { type: 'order.synthetic_pending' | 'order.fill_trued_up' }>

export function changePending(order: Order, event: PendingEvent): void {
  if (event.type === 'order.synthetic_pending') {
    const { cash, notional } = fillAmounts(order.side, event.qty, event.price)
    order.syntheticPendingQty += event.qty
    order.syntheticPendingCash += cash
    order.syntheticPendingNotional += notional
    return
  }
  assert(
    event.qty <= order.syntheticPendingQty && event.syntheticCash <= order.syntheticPendingCash && event.syntheticNotional <= order.syntheticPendingNotional,
    () => `true-up of ${order.orderId} takes more than its pending synthetic quantity`,
  )
  order.syntheticPendingQty -= event.qty
  order.syntheticPendingCash -= event.syntheticCash
  order.syntheticPendingNotional -= event.syntheticNotional
}
