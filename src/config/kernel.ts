/**
 * The kernel's parameters in the config file: `kernel: { ... }`, every field optional with its range. A field left
 * out keeps the kernel's default (src/domain/kernel-config.ts defaultKernelParams); a config without the section keeps
 * the digest it had before the section existed. The effective parameters enter the log in the `kernel.configured`
 * record that serve's bootstrap writes whenever the config digest changes, so replay decides with the same values.
 *
 * The ranges exclude values that only make sense as mistakes (a reconcile grace of 0 would conclude "not at the venue"
 * while the request may still be on its way, and make the order resendable: see README, "Kernel parameters").
 */

import * as v from 'valibot'
import { defaultKernelParams, type KernelParams } from '../domain/kernel-config.ts'

function integerIn(min: number, max: number) {
  const message = `expected an integer between ${min} and ${max}`
  return v.pipe(v.number(message), v.integer(message), v.minValue(min, message), v.maxValue(max, message))
}

const HOUR_MS = 3_600_000

export const KERNEL = v.strictObject({
  /** Fee allowance (basis points) added to a buy's cash reservation. */
  takerFeeBps: v.optional(integerIn(0, 10_000)),
  /** A reference price observed longer ago than this is stale: the data-health guard refuses new orders. */
  referenceStaleMs: v.optional(integerIn(100, HOUR_MS)),
  /** A reference price that moved more than this (basis points) from the previous observation is a jump. */
  referenceJumpBps: v.optional(integerIn(1, 10_000)),
  /** New orders queued in Lane1 / Lane2 before further ones are shed (OVERLOADED). */
  lane1DepthMax: v.optional(integerIn(1, 1_000_000)),
  lane2DepthMax: v.optional(integerIn(1, 1_000_000)),
  /** One account's new orders and amends queued in Lane1/Lane2 before its further ones are shed. */
  accountQueuedMax: v.optional(integerIn(1, 1_000_000)),
  /** Venue calls in flight at once per venue×symbol, handed over in decision order (1: one at a time). */
  callsPerInstrumentMax: v.optional(integerIn(1, 1_024)),
  /** Terminal orders kept in the kernel's hot state (the newest); older ones are read back from the log. */
  terminalOrdersKeptMax: v.optional(integerIn(1, 10_000_000)),
  /**
   * How long (event time) a terminal order stays in the hot state after it ended, whatever the bound: a late venue
   * report (a fill after a confirmed cancel or expiry) is booked only while the kernel holds the order.
   */
  terminalOrderRetireAfterMs: v.optional(integerIn(0, 7 * 24 * HOUR_MS)),
  /**
   * The hard cap on terminal orders held, grace or not: beyond it the oldest idle ones retire even within
   * terminalOrderRetireAfterMs (a late fill for one is then an orphan). At least terminalOrdersKeptMax (load.ts).
   */
  terminalOrdersHeldMax: v.optional(integerIn(1_000, 100_000_000)),
  /**
   * How long (event time) an idempotency key is held after its order's decision: a repeat within it gets the first
   * answer; after it (and once the kernel no longer holds the order) the key is forgotten and may name a new order.
   * At least a minute: a client's retry must always land within it.
   */
  idempotencyKeyHeldMs: v.optional(integerIn(60_000, 30 * 24 * HOUR_MS)),
  /** The hard cap on idempotency keys held: at it, new orders are refused (OVERLOADED) until keys age out. */
  idempotencyKeysHeldMax: v.optional(integerIn(1_000, 100_000_000)),
  /**
   * The venue latency bound: a request whose send record is this old and that the venue does not know is concluded
   * never received (Failed, not at the venue, resendable). Must cover the venue's worst processing delay plus the
   * clock skew between nodes. At least every FIX venue's requestTimeoutMs (load.ts); unset, the larger of the default
   * and the longest of them.
   */
  reconcileGraceMs: v.optional(integerIn(100, HOUR_MS)),
  /**
   * How long to wait before asking the venue again about an Unknown order it did not know yet; an answer that repeats
   * without settling the order waits twice as long as the one before, up to 5 min (kernel/reconcile-recheck.ts).
   */
  reconcileRecheckMs: v.optional(integerIn(10, HOUR_MS)),
  /** Back-off for a cancel the I-100 gate blocked (a blocked place or amend is final; a venue's retryable answer carries its own wait). */
  sendRetryMs: v.optional(integerIn(10, HOUR_MS)),
  /**
   * The book limits of the data-health guard (src/kernel/intake/book-check.ts), each unset: off, and not in the
   * digest. A spread wider than `spreadBpsMax` of the reference price is a thin book (DATA_THIN_BOOK); an aggressive
   * order above `touchShareBpsMax` of the visible size at the touch it takes is IMPACT_TOO_LARGE.
   */
  spreadBpsMax: v.optional(integerIn(1, 10_000)),
  touchShareBpsMax: v.optional(integerIn(1, 10_000)),
})

export type KernelSection = v.InferOutput<typeof KERNEL>

/** What the grace rule reads of a configured venue; the sim's entry (the in-process sim) has no timeout to cover. */
export type VenueTimeouts = { requestTimeoutMs: number } | { type: 'sim' }

/**
 * The venue with the longest request timeout (its index in `venues` and the timeout), or null with none. Its adapter
 * waits that long for the answer to a place before it calls the outcome unknown, so a read-back's "not found" within
 * that time after the send is no proof the venue never got it: the reconcile grace must be at least this.
 */
export function venueTimeoutMsMax(venues: readonly VenueTimeouts[] | undefined): { index: number; requestTimeoutMs: number } | null {
  let longest: { index: number; requestTimeoutMs: number } | null = null
  for (const [index, venue] of (venues ?? []).entries()) {
    if (!('requestTimeoutMs' in venue)) continue
    if (longest === null || venue.requestTimeoutMs > longest.requestTimeoutMs) longest = { index, requestTimeoutMs: venue.requestTimeoutMs }
  }
  return longest
}

/**
 * The fields the config sets (the rest stay the kernel's defaults), and the reconcile grace its venues need when it
 * sets none: the larger of the kernel's default and the longest venue request timeout (venueTimeoutMsMax). An
 * explicit grace below that timeout is refused at load (src/config/load.ts). Likewise the cap on ended orders held,
 * when unset, is at least the count the config keeps: a config written before the cap existed, keeping more than the
 * default cap, still loads and keeps what it kept (an explicit cap below the count is refused at load).
 */
export function kernelParamsOverrides(section: KernelSection | undefined, venues: readonly VenueTimeouts[] | undefined = []): Partial<KernelParams> {
  const overrides: Partial<KernelParams> = {}
  const longest = venueTimeoutMsMax(venues)
  if (section?.reconcileGraceMs === undefined && longest !== null && longest.requestTimeoutMs > defaultKernelParams().reconcileGraceMs) {
    overrides.reconcileGraceMs = longest.requestTimeoutMs
  }
  if (section === undefined) return overrides
  for (const [name, value] of Object.entries(section) as [keyof KernelParams, number | undefined][]) {
    if (value !== undefined) overrides[name] = value
  }
  const heldMaxDefault = defaultKernelParams().terminalOrdersHeldMax
  const keptMax = section.terminalOrdersKeptMax
  if (section.terminalOrdersHeldMax === undefined && heldMaxDefault !== undefined && keptMax !== undefined && keptMax > heldMaxDefault) {
    overrides.terminalOrdersHeldMax = keptMax
  }
  // The cap on idempotency keys held leaves room beyond the ended orders kept (load.ts keysHeldMaxIssues): unset, it is
  // at least twice the count a config keeps.
  const keysMaxDefault = defaultKernelParams().idempotencyKeysHeldMax
  if (section.idempotencyKeysHeldMax === undefined && keysMaxDefault !== undefined && keptMax !== undefined && 2 * keptMax > keysMaxDefault) {
    overrides.idempotencyKeysHeldMax = 2 * keptMax
  }
  return overrides
}
