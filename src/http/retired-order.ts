/**
 * Orders the kernel has retired (terminal and beyond its bound, see src/kernel/retention.ts) are read back from the
 * log: their records, found through the log index, are folded with the kernel's own apply into a scratch state that
 * holds only the configuration. The result is the order exactly as the kernel held it when it was retired — the log
 * stays the one store of what happened, and the hot state stays bounded.
 */

import type { Order } from '../domain/orders.ts'
import { applyInPlace, initialState, type KernelState } from '../kernel/index.ts'
import type { LoggedEvent } from './log-index.ts'

/**
 * The order rebuilt from its logged events, from its `order.accepted` on, or null if none. Records before it can only
 * be rejections of its key for a retryable reason (the retry that was accepted has the same order id); they changed
 * nothing.
 */
export function rebuildRetiredOrder(live: KernelState, orderId: string, events: readonly LoggedEvent[]): Order | null {
  const acceptedAt = events.findIndex(({ event }) => event.type === 'order.accepted')
  if (acceptedAt < 0 || events.slice(0, acceptedAt).some(({ event }) => event.type !== 'order.rejected')) return null
  const scratch = initialState()
  scratch.config = live.config
  scratch.instruments = live.instruments
  scratch.policies = live.policies
  for (let index = acceptedAt; index < events.length; index++) {
    const { event, lsn } = events[index] as LoggedEvent
    applyInPlace(scratch, event, { lsn })
  }
  return scratch.orders.get(orderId) ?? null
}
