/**
 * The configuration the kernel decides with. It enters the kernel only as a recorded `kernel.configured` event, so
 * replay sees exactly the instruments, policies and limits that the live decisions saw. src/config/ builds it from
 * the config file; its digest is the config digest recorded in every decision record.
 */

import * as v from 'valibot'
import { policySchema, type Policy } from './accounts.ts'
import { instrumentSchema, defaultSimInstruments, type Instrument } from './instruments.ts'
import { bpsSchema, countSchema, msSchema } from './schema-kit.ts'

export const kernelParamsSchema = v.strictObject({
  /** Fee allowance added to a buy's cash reservation. */
  takerFeeBps: bpsSchema,
  /** A reference price observed longer ago than this is stale (data-health guard). */
  referenceStaleMs: msSchema,
  /** A reference price that moved more than this from the previous observation is a jump (data-health guard). */
  referenceJumpBps: bpsSchema,
  /** Bounds on queued new orders; beyond them new orders are shed (Lane0 is bounded by the live orders it serves). */
  lane1DepthMax: countSchema,
  lane2DepthMax: countSchema,
  /**
   * Bound on one account's work waiting in Lane1/Lane2 (new orders and amends), so one client cannot fill the lanes
   * for everyone; beyond it the account's new orders are shed with OVERLOADED. Optional in old records (default).
   */
  accountQueuedMax: v.optional(countSchema, 250),
  /**
   * Ordered pipelining: venue calls in flight at once per venue×symbol, dispatched in decision order (one call per
   * order at a time). 1 serialises calls per instrument, as every record written before this field existed did.
   */
  callsPerInstrumentMax: v.optional(v.pipe(countSchema, v.minValue(1), v.maxValue(1_024)), 1),
  /**
   * Bounded hot state: terminal orders the kernel keeps (the newest); older ones are retired from its state and read
   * back from the log (src/kernel/retention.ts). Optional in old records (default).
   */
  terminalOrdersKeptMax: v.optional(v.pipe(countSchema, v.minValue(1)), 10_000),
  /**
   * A terminal order is retired only once this long has passed, in event time, since it ended: the venue may still
   * report a fill after it confirmed a cancel or an expiry, and the kernel books it only while it holds the order.
   * Null in records written before this field existed: those retired with no grace and stopped at the first busy
   * order (src/kernel/retention.ts keeps that rule for them, so old logs replay as they were decided).
   */
  terminalOrderRetireAfterMs: v.optional(v.nullable(msSchema), null),
  /**
   * The hard cap on terminal orders held: beyond it the oldest idle ones are retired even within the grace above, so
   * memory under any sustained order rate is bounded by config (src/kernel/retention.ts). A late fill for an order the
   * cap retired is an orphan (REPORT_ORPHANED). Absent in records written before it existed (payload version 8): no
   * cap, so their logs replay as they were decided.
   */
  terminalOrdersHeldMax: v.optional(v.pipe(countSchema, v.minValue(1))),
  /**
   * How long (event time) an idempotency key is held after the decision that took it: a repeat within it gets the
   * first answer; the key is forgotten after it, once the kernel no longer holds its order (src/kernel/key-window.ts),
   * and a new order under it is a new order. Order ids then include the decision's time (intake/order-ids.ts), so a key
   * taken again names a new order. Absent in records written before it existed (kernel.configured payload version 10): keys held for
   * good and ids of account and key alone, so their logs replay as they were decided.
   */
  idempotencyKeyHeldMs: v.optional(v.pipe(msSchema, v.minValue(1))),
  /**
   * The hard cap on idempotency keys held: at it, new orders are refused (OVERLOADED, retryable) until keys age out of
   * the window above. Forgetting a key early instead would let a client's retry place the order twice. Absent: none.
   */
  idempotencyKeysHeldMax: v.optional(v.pipe(countSchema, v.minValue(1))),
  /** "Not found" within this time after a send is not proof of absence (§7 Unknown). */
  reconcileGraceMs: msSchema,
  /** How long to wait before asking the venue again about an Unknown order (doubling while its answer repeats, to 5 min). */
  reconcileRecheckMs: msSchema,
  /** Back-off for a send the gate blocked or the venue throttled without a Retry-After. */
  sendRetryMs: msSchema,
  /**
   * The book limits of guard 4 (src/kernel/intake/book-check.ts): a spread wider than `spreadBpsMax` of the reference
   * price is a thin book (DATA_THIN_BOOK); an aggressive order above `touchShareBpsMax` of the visible size at the
   * touch is IMPACT_TOO_LARGE. Absent: off (the default, and records written before they existed read so).
   */
  spreadBpsMax: v.optional(bpsSchema),
  touchShareBpsMax: v.optional(bpsSchema),
})

export type KernelParams = v.InferOutput<typeof kernelParamsSchema>

export const kernelConfigSchema = v.strictObject({
  digest: v.string(),
  instruments: v.array(instrumentSchema),
  policies: v.array(policySchema),
  params: kernelParamsSchema,
})

export type KernelConfig = v.InferOutput<typeof kernelConfigSchema>

export function defaultKernelParams(): KernelParams {
  return {
    takerFeeBps: 10,
    referenceStaleMs: 5_000,
    referenceJumpBps: 1_000,
    lane1DepthMax: 1_000,
    lane2DepthMax: 1_000,
    accountQueuedMax: 250,
    callsPerInstrumentMax: 64,
    terminalOrdersKeptMax: 10_000,
    terminalOrderRetireAfterMs: 3_600_000,
    // ~0.9 KB of heap per ended order held (scripts/probe-heap-per-order.ts): about 1 GB in the kernel, as much again
    // in the back office's ledger and the log index, whatever the order rate (README, "Kernel parameters").
    terminalOrdersHeldMax: 1_000_000,
    // A day, as payment APIs hold keys; ~0.25 KB of heap per key held: the cap is about 1 GB (README, "Kernel parameters").
    idempotencyKeyHeldMs: 86_400_000,
    idempotencyKeysHeldMax: 4_000_000,
    reconcileGraceMs: 5_000,
    reconcileRecheckMs: 1_000,
    sendRetryMs: 1_000,
  }
}

/** An empty configuration: sim instruments, no policies (so every order is denied until policies are configured). */
export function defaultKernelConfig(options: { instruments?: Instrument[]; policies?: Policy[]; digest?: string } = {}): KernelConfig {
  return {
    digest: options.digest ?? 'default',
    instruments: options.instruments ?? defaultSimInstruments(),
    policies: options.policies ?? [],
    params: defaultKernelParams(),
  }
}
