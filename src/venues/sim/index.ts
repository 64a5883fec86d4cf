/**
 * The simulated venue: a deterministic, seeded `VenueAdapter` with a price process, fills, and fault injection.
 * Paper mode and every simulation test trade against it.
 *
 * It models: a per-symbol random walk in ticks (with stalls and manual jumps); limit/market orders trading against
 * that reference price (taker at the reference, maker at the limit when touched, market with slippage); short
 * liquidity (partial fills) and fills split into several executions; the instruments' lot, tick and size rules (min
 * and max quantity, min notional: size-check.ts) as refusals; GTC/DAY/IOC/FOK and post-only; maker/taker
 * fees in the quote asset; balances moved by fills; cancel and cancel/replace with client-id chains; dedupe by
 * client order id; and request/report faults (latency, drops, timeouts after apply, lost cancel acks, 429 bursts,
 * outages, dropped/duplicated/reordered reports).
 *
 * It does not model: orders matching each other or a depth of book (liquidity is infinite at one price unless the
 * partial-fill draw says otherwise); bid/ask spread; venue-side balance, margin or reduce-only checks (balances may
 * go negative); self-trade prevention; price bands or rate limits as rules (429s are random bursts only); trading
 * sessions (DAY = a fixed TTL); cancel-on-disconnect; order-status queries for ids it never saw other than `null`;
 * amend priority loss; and report gaps it would let a client replay (lost reports are gone). It lives in the
 * gateway's process, so it does not outlive it: serve resumes it from egress's log at each start (memory.ts).
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
export type { EndedOrder, RestingOrder, SimMemory, UnreportedTrade } from './memory.ts'
export type { SimOrderView } from './order.ts'
export type { ReferencePrice } from './prices.ts'
export type { ReportCounters } from './reports.ts'
export { SimReason, type SimReasonCode } from './reasons.ts'
export { deriveSeed, Xoshiro128ss } from './prng.ts'
