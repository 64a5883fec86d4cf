/**
 * The walk of the lane queues that nextWork did before the work index (src/kernel/lanes.ts at d76ef13), kept for the
 * index's specs as the reference answer: lanes in priority order, FIFO within a lane, skipping what is not due, busy,
 * reconcile-held, without a free call slot or held by a kill switch. Since, two ranks of Lane3 in the pick: the
 * read-backs of orders with a cancel wanted right after Lane0, and Lane3 before Lanes 1–2 with `lane3First`;
 * Lanes 1–2 of an instrument whose request budget is spent (`instrumentPaced`) skipped; and the work of an order whose
 * send decision threw skipped while its wait runs (`sendHeldUntilMs`); and Lanes 1–3 of a venue whose calls hold its
 * share of the runtime's call budget (`venueHeld`) skipped.
 */

import type { KernelState, NextWorkOptions, WorkItem } from '../../src/kernel/index.ts'
import { callSlotFree, callsMaxFor, everyInstrumentFull, orderInstrumentKey } from '../../src/kernel/in-flight.ts'
import { switchHolds } from '../../src/kernel/send.ts'

/** A lane, or Lane3's read-backs of orders with a cancel wanted. */
type Rank = 0 | 1 | 2 | 3 | 'cancelReadBacks'

export function referenceNextWork(state: KernelState, options: NextWorkOptions): WorkItem | null {
  const ranks: Rank[] = options.lane3First === true ? [0, 'cancelReadBacks', 3, 1, 2] : [0, 'cancelReadBacks', 1, 2, 3]
  for (const rank of ranks) {
    const lane = rank === 'cancelReadBacks' ? 3 : rank
    if (lane !== 3 && everyInstrumentFull(state, callsMaxFor(state, lane))) continue
    for (const [orderId, kind] of state.queues[lane]) {
      const order = state.orders.get(orderId)
      if (order === undefined || order.notBeforeMs > options.nowMs || options.busy?.has(orderId) === true) continue
      if ((options.sendHeldUntilMs?.(orderId) ?? 0) > options.nowMs) continue
      if (lane !== 0 && options.venueHeld?.(order.venue) === true) continue
      if (lane === 3 && order.cancelWanted !== (rank === 'cancelReadBacks')) continue
      if (kind === 'reconcile' && options.reconcileHeld?.has(orderId) === true) continue
      if (kind !== 'reconcile') {
        if (!callSlotFree(state, order)) continue
        if (switchHolds(state, order, kind) !== null) continue
        if ((lane === 1 || lane === 2) && options.instrumentPaced?.(orderInstrumentKey(order)) === true) continue
      }
      return { lane, kind, orderId, venue: order.venue, symbol: order.symbol }
    }
  }
  return null
}
