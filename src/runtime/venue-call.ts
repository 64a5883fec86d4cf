/**
 * The venue call a durable send record asks for: the single place egress calls an adapter's place, cancel or amend
 * (the executor's dispatch runs it once the record is durable: the outbox rule). Right before the call the lease is
 * checked again (a deposed leader calls nothing) and a kill switch or mode change since the decision holds a place or
 * amend (call-holds.ts); a held call is answered to the kernel as a throttled venue would answer, never made.
 */

import type { DomainEvent } from '../domain/events/index.ts'
import type { WorkItem } from '../kernel/index.ts'
import { callHeld } from './call-holds.ts'
import type { ExecutorOptions, ExecutorStats } from './executor-options.ts'
import { sendRequestedOf, sendToVenue, type SendPorts } from './venue-send.ts'

/** What a venue call needs of its executor. */
export interface VenueCallPorts {
  options: Pick<ExecutorOptions, 'engine' | 'adapters' | 'lease' | 'onError'>
  stats: ExecutorStats
  /** The clock, where answers go (submit), and who sees them. */
  send: SendPorts
  /** Stops the executor: this process no longer holds the lease. */
  stop: () => void
}

/** A held call's counter: the HA send gate's (gateHolds) or a switch's or mode change's at the call (callsHeld). */
export type HeldCallCounter = 'gateHolds' | 'callsHeld'

/** When a send held at its call (call-holds.ts) may be decided again: it is picked only once the switch allows it. */
const HELD_AT_CALL_RETRY_MS = 1_000

/** Runs after the send_requested record is durable: the outbox rule. Undefined when no call is made. */
export function callVenue(item: WorkItem, events: DomainEvent[], ports: VenueCallPorts): Promise<void> | undefined {
  const { engine, adapters, lease, onError } = ports.options
  const adapter = adapters.get(item.venue)
  const requested = sendRequestedOf(events)
  if (requested === undefined) return // the gate blocked or the kernel decided there is nothing to send
  // A record a stop's drain makes durable is still sent, stopped or not: a durable send record goes out (a cancel
  // skipped left its order resting at the venue while egress was down; specs/runtime/send-at-stop.test.ts). Its
  // answer is refused at the stop, and the next start reads the order back.
  const order = engine.state.orders.get(item.orderId)
  if (order === undefined || adapter === undefined) {
    onError(new Error(`no adapter for venue ${item.venue}`), `send of ${item.orderId}`)
    return
  }
  // The send record is durable, but this process may have been paused since and deposed: a new leader now owns
  // the order (it is in flight in the log, so it becomes Unknown there and is reconciled, never sent twice by us).
  try {
    lease?.assertHeld()
  } catch (error) {
    ports.stats.leaseRefusals++
    ports.stop()
    onError(error, `send of ${item.orderId} refused: not the leader`)
    return
  }
  // A kill switch engaged, or the mode changed, since this place or amend was decided: not called (call-holds.ts).
  const held = callHeld(engine.state, order, requested)
  if (held !== null) return holdCall(item, events, { reason: held, retryAfterMs: HELD_AT_CALL_RETRY_MS }, ports, 'callsHeld')
  if (requested.type === 'order.send_requested') ports.stats.sends++
  else if (requested.type === 'order.cancel_send_requested') ports.stats.cancels++
  else ports.stats.amends++
  return sendToVenue(adapter, order, requested, ports.send)
}

/**
 * The HA send gate held this place/amend (Committed.sendHeld): the venue is not called; the kernel gets the answer
 * a throttled venue would give (retryable), so it records order.send_retry and the send is decided, and gated,
 * again once due — never made before the standby holds a send record for it. A kill switch or a mode change since the
 * send was decided holds it the same way (callVenue, call-holds.ts), counted apart.
 */
export async function holdCall(
  item: WorkItem,
  events: DomainEvent[],
  held: { reason: string; retryAfterMs: number },
  ports: VenueCallPorts,
  counted: HeldCallCounter = 'gateHolds',
): Promise<void> {
  const requested = events.find((event) => event.type === 'order.send_requested' || event.type === 'order.amend_send_requested')
  if (requested === undefined) return
  ports.stats[counted]++
  const { clock, submit } = ports.send
  const outcome = { kind: 'retryable', reason: held.reason, retryAfterMs: held.retryAfterMs } as const
  if (requested.type === 'order.send_requested') {
    await submit({ kind: 'place_result', nowMs: clock.nowMs(), orderId: item.orderId, outcome })
  } else {
    await submit({ kind: 'amend_result', nowMs: clock.nowMs(), orderId: item.orderId, outcome })
  }
}
