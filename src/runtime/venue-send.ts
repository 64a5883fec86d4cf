/**
 * The venue call one send record asks for: the place, cancel or amend the kernel decided (order.send_requested,
 * order.cancel_send_requested, order.amend_send_requested), built from the record and the order, made guarded, and
 * its answer handed back as the kernel's result command. The executor makes it only once the record is durable (the
 * outbox rule) and while this process still holds the lease (venue-call.ts callVenue); it counts the call.
 *
 * The answer's venue text is bounded as a report's is (src/domain/venue-report-schema.ts) before the kernel records it
 * (boundedOutcome): a place ack's venue order id that is no venue id (past 256 characters, a control character) makes
 * the place `unknown` (the venue may hold the order: it is read back), and a reason past 1,024 characters is cut.
 * Before, any string was recorded as is: a JSONL venue's ack could put a line break, or an id of 900 KB, into the
 * order's send_acked record and its state, and an answer past a record's size left its order Sent, its call in flight,
 * until a restart (found by the JSONL adversarial review).
 */

import type { Clock } from '../domain/clock.ts'
import type { DomainEvent, EventOf } from '../domain/events/index.ts'
import { currentClientOrderId, type Order } from '../domain/orders.ts'
import { venueIdProblem, venueReasonText } from '../domain/venue-report-schema.ts'
import type { AmendResultCommand, CancelResultCommand, PlaceResultCommand } from '../kernel/index.ts'
import { venueFormOf } from '../kernel/index.ts'
import type { PlaceAck, PlaceRequest, VenueAdapter, VenueOutcome } from '../venues/adapter.ts'
import { withinDeadline, type CallDeadlines } from './call-deadline.ts'
import { thrownOutcome } from './read-back.ts'

export type SendRequested = EventOf<'order.send_requested'> | EventOf<'order.cancel_send_requested'> | EventOf<'order.amend_send_requested'>

export type SendResultCommand = PlaceResultCommand | CancelResultCommand | AmendResultCommand

/** The send record among a send decision's events; undefined when the gate blocked or there is nothing to send. */
export function sendRequestedOf(events: readonly DomainEvent[]): SendRequested | undefined {
  // A loop, not find with an arrow: one closure fewer per send.
  for (const event of events) {
    if (event.type === 'order.send_requested' || event.type === 'order.cancel_send_requested' || event.type === 'order.amend_send_requested') return event
  }
  return undefined
}

/** What a send needs of its caller (the executor keeps one for all its sends: nothing made per call). */
export interface SendPorts {
  clock: Clock
  /** Hands the venue's answer to the kernel; resolves when the kernel's decision on it is durable. */
  submit: (command: SendResultCommand) => Promise<unknown>
  /** Sees every answer before the kernel decides on it, with the venue and when the call was made. */
  observe?: ((venue: string, outcome: VenueOutcome<unknown>, sentAtMs: number, call: SendResultCommand['kind']) => void) | undefined
  /** Every call's deadline (call-deadline.ts): one still out at it is answered `unknown`, as an adapter's timeout is. */
  deadlines: CallDeadlines
}

/**
 * Calls `adapter` as `requested` asks for `order` and hands its answer to `ports.submit` (timed when it came);
 * resolves when the submit's answer does. The call is guarded as `guarded` (read-back.ts) guards one: an adapter
 * that throws answers unknown; and it has a deadline (call-deadline.ts): one the adapter never answers is unknown.
 */
export async function sendToVenue(adapter: VenueAdapter, order: Order, requested: SendRequested, ports: SendPorts): Promise<void> {
  const { clock, deadlines } = ports
  const { orderId } = order
  const sentAtMs = clock.nowMs()
  // Every answer is seen by venue health scoring (venue-health-monitor.ts) and the auto-stop breakers (auto-stop.ts)
  // before the kernel decides on it. The calls are awaited here, not through guarded(): an async call and a closure
  // fewer per send.
  if (requested.type === 'order.send_requested') {
    const request: PlaceRequest = {
      clientOrderId: requested.venueClientOrderId,
      account: order.accountId,
      symbol: order.symbol,
      side: order.side,
      // A market order with a protection price goes out as a limit at it (venue-form.ts); anything else as it is.
      ...venueFormOf(order),
      qty: order.qty,
      postOnly: order.postOnly,
      reduceOnly: order.reduceOnly,
    }
    // An earlier attempt may have reached the venue (a resend once it was proven absent, a retry): the venue is told.
    if (requested.attempt > 1) request.possibleResend = true
    let outcome: VenueOutcome<PlaceAck>
    try {
      outcome = boundedOutcome(await withinDeadline(adapter.place(request), adapter, 'place', orderId, deadlines))
    } catch (error) {
      outcome = thrownOutcome(error)
    }
    ports.observe?.(order.venue, outcome, sentAtMs, 'place_result')
    await ports.submit({ kind: 'place_result', nowMs: clock.nowMs(), orderId, outcome })
  } else if (requested.type === 'order.cancel_send_requested') {
    let outcome: VenueOutcome<{ accepted: true }>
    try {
      const cancel = adapter.cancel({
        clientOrderId: requested.cancelClientOrderId,
        origClientOrderId: requested.origClientOrderId ?? currentClientOrderId(order),
        account: order.accountId,
        symbol: order.symbol,
      })
      outcome = boundedOutcome(await withinDeadline(cancel, adapter, 'cancel', orderId, deadlines))
    } catch (error) {
      outcome = thrownOutcome(error)
    }
    ports.observe?.(order.venue, outcome, sentAtMs, 'cancel_result')
    await ports.submit({ kind: 'cancel_result', nowMs: clock.nowMs(), orderId, outcome })
  } else {
    let outcome: VenueOutcome<{ accepted: true }>
    try {
      const amend = adapter.amend({
        clientOrderId: requested.amendClientOrderId,
        origClientOrderId: requested.origClientOrderId,
        account: order.accountId,
        symbol: order.symbol,
        qty: requested.qty,
        ...(requested.price === null ? {} : { price: requested.price }),
      })
      outcome = boundedOutcome(await withinDeadline(amend, adapter, 'amend', orderId, deadlines))
    } catch (error) {
      outcome = thrownOutcome(error)
    }
    ports.observe?.(order.venue, outcome, sentAtMs, 'amend_result')
    await ports.submit({ kind: 'amend_result', nowMs: clock.nowMs(), orderId, outcome })
  }
}

/**
 * `outcome` with its venue text as a record may hold it (see the header): a place ack's venue order id that is no venue
 * id (an empty one is taken: a FIX ack without OrderID) is `unknown`, a reason past VENUE_REASON_CHARS_MAX is cut.
 */
export function boundedOutcome<T>(outcome: VenueOutcome<T>): VenueOutcome<T> {
  if (outcome.kind === 'ok') {
    const value: unknown = outcome.value
    if (typeof value !== 'object' || value === null || !('venueOrderId' in value)) return outcome
    const problem = venueIdProblem(value.venueOrderId, true)
    return problem === null ? outcome : { kind: 'unknown', reason: `VENUE_ANSWER_INVALID: the ack's venueOrderId: ${problem}` }
  }
  const reason = venueReasonText(outcome.reason)
  return reason === outcome.reason ? outcome : { ...outcome, reason }
}
