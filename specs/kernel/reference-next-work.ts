/**
 * The walk of the lane queues that nextWork did before the work index (src/kernel/lanes.ts at d76ef13), kept for the
 * index's specs as the reference answer: lanes in priority order, FIFO within a lane, skipping what is not due, busy,
 * reconcile-held, without a free call slot or held by a kill switch.
 */

import type { KernelState, NextWorkOptions, WorkItem } from '../../src/kernel/index.ts'
import { callSlotFree, callsMaxFor, everyInstrumentFull } from '../../src/kernel/in-flight.ts'
import { switchHolds } from '../../src/kernel/send.ts'

export function referenceNextWork(state: KernelState, options: NextWorkOptions): WorkItem | null {
  for (const lane of [0, 1, 2, 3] as const) {
    if (lane !== 3 && everyInstrumentFull(state, callsMaxFor(state, lane))) continue
    for (const [orderId, kind] of state.queues[lane]) {
      const order = state.orders.get(orderId)
      if (order === undefined || order.notBeforeMs > options.nowMs || options.busy?.has(orderId) === true) continue
      if (kind === 'reconcile' && options.reconcileHeld?.has(orderId) === true) continue
      if (kind !== 'reconcile') {
        if (!callSlotFree(state, order)) continue
        if (switchHolds(state, order, kind) !== null) continue
      }
      return { lane, kind, orderId, venue: order.venue, symbol: order.symbol }
    }
  }
  return null
}
