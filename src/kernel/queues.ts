/**
 * Lane membership, derived from order state: Enqueued orders wait in their lane to be placed, CancelRequested orders
 * wait in Lane0 to be canceled, Unknown orders wait in Lane3 to be reconciled. apply() calls syncQueues after every
 * order change so the queues are a pure function of the orders (and therefore replay-equal).
 */

import type { Lane } from '../domain/modes.ts'
import type { Order } from '../domain/orders.ts'
import type { KernelState, WorkKind } from './state.ts'

export function workFor(order: Order): { lane: Lane; kind: WorkKind } | null {
  switch (order.status) {
    case 'Enqueued':
      return { lane: order.lane, kind: 'place' }
    case 'CancelRequested':
      return { lane: 0, kind: 'cancel' }
    case 'Unknown':
      return { lane: 3, kind: 'reconcile' }
    default:
      return null
  }
}

export function syncQueues(state: KernelState, order: Order): void {
  const wanted = workFor(order)
  state.queues.forEach((queue, lane) => {
    const present = queue.get(order.orderId)
    if (wanted !== null && wanted.lane === lane) {
      if (present !== wanted.kind) {
        queue.delete(order.orderId)
        queue.set(order.orderId, wanted.kind)
      }
    } else if (present !== undefined) {
      queue.delete(order.orderId)
    }
  })
}
