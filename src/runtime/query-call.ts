/**
 * How the executor makes a query to a venue (a read-back's calls, an open-order listing): guarded (read-back.ts), given a
 * deadline (call-deadline.ts: one its adapter never answers is unknown, so the read-back backs off and asks again),
 * counted in the executor's call budget while it is out (call-budget.ts: callsInFlightMax bounds Lanes 1–3, a venue's
 * share its own; a read-back's calls each as they are made), and its answer told to onQuery (venue health), with when
 * it was asked for a read-back's.
 */

import type { ExecutorOptions } from './executor-options.ts'
import type { CallBudget } from './call-budget.ts'
import { withinDeadline, type CallDeadlines } from './call-deadline.ts'
import { guarded, type VenueCall } from './read-back.ts'
import type { VenueAdapter, VenueOutcome } from '../venues/adapter.ts'

/** What a query needs of the executor (one object for all of them). */
export interface QueryPorts {
  clock: ExecutorOptions['clock']
  onQuery: ExecutorOptions['onQuery'] | undefined
  deadlines: CallDeadlines
}

/**
 * The queries of `adapter` (attached as `venue`): a read-back's (`query`, timed) or its open-order listing
 * (`openOrders`, untimed: its duration follows the venue's open orders, not its health).
 */
export function queryCallFor(
  calls: Pick<CallBudget, 'started' | 'ended'>,
  options: QueryPorts,
  venue: string,
  adapter: VenueAdapter,
  query: 'query' | 'openOrders',
): VenueCall {
  const { onQuery, clock, deadlines } = options
  const counted = async <T>(call: () => Promise<VenueOutcome<T>>): Promise<VenueOutcome<T>> => {
    calls.started(venue)
    try {
      return await guarded(() => withinDeadline(call(), adapter, query, null, deadlines))
    } finally {
      calls.ended(venue)
    }
  }
  if (onQuery === undefined) return counted
  return async <T>(call: () => Promise<VenueOutcome<T>>): Promise<VenueOutcome<T>> => {
    const sentAtMs = clock.nowMs()
    const outcome = await counted(call)
    onQuery(venue, outcome, query === 'query' ? sentAtMs : null)
    return outcome
  }
}
