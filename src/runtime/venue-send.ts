/**
 * The venue call one send record asks for: the place, cancel or amend the kernel decided (order.send_requested,
 * order.cancel_send_requested, order.amend_send_requested), built from the record and the order, made guarded, and
 * its answer handed back as the kernel's result command. The executor makes it only once the record is durable (the
 * outbox rule) and while this process still holds the lease (executor.ts callVenue); it counts the call.
 */

import type { Clock } from '../domain/clock.ts'
import type { DomainEvent, EventOf } from '../domain/events/index.ts'
import { currentClientOrderId, type Order } from '../domain/orders.ts'
import type { AmendResultCommand, CancelResultCommand, PlaceResultCommand } from '../kernel/index.ts'
import { venueFormOf } from '../kernel/index.ts'
import type { VenueAdapter, VenueOutcome } from '../venues/adapter.ts'
import { guarded } from './read-back.ts'

export type SendRequested = EventOf<'order.send_requested'> | EventOf<'order.cancel_send_requested'> | EventOf<'order.amend_send_requested'>

export type SendResultCommand = PlaceResultCommand | CancelResultCommand | AmendResultCommand

/** The send record among a send decision's events; undefined when the gate blocked or there is nothing to send. */
export function sendRequestedOf(events: readonly DomainEvent[]): SendRequested | undefined {
  return events.find(
    (event) => event.type === 'order.send_requested' || event.type === 'order.cancel_send_requested' || event.type === 'order.amend_send_requested',
  )
}

/**
 * Calls `adapter` as `requested` asks for `order` and hands its answer to `submit` (timed when it came); resolves
 * when `submit`'s does.
 */
export async function sendToVenue(
  adapter: VenueAdapter,
  order: Order,
  requested: SendRequested,
  options: { clock: Clock; submit: (command: SendResultCommand) => Promise<unknown>; observe?: (outcome: VenueOutcome<unknown>, sentAtMs: number, call: SendResultCommand['kind']) => void },
): Promise<void> {
  const { clock } = options
  const { orderId } = order
  const sentAtMs = clock.nowMs()
  // Every answer is seen by venue health scoring (venue-health-monitor.ts) and the auto-stop breakers (auto-stop.ts)
  // before the kernel decides on it.
  const submit = (command: SendResultCommand): Promise<unknown> => {
    options.observe?.(command.outcome, sentAtMs, command.kind)
    return options.submit(command)
  }
  if (requested.type === 'order.send_requested') {
    const outcome = await guarded(() =>
      adapter.place({
        clientOrderId: requested.venueClientOrderId,
        account: order.accountId,
        symbol: order.symbol,
        side: order.side,
        // A market order with a protection price goes out as a limit at it (venue-form.ts); anything else as it is.
        ...venueFormOf(order),
        qty: order.qty,
        postOnly: order.postOnly,
        reduceOnly: order.reduceOnly,
        // An earlier attempt may have reached the venue (a resend once it was proven absent, a retry): the venue is told.
        ...(requested.attempt > 1 ? { possibleResend: true as const } : {}),
      }),
    )
    await submit({ kind: 'place_result', nowMs: clock.nowMs(), orderId, outcome })
  } else if (requested.type === 'order.cancel_send_requested') {
    const outcome = await guarded(() =>
      adapter.cancel({
        clientOrderId: requested.cancelClientOrderId,
        origClientOrderId: requested.origClientOrderId ?? currentClientOrderId(order),
        account: order.accountId,
        symbol: order.symbol,
      }),
    )
    await submit({ kind: 'cancel_result', nowMs: clock.nowMs(), orderId, outcome })
  } else {
    const outcome = await guarded(() =>
      adapter.amend({
        clientOrderId: requested.amendClientOrderId,
        origClientOrderId: requested.origClientOrderId,
        account: order.accountId,
        symbol: order.symbol,
        qty: requested.qty,
        ...(requested.price === null ? {} : { price: requested.price }),
      }),
    )
    await submit({ kind: 'amend_result', nowMs: clock.nowMs(), orderId, outcome })
  }
}
