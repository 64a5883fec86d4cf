/**
 * Orders the kernel has retired (terminal and beyond its bound, see src/kernel/retention.ts) are read back from the
 * log: their records, found through the log index, are folded with the kernel's own apply into a scratch state that
 * holds only the configuration. The result is the order exactly as the kernel held it when it was retired — the log
 * stays the one store of what happened, and the hot state stays bounded.
 */

import type { Order } from '../domain/orders.ts'
import { applyInPlace, initialState, type KernelState } from '../kernel/index.ts'
import type { LoggedEvent } from './log-index.ts'

/** The order rebuilt from its logged events (the first must be its `order.accepted`), or null. */
export function rebuildRetiredOrder(live: KernelState, orderId: string, events: readonly LoggedEvent[]): Order | null {
  if (events[0]?.event.type !== 'order.accepted') return null
  const scratch = initialState()
  scratch.config = live.config
  scratch.instruments = live.instruments
  scratch.policies = live.policies
  for (const { event, lsn } of events) applyInPlace(scratch, event, { lsn })
  return scratch.orders.get(orderId) ?? null
}
