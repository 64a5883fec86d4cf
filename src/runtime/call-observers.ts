/**
 * The executor's hooks on venue answers (ExecutorOptions.onCall, onQuery), for what watches them: venue health scoring
 * (venue-health-monitor.ts: every call and query) and the auto-stop breakers (auto-stop.ts: places, cancels, amends).
 * Neither present: no hook, and the executor does no work for them.
 */

import type { VenueOutcome } from '../venues/adapter.ts'
import type { AutoStop } from './auto-stop.ts'
import type { ExecutorOptions } from './executor-options.ts'
import type { VenueHealthMonitor } from './venue-health-monitor.ts'

export function callObservers(venueHealth: VenueHealthMonitor | null, autoStop: AutoStop | null): Pick<ExecutorOptions, 'onCall' | 'onQuery'> {
  const onCall: ExecutorOptions['onCall'] =
    venueHealth === null && autoStop === null
      ? undefined
      : (venue, outcome, sentAtMs, call) => {
          venueHealth?.observe(venue, outcome, sentAtMs)
          autoStop?.observeCall(venue, outcome, sentAtMs, call)
        }
  return {
    ...(onCall === undefined ? {} : { onCall }),
    ...(venueHealth === null ? {} : { onQuery: (venue: string, outcome: VenueOutcome<unknown>, sentAtMs: number | null) => venueHealth.observeQuery(venue, outcome, sentAtMs) }),
  }
}
