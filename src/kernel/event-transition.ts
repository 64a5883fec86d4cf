/**
 * Which state-machine transition an order event performs. decide() uses it to check an event before emitting it;
 * apply() uses it to perform the event. One mapping, so the two can never disagree.
 */

import type { DomainEvent } from '../domain/events/index.ts'
import type { Order } from '../domain/orders.ts'
import { reconcileTransition, type TransitionName } from './state-machine.ts'

export function transitionOf(event: DomainEvent, order: Order): TransitionName | null {
  switch (event.type) {
    case 'order.cancel_requested':
      return 'cancel_request'
    case 'order.canceled':
      return event.source === 'local' ? 'cancel_local' : 'venue_cancel'
    case 'order.send_requested':
      return 'send'
    case 'order.cancel_send_requested':
      return 'cancel_send'
    case 'order.send_blocked':
      // A blocked place rejects an order waiting in Enqueued; one sent before went Unknown just before it (send.ts
      // readBackBlocked), and the record only keeps the gate's verdict.
      return event.action === 'place' && order.status === 'Enqueued' ? 'send_blocked' : null
    case 'order.amend_requested':
      return 'amend_request'
    case 'order.amend_send_requested':
      return 'amend_send'
    case 'order.amended':
      return 'amend_apply'
    case 'order.send_acked':
      return 'ack'
    case 'order.send_retry':
      // A retried amend goes back to Lane2 without a state change.
      return event.action === 'place' ? 'requeue' : event.action === 'cancel' ? 'cancel_retry' : null
    case 'order.venue_rejected':
      return 'venue_reject'
    case 'order.cancel_acked':
      return 'cancel_ack'
    case 'order.unknown':
      return 'unknown'
    case 'order.fill':
      return event.cumQty === order.qty ? 'fill_full' : 'fill_partial'
    case 'order.expired':
      return 'expire'
    case 'order.reconciled':
      // Confirming the state the order is already in (trades booked in the same decision got it there) is a record,
      // not a transition.
      return event.to === order.status ? null : reconcileTransition(event.to)
    case 'order.resend_requested':
      return 'resend'
    default:
      return null
  }
}
