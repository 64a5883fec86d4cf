/**
 * The simulated venue: a deterministic, seeded `VenueAdapter` with a price process, fills, and fault injection.
 * Paper mode and every simulation test trade against it.
 */

export { SimVenue, type RequestCounters, type SimInspection } from './venue.ts'
export {
  NO_FAULTS,
  type SimFaults,
  type SimInstrument,
  type SimOutage,
  type SimPriceStall,
  type SimVenueOptions,
} from './options.ts'
export type { SimOrderView } from './order.ts'
export type { ReferencePrice } from './prices.ts'
export type { ReportCounters } from './reports.ts'
export { SimReason, type SimReasonCode } from './reasons.ts'
export { deriveSeed, Xoshiro128ss } from './prng.ts'
