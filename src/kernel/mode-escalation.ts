/**
 * What a mode change that reaches further (shadow → paper, paper → live) does to work decided under the mode before.
 * A place or amend was decided under the mode of its time: its mode guard ran that mode's checks (in paper, none of the
 * live prerequisites — the principal's and the policy's live permission, the recorded config, the credential, the
 * environment, the HA role), and its decision record says so. Sent after the change, a paper decision would go out as
 * a live order, also for a principal not allowed to trade live. So the change ends that work before it is recorded:
 * - a queued place never sent is canceled on the spot (it never reached the venue) and a waiting amend fails (the
 *   order stands as it is), both with MODE_ESCALATED;
 * - a queued place sent before (a resend, or a retry after a retryable answer) is not ended on egress's word: an
 *   earlier copy may be at the venue, so it goes Unknown with a cancel wanted (MODE_ESCALATED, cancel.ts) and is read
 *   back: absent after the grace it ends, found open it is canceled there;
 * - a place whose call is in flight is canceled too (a cancel is requested, MODE_ESCALATED): its answer may be a
 *   retry, which would be a new send under the new mode — now it goes Unknown and is read back instead (results.ts),
 *   and an order the venue did take is canceled there;
 * - a place whose outcome is Unknown, never acknowledged (no venue order id, nothing filled), is canceled the same way:
 *   read back absent it would be resendable, and a resend (an operator's, or a start's, which resends its suspects on
 *   its own) would send the paper decision under live. With its cancel wanted it ends Failed, not resendable; found
 *   at the venue it is canceled there. An Unknown order the venue acknowledged is at the venue, and stays.
 * The client asks again and is decided under the new mode. A change that reaches less (live → paper or shadow) leaves
 * the work alone: the gate of the new mode holds what it must.
 *
 * One decision ends the work of at most `ordersMax` orders (the first by order id), so that its records fit the log's
 * queue: a venue outage can leave more never-acknowledged places Unknown than the queue takes records (65,536 by
 * default), and one decision ending them all was refused as overloaded every time it was asked — the safety action
 * refused by its own size. A change with more work than that records the ends of the first `ordersMax` and not the
 * change; asked again (the runtime repeats it: gateway-commands.ts), it ends the next ones, and the decision that finds
 * `ordersMax` or fewer records the change after them. Each decision is recorded whole, so replay (and a standby
 * deciding the command records again) reaches the same state; a crash between them leaves work ended and the mode as
 * it was, both safe.
 */

import type { DomainEvent } from '../domain/events/index.ts'
import type { Lane } from '../domain/modes.ts'
import type { Order } from '../domain/orders.ts'
import type { Attribution } from './attribution.ts'
import { cancelEvents } from './cancel.ts'
import { emit, emitterFor } from './emit.ts'
import type { KernelState } from './state.ts'

/** Orders whose work one escalation decision ends at most when a command asks for parts (SetModeCommand.ordersMax). */
export const MODE_ESCALATION_ORDERS_MAX = 4096

/** Lanes that hold places and amends (Lane3 holds reconciles only). */
const WORK_LANES: readonly Lane[] = [0, 1, 2]

/**
 * The events that end the work of the first `ordersMax` orders (by order id) decided under the mode before, and
 * whether that was all of it (`complete`: the change may be recorded after them).
 */
export function endDecidedWork(state: KernelState, input: { atMs: number; principalId: string; detail: string; ordersMax: number | null } & Attribution): { events: DomainEvent[]; complete: boolean } {
  const events: DomainEvent[] = []
  // By order id: the same events whatever order the queues and the calls were restored in (replay or snapshot).
  const found = decidedWork(state).sort((a, b) => (a.order.orderId < b.order.orderId ? -1 : 1))
  // null: all of it in one decision (a command without parts: a standby re-deciding an older leader's command record
  // must decide what that leader decided).
  const ordersMax = input.ordersMax === null ? found.length : Math.max(1, input.ordersMax)
  for (const { order, work } of found.slice(0, ordersMax)) {
    const at = { atMs: input.atMs, orderId: order.orderId }
    if (work !== 'amend') {
      const { configDigest, buildCommit } = input
      events.push(...(cancelEvents(order, { atMs: input.atMs, principalId: input.principalId, reason: 'MODE_ESCALATED', unsentReason: 'MODE_ESCALATED', configDigest, buildCommit }) ?? []))
      continue
    }
    const emitter = emitterFor(order)
    if (order.amend !== null) emit(emitter, { type: 'order.amend_failed', ...at, amendId: order.amend.amendId, reason: 'MODE_ESCALATED', detail: input.detail })
    events.push(...emitter.events)
  }
  return { events, complete: found.length <= ordersMax }
}

type DecidedWork = { order: Order; work: 'place' | 'amend' | 'place_in_flight' | 'place_unknown' }

function decidedWork(state: KernelState): DecidedWork[] {
  const found: DecidedWork[] = []
  for (const lane of WORK_LANES) {
    for (const [orderId, kind] of state.queues[lane]) {
      const order = state.orders.get(orderId)
      if (order !== undefined && (kind === 'place' || kind === 'amend')) found.push({ order, work: kind })
    }
  }
  for (const orderId of state.queues[3].keys()) {
    const order = state.orders.get(orderId)
    if (order !== undefined && placeUnknown(order)) found.push({ order, work: 'place_unknown' })
  }
  for (const call of state.inFlight.values()) {
    const order = state.orders.get(call.orderId)
    if (order !== undefined && call.action === 'place' && order.status === 'Sent') found.push({ order, work: 'place_in_flight' })
  }
  return found
}

/** An Unknown order whose place the venue never acknowledged: read back absent, it would be resendable (reconcile.ts). */
function placeUnknown(order: Order): boolean {
  return order.status === 'Unknown' && order.venueOrderId === null && order.cumQty === 0n && !order.cancelWanted
}
