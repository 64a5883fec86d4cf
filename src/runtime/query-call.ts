/**
 * How the executor makes a query to a venue (a read-back's calls, an open-order listing): guarded (read-back.ts), counted
 * in the executor's callsInFlight while it is out (callsInFlightMax bounds Lanes 1–3, a read-back's calls each as they
 * are made), and its answer told to onQuery (venue health), with when it was asked if `timed`.
 */

import type { ExecutorOptions, ExecutorStats } from './executor-options.ts'
import { guarded, type VenueCall } from './read-back.ts'
import type { VenueOutcome } from '../venues/adapter.ts'

export function queryCallFor(stats: Pick<ExecutorStats, 'callsInFlight'>, options: Pick<ExecutorOptions, 'onQuery' | 'clock'>, venue: string, query: { timed: boolean }): VenueCall {
  const counted = async <T>(call: () => Promise<VenueOutcome<T>>): Promise<VenueOutcome<T>> => {
    stats.callsInFlight++
    try {
      return await guarded(call)
    } finally {
      stats.callsInFlight--
    }
  }
  const { onQuery, clock } = options
  if (onQuery === undefined) return counted
  return async <T>(call: () => Promise<VenueOutcome<T>>): Promise<VenueOutcome<T>> => {
    const sentAtMs = clock.nowMs()
    const outcome = await counted(call)
    onQuery(venue, outcome, query.timed ? sentAtMs : null)
    return outcome
  }
}
