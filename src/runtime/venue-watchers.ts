/**
 * What watches a gateway's venue calls, built from its options: venue health scoring (GatewayOptions.venueHealth,
 * venue-health-monitor.ts) and the auto-stop breakers (GatewayOptions.autoStop, auto-stop.ts), each null when not
 * configured. The executor's hooks that feed them are call-observers.ts.
 */

import type { VenueAdapter } from '../venues/adapter.ts'
import { AutoStop } from './auto-stop.ts'
import type { Engine } from './engine.ts'
import type { GatewayOptions } from './gateway-options.ts'
import { VenueHealthMonitor } from './venue-health-monitor.ts'

export interface VenueWatchers {
  venueHealth: VenueHealthMonitor | null
  autoStop: AutoStop | null
}

export function venueWatchersOf(options: GatewayOptions, engine: Engine, adapters: ReadonlyMap<string, VenueAdapter>): VenueWatchers {
  const venueHealth =
    options.venueHealth === undefined
      ? null
      : new VenueHealthMonitor({
          engine,
          clock: options.clock,
          config: options.venueHealth,
          venues: [...adapters.keys()],
          sessionUp: (venue) => adapters.get(venue)?.sessionActive?.() ?? null,
          answeredLocally: (venue, outcome) => adapters.get(venue)?.answeredLocally?.(outcome) ?? false,
          onError: options.onError,
        })
  const autoStop =
    options.autoStop === undefined
      ? null
      : new AutoStop({ engine, clock: options.clock, config: options.autoStop, answeredLocally: (venue, outcome) => adapters.get(venue)?.answeredLocally?.(outcome) ?? false, onError: options.onError })
  return { venueHealth, autoStop }
}
