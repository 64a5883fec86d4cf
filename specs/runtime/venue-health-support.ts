/** What the venue health specs with a sim venue standing in for an adapter share: thresholds, a world, an order. */

import { defaultSimInstruments } from '../../src/domain/instruments.ts'
import { SimClock } from '../../src/runtime/index.ts'
import { simInstrumentsFor } from '../../src/runtime/paper.ts'
import type { SimVenue, SimVenueOptions } from '../../src/venues/sim/index.ts'
import { startWorld, T0, type World } from './harness.ts'

/** Small windows: 3 calls are evidence, a score ≤ 60 is CRITICAL, evaluated every 250 ms. */
export const VENUE_HEALTH = {
  enabled: true, windowMs: 30_000, samplesMax: 100, samplesMin: 3, slowCallMs: 2_000, degradedScoreMax: 75, criticalScoreMax: 60, evaluateEveryMs: 250, overrideMsMax: 60_000,
}

/** A world on a sim clock with venue health on, its venue made by `make` (a SimVenue subclass, 5 ms latency). */
export async function healthWorld<V extends SimVenue>(seed: number, make: (options: SimVenueOptions) => V): Promise<{ world: World; venue: V; clock: SimClock }> {
  const clock = new SimClock({ startMs: T0 })
  const venue = make({ clock, seed, instruments: simInstrumentsFor(defaultSimInstruments()), latencyMsMin: 5, latencyMsMax: 5 })
  const world = await startWorld({ seed, clock, venue, venueHealth: VENUE_HEALTH })
  return { world, venue, clock }
}

/** A limit buy of acct-a on BTC-USD that rests (below the sim's price). */
export function restingBuy(clientOrderId: string): Record<string, unknown> {
  return { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.001', price: '59000', tif: 'GTC', client_order_id: clientOrderId }
}
