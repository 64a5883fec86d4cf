/**
 * The orders open at a venue (OPEN_AT_VENUE: acked, partly filled, cancel under way), kept from the engine's durable
 * events, so the gateway's sweep reads those and not every order the kernel holds. The kernel keeps each ended order
 * for an hour after it ends (src/kernel/retention.ts): at 1,000 orders/s that is millions, and a sweep walking them
 * every 5 s held the event loop for a time that grew with the traffic of the last hour (bench:http: 1 → 8 ms as the
 * run went from 15k to 42k orders, on the way to seconds).
 *
 * Complete by construction: every event that changes an order's status is order-scoped (it names its orderId; see
 * src/kernel/apply.ts), and each durable batch's orders are looked up in the state as it is then. Memory may run
 * ahead of disk, so the state may already hold a later status than the batch's: the later batch is looked at again
 * when it is durable. An order in here is a candidate; the sweep still checks its status.
 *
 * An ended order whose fills were booked synthetically (a read-back's status ahead of the trades it listed) and not
 * yet trued up is a candidate too, until it is: its real fill reports may be lost, and an ended order was never read
 * back again, so the guessed price and the missing fee stayed in the books for good (found by the ledger audit,
 * specs/backoffice/ledger-audit.test.ts: seeds 3601 and 3602 ended with Filled orders holding synthetic quantity).
 */

import type { KernelState } from '../kernel/index.ts'
import { OPEN_AT_VENUE } from './bootstrap.ts'
import type { Order } from '../domain/orders.ts'
import type { AppliedEvent } from './engine.ts'

/** Whether the sweep reads the order back when it is quiet: open at its venue, or holding synthetic quantity not trued up. */
export function awaitsVenueNews(order: Order): boolean {
  return OPEN_AT_VENUE.has(order.status) || order.syntheticPendingQty > 0n
}

export class VenueOpenOrders {
  private readonly state: KernelState
  private readonly ids = new Set<string>()

  /** Starts from the orders open in `state` (restored from a snapshot and the log, before any new event). */
  constructor(state: KernelState) {
    this.state = state
    for (const order of state.orders.values()) if (awaitsVenueNews(order)) this.ids.add(order.orderId)
  }

  /** Looks again at the orders a durable batch touched; `onClosed` hears each one that left the set. */
  note(events: readonly AppliedEvent[], onClosed: (orderId: string) => void): void {
    // An indexed loop: for-of with destructuring cost more than the rest of the work here (bench-note: ~0.5 us per
    // event). Consecutive events of one order (a batch is mostly one order's) are looked at once: the answer depends
    // only on the order's status now, which nothing changes during this loop.
    let previous: string | null = null
    for (let index = 0; index < events.length; index++) {
      const orderId = ((events[index] as AppliedEvent).event as { orderId?: unknown }).orderId
      if (typeof orderId !== 'string' || orderId === previous) continue
      previous = orderId
      const order = this.state.orders.get(orderId)
      if (order !== undefined && awaitsVenueNews(order)) this.ids.add(orderId)
      else if (this.ids.delete(orderId)) onClosed(orderId)
    }
  }

  has(orderId: string): boolean {
    return this.ids.has(orderId)
  }

  /** The candidates, in no particular order. */
  values(): IterableIterator<string> {
    return this.ids.values()
  }

  get size(): number {
    return this.ids.size
  }
}
