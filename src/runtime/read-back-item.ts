/**
 * Lane 3: the read-back of an Unknown order the executor picked (kernel reconcile work). It asks the venue by the id the
 * venue knows the order by now (the last applied amend's), then hands the answer to the kernel as a reconcile_result;
 * an unanswered question proves nothing (the order stays Unknown and is asked about again after a backoff), and an
 * answer the log could not hold is an error (read-back-check.ts). The item is held (ReconcileHolds.reconciling) from
 * the pick until this ends.
 */

import { currentClientOrderId } from '../domain/orders.ts'
import type { WorkItem } from '../kernel/index.ts'
import type { ExecutorOptions, ExecutorStats } from './executor-options.ts'
import { askedAtMsFor, askedOrderOf } from './read-back-asked.ts'
import { isUnanswered, readBack, type VenueCall } from './read-back.ts'
import { invalidReadBackOf, otherOrderOf } from './read-back-check.ts'
import type { ReconcileHolds } from './reconcile-holds.ts'
import type { VenueAdapter } from '../venues/adapter.ts'

export interface ReadBackPorts extends Pick<ExecutorOptions, 'engine' | 'clock' | 'adapters'> {
  holds: ReconcileHolds
  stats: Pick<ExecutorStats, 'reconciles' | 'readBacksRefused'>
  /** How a query to the venue is made (query-call.ts). */
  queryCall: (venue: string, adapter: VenueAdapter) => VenueCall
  /** Where an error goes (the executor's: one refused by a stopping engine is expected). */
  report: (error: unknown, context: string) => void
  /** Called once the read-back has ended, whatever its outcome (the executor picks again). */
  done: () => void
}

/**
 * Resolves once the read-back has ended: true when the venue's answer was handed to the kernel and is durable, false
 * when there was none to hand (no answer, an answer refused, the order or its venue gone).
 */
export function readBackItem(item: WorkItem, ports: ReadBackPorts): Promise<boolean> {
  const { engine, clock, holds } = ports
  const adapter = ports.adapters.get(item.venue)
  const order = engine.state.orders.get(item.orderId)
  if (adapter === undefined || order === undefined) {
    holds.reconciling.delete(item.orderId)
    return Promise.resolve(false)
  }
  ports.stats.reconciles++
  // Ask by the id the venue knows the order by now (the last applied amend's), like a real venue requires.
  const clientOrderId = currentClientOrderId(order)
  // The venue looks after this: its "not found" proves absence only if this is past the grace (kernel/reconcile.ts).
  const asked = askedOrderOf(order, clock.nowMs())
  const heldCumQty = () => engine.state.orders.get(item.orderId)?.cumQty ?? 0n
  // An amend under way may have renamed the order at the venue: asked by its id too when the order's is not found.
  const amendClientOrderId = order.amend?.stage === 'sent' ? order.amend.clientOrderId : undefined
  return (async () => {
    const answer = await readBack(adapter, { orderId: item.orderId, clientOrderId, heldCumQty, amendClientOrderId }, ports.queryCall(item.venue, adapter))
    if (isUnanswered(answer)) {
      // The venue did not answer, which proves nothing: the order stays Unknown and is asked about again later.
      holds.backOff(item.orderId, answer.retryAfterMs)
      return false
    }
    // An answer the log could not hold is no answer either (read-back-check.ts); the error says which member.
    // An answer about another order (its status, or a trade under the order's ids) is refused as well: not booked.
    const unrecordable = invalidReadBackOf(item.venue, clientOrderId, answer)
    if (unrecordable !== null) {
      ports.stats.readBacksRefused.unrecordable++
      throw unrecordable
    }
    const other = otherOrderOf(item.venue, order, clientOrderId, answer)
    if (other !== null) {
      ports.stats.readBacksRefused.other_order++
      throw other
    }
    // News since the question in its own millisecond is newer than the answer (read-back-asked.ts).
    const askedAtMs = askedAtMsFor(asked, engine.state.orders.get(item.orderId))
    await engine.submit({ kind: 'reconcile_result', nowMs: clock.nowMs(), askedAtMs, orderId: item.orderId, venueOrder: answer.venueOrder, trades: answer.trades })
    return true
  })()
    .catch((error: unknown) => {
      // Asked again at once, an Unknown order whose answer cannot be decided on looped at the venue's speed.
      holds.backOff(item.orderId)
      ports.report(error, `reconcile of ${item.orderId}`)
      return false
    })
    .finally(() => {
      holds.reconciling.delete(item.orderId)
      ports.done()
    })
}
