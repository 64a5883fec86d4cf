/**
 * What a mode change that reaches further (shadow → paper, paper → live) does to work still waiting in the lanes.
 * A queued place or amend was decided under the mode before: its mode guard ran that mode's checks (in paper, none of
 * the live prerequisites — the principal's and the policy's live permission, the recorded config, the credential,
 * the environment, the HA role), and its decision record says so. Sent after the change, a paper decision would go
 * out as a live order, also for a principal not allowed to trade live. So the change ends that work before it is
 * recorded: a queued place is canceled on the spot (it never reached the venue) and a waiting amend fails (the order
 * stands as it is), both with MODE_ESCALATED; the client asks again and is decided under the new mode. A change
 * that reaches less (live → paper or shadow) leaves the queues alone: the gate of the new mode holds what it must.
 */

import type { DomainEvent } from '../domain/events/index.ts'
import type { Lane } from '../domain/modes.ts'
import { emit, emitterFor } from './emit.ts'
import type { KernelState } from './state.ts'

/** Lanes that hold places and amends (Lane3 holds reconciles only). */
const WORK_LANES: readonly Lane[] = [0, 1, 2]

export function endQueuedWork(state: KernelState, input: { atMs: number; detail: string }): DomainEvent[] {
  const events: DomainEvent[] = []
  for (const lane of WORK_LANES) {
    for (const [orderId, kind] of state.queues[lane]) {
      const order = state.orders.get(orderId)
      if (order === undefined || (kind !== 'place' && kind !== 'amend')) continue
      const emitter = emitterFor(order)
      const at = { atMs: input.atMs, orderId }
      if (kind === 'place') emit(emitter, { type: 'order.canceled', ...at, reason: 'MODE_ESCALATED', source: 'local' })
      else if (order.amend !== null) emit(emitter, { type: 'order.amend_failed', ...at, amendId: order.amend.amendId, reason: 'MODE_ESCALATED', detail: input.detail })
      events.push(...emitter.events)
    }
  }
  return events
}
