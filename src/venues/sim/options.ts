/**
 * Options of the simulated venue: instruments, starting balances, fees, fill behaviour, latency and fault injection,
 * with defaults and validation. Probabilities are plain numbers in [0, 1] (they steer the seeded PRNG, they are not
 * amounts); every price, quantity and balance is bigint units.
 */

import type { Clock } from '../../domain/clock.ts'
import { formatDecimal, isMultipleOf, type Units } from '../../domain/decimal.ts'

export interface SimInstrument {
  symbol: string
  baseAsset: string
  quoteAsset: string
  tick: Units
  lot: Units
  /** Reference price at the start of the run; must be a positive multiple of `tick`. */
  initialPrice: Units
  /**
   * The size rules a place or amend must meet (size-check.ts), the gateway's instrument's (minQty, maxQty,
   * minNotional: src/runtime/paper.ts simInstrumentsFor, src/cli/serve-sim.ts). Each absent: no such rule.
   */
  minQty?: Units
  maxQty?: Units
  minNotional?: Units
}

/** A window of simulated time [startMs, endMs) during which the venue is unreachable. */
export interface SimOutage {
  startMs: number
  endMs: number
  /** What every call answers during the window: `unknown` after the request timeout, or `retryable` at once. */
  calls: 'unknown' | 'retryable'
  /** Reports due during the window are lost (`drop`) or delivered in order when it ends (`hold`). */
  reports: 'drop' | 'hold'
}

/** A window during which a symbol's price feed stalls: the walk stands still and its observed-at time ages. */
export interface SimPriceStall {
  symbol: string
  startMs: number
  endMs: number
}

export interface SimFaults {
  /** Request never reaches the venue; the caller gets `unknown` after `requestTimeoutMs`. Place/cancel/amend/queries. */
  dropRequestProbability: number
  /** Place/cancel/amend is applied, but the answer is lost; the caller gets `unknown` after `requestTimeoutMs`. */
  timeoutAfterApplyProbability: number
  /** Cancel is applied, but the caller gets `unknown` (after the normal latency, like a dropped response). */
  cancelAckLostProbability: number
  /** Per call: chance that a 429 burst starts; during a burst every call answers `retryable` and does nothing. */
  throttleBurstProbability: number
  throttleBurstMs: number
  dropReportProbability: number
  duplicateReportProbability: number
  /** Chance that a report is held back by an extra 1..`reorderDelayMsMax` ms, so later reports overtake it. */
  reorderReportProbability: number
  reorderDelayMsMax: number
  outages: SimOutage[]
  priceStalls: SimPriceStall[]
}

export interface SimVenueOptions {
  clock: Clock
  /** All randomness derives from this (a uint32). */
  seed: number
  instruments: SimInstrument[]
  /** Venue name in reports and ids; default `sim`. */
  venue?: string
  /** Starting balances: account → asset → total. Accounts not listed start empty (balances may go negative). */
  balances?: Record<string, Record<string, Units>>
  /**
   * What each account holds at the venue besides its balances: account → asset → amount, such as the paper fundings
   * egress books on its own ledger (serve passes them). Never reported by `balances()` (the sim reports what trading
   * moved, src/backoffice compares it so), but part of the position a reduce-only order may reduce (book.ts).
   */
  deposits?: Record<string, Record<string, Units>>
  /** Fees in basis points of notional, charged in the quote asset, rounded up to 1e-8; negative = rebate. */
  makerFeeBps?: number
  takerFeeBps?: number
  /** One-way latency of each request and each report, uniform in [min, max] ms. */
  latencyMsMin?: number
  latencyMsMax?: number
  /** How long the caller waits before concluding `unknown` (dropped request, lost answer, outage). */
  requestTimeoutMs?: number
  /** The price walk moves every `priceStepMs`, by a uniform integer number of ticks in ±`priceStepTicksMax`. */
  priceStepMs?: number
  priceStepTicksMax?: number
  /**
   * The visible size at each side of the touch the feed shows with every price (prices.ts), uniform in
   * [`touchLotsMin`, `touchLotsMax`] lots. Display only: the sim still fills any size at the reference price.
   */
  touchLotsMin?: number
  touchLotsMax?: number
  /** At each match, the chance that liquidity is short and only part of the remainder fills. */
  partialFillProbability?: number
  /** Each match's quantity is split into 1..`fillsPerMatchMax` executions. */
  fillsPerMatchMax?: number
  /** Market orders fill at reference ± a uniform 0..`marketSlippageTicksMax` ticks against the taker. */
  marketSlippageTicksMax?: number
  /** A second place with a known clientOrderId: `reject` (FIX/Binance behaviour, default) or `ack`: answer it as the first was (the existing order's id, or the first's rejection). */
  duplicateClientOrderId?: 'reject' | 'ack'
  /** DAY orders expire this long after they were accepted (the sim has no session calendar). */
  dayOrderTtlMs?: number
  /**
   * Bound on orders the venue holds: open ones, and ended ones within `endedOrderRetentionMs`. Ended orders past it
   * are forgotten to make room (order-store.ts); with none to forget, a place is rejected `venue_order_limit`.
   */
  ordersMax?: number
  /**
   * How long an ended order stays known (status, trades, its client order ids) at least; keep it above the gateway's
   * resend window (resendAgeMsMax) so that no forgotten order can be re-sent.
   */
  endedOrderRetentionMs?: number
  /** Bound on reports scheduled but not yet delivered; beyond it new reports are dropped and counted. */
  reportsInFlightMax?: number
  faults?: Partial<SimFaults>
  /**
   * Told of an error inside the book in a price step, which has no caller to answer (a bug, e.g. a resting limit order
   * with no price): the rest of that order's step is skipped (what it booked before the error is reported), the venue
   * steps on; told once per order. An operation's
   * error is answered `unknown` (venue_error) to its caller instead. Default: none.
   */
  onBookError?: (message: string) => void
}

export type ResolvedSimOptions = Required<Omit<SimVenueOptions, 'faults' | 'balances' | 'deposits'>> & {
  balances: Record<string, Record<string, Units>>
  deposits: Record<string, Record<string, Units>>
  faults: SimFaults
}

/** The options the sim venue's book (book.ts SimBook) reads: its instruments, balances, fees and fill behaviour. */
export type BookOptions = Pick<
  ResolvedSimOptions,
  | 'venue'
  | 'instruments'
  | 'balances'
  | 'deposits'
  | 'makerFeeBps'
  | 'takerFeeBps'
  | 'partialFillProbability'
  | 'fillsPerMatchMax'
  | 'marketSlippageTicksMax'
  | 'duplicateClientOrderId'
  | 'dayOrderTtlMs'
  | 'ordersMax'
  | 'endedOrderRetentionMs'
>

export const NO_FAULTS: Readonly<SimFaults> = Object.freeze({
  dropRequestProbability: 0,
  timeoutAfterApplyProbability: 0,
  cancelAckLostProbability: 0,
  throttleBurstProbability: 0,
  throttleBurstMs: 1_000,
  dropReportProbability: 0,
  duplicateReportProbability: 0,
  reorderReportProbability: 0,
  reorderDelayMsMax: 50,
  outages: [],
  priceStalls: [],
})

export function resolveSimOptions(options: SimVenueOptions): ResolvedSimOptions {
  const resolved: ResolvedSimOptions = {
    clock: options.clock,
    seed: options.seed,
    instruments: options.instruments,
    venue: options.venue ?? 'sim',
    balances: options.balances ?? {},
    deposits: options.deposits ?? {},
    makerFeeBps: options.makerFeeBps ?? 1,
    takerFeeBps: options.takerFeeBps ?? 5,
    latencyMsMin: options.latencyMsMin ?? 1,
    latencyMsMax: options.latencyMsMax ?? 5,
    requestTimeoutMs: options.requestTimeoutMs ?? 1_000,
    priceStepMs: options.priceStepMs ?? 100,
    priceStepTicksMax: options.priceStepTicksMax ?? 2,
    touchLotsMin: options.touchLotsMin ?? 100,
    touchLotsMax: options.touchLotsMax ?? 10_000,
    partialFillProbability: options.partialFillProbability ?? 0,
    fillsPerMatchMax: options.fillsPerMatchMax ?? 1,
    marketSlippageTicksMax: options.marketSlippageTicksMax ?? 0,
    duplicateClientOrderId: options.duplicateClientOrderId ?? 'reject',
    dayOrderTtlMs: options.dayOrderTtlMs ?? 86_400_000,
    ordersMax: options.ordersMax ?? 100_000,
    endedOrderRetentionMs: options.endedOrderRetentionMs ?? 300_000,
    reportsInFlightMax: options.reportsInFlightMax ?? 100_000,
    faults: resolveFaults(options.faults ?? {}),
    onBookError: options.onBookError ?? (() => {}),
  }
  validate(resolved)
  return resolved
}

export function resolveFaults(faults: Partial<SimFaults>): SimFaults {
  const resolved: SimFaults = { ...NO_FAULTS, ...faults }
  for (const key of PROBABILITY_KEYS) checkProbability(key, resolved[key])
  checkInteger('faults.throttleBurstMs', resolved.throttleBurstMs, 1)
  checkInteger('faults.reorderDelayMsMax', resolved.reorderDelayMsMax, 1)
  checkSpan('faults.reorderDelayMsMax', resolved.reorderDelayMsMax, 1)
  for (const window of [...resolved.outages, ...resolved.priceStalls]) {
    if (!(window.endMs > window.startMs)) {
      throw new RangeError(`a fault window needs endMs > startMs, got [${window.startMs}, ${window.endMs})`)
    }
  }
  return resolved
}

const PROBABILITY_KEYS = [
  'dropRequestProbability',
  'timeoutAfterApplyProbability',
  'cancelAckLostProbability',
  'throttleBurstProbability',
  'dropReportProbability',
  'duplicateReportProbability',
  'reorderReportProbability',
] as const

function validate(options: ResolvedSimOptions): void {
  checkInteger('seed', options.seed, 0)
  if (options.seed > 0xffff_ffff) throw new RangeError(`seed must be a uint32, got ${options.seed}`)
  if (!/^[A-Za-z0-9_.-]{1,32}$/.test(options.venue)) {
    throw new RangeError(`venue must be 1–32 characters of [A-Za-z0-9_.-], got ${JSON.stringify(options.venue)}`)
  }
  checkInteger('makerFeeBps', options.makerFeeBps, -10_000)
  checkInteger('takerFeeBps', options.takerFeeBps, -10_000)
  checkInteger('latencyMsMin', options.latencyMsMin, 0)
  checkInteger('latencyMsMax', options.latencyMsMax, options.latencyMsMin)
  // The answer of a request must normally arrive before the caller gives up, or every call would look like a fault.
  checkInteger('requestTimeoutMs', options.requestTimeoutMs, 2 * options.latencyMsMax + 1)
  checkInteger('priceStepMs', options.priceStepMs, 1)
  checkInteger('priceStepTicksMax', options.priceStepTicksMax, 0)
  checkInteger('touchLotsMin', options.touchLotsMin, 1)
  checkInteger('touchLotsMax', options.touchLotsMax, options.touchLotsMin)
  // nextInt draws from a span below 2^32.
  if (options.touchLotsMax > 0xffff_ffff) throw new RangeError(`touchLotsMax must be at most ${0xffff_ffff}, got ${options.touchLotsMax}`)
  checkProbability('partialFillProbability', options.partialFillProbability)
  checkInteger('fillsPerMatchMax', options.fillsPerMatchMax, 1)
  checkInteger('marketSlippageTicksMax', options.marketSlippageTicksMax, 0)
  checkInteger('dayOrderTtlMs', options.dayOrderTtlMs, 1)
  checkInteger('ordersMax', options.ordersMax, 1)
  checkInteger('endedOrderRetentionMs', options.endedOrderRetentionMs, 0)
  checkInteger('reportsInFlightMax', options.reportsInFlightMax, 1)
  checkSpan('latencyMsMax', options.latencyMsMax, options.latencyMsMin)
  checkSpan('priceStepTicksMax', options.priceStepTicksMax, -options.priceStepTicksMax)
  checkSpan('fillsPerMatchMax', options.fillsPerMatchMax, 1)
  checkSpan('marketSlippageTicksMax', options.marketSlippageTicksMax, 0)
  if (options.instruments.length === 0) throw new RangeError('instruments must list at least one instrument')
  const symbols = new Set<string>()
  for (const instrument of options.instruments) {
    const { symbol, tick, lot, initialPrice } = instrument
    if (symbols.has(symbol)) throw new RangeError(`instrument ${symbol} is listed twice`)
    symbols.add(symbol)
    if (tick <= 0n || lot <= 0n) throw new RangeError(`instrument ${symbol}: tick and lot must be positive`)
    if (initialPrice <= 0n || !isMultipleOf(initialPrice, tick)) {
      throw new RangeError(`instrument ${symbol}: initialPrice must be a positive multiple of tick`)
    }
    checkSizeRules(instrument)
  }
}

/** minQty and maxQty positive, maxQty ≥ minQty, minNotional ≥ 0: else a rule that refuses every order, or none. */
function checkSizeRules(instrument: SimInstrument): void {
  const { symbol, minQty, maxQty, minNotional } = instrument
  if (minQty !== undefined && minQty <= 0n) throw new RangeError(`instrument ${symbol}: minQty must be positive, got ${formatDecimal(minQty)}`)
  if (maxQty !== undefined && maxQty <= 0n) throw new RangeError(`instrument ${symbol}: maxQty must be positive, got ${formatDecimal(maxQty)}`)
  if (minQty !== undefined && maxQty !== undefined && maxQty < minQty) {
    throw new RangeError(`instrument ${symbol}: maxQty must be ≥ minQty (${formatDecimal(minQty)}), got ${formatDecimal(maxQty)}`)
  }
  if (minNotional !== undefined && minNotional < 0n) throw new RangeError(`instrument ${symbol}: minNotional must be ≥ 0, got ${formatDecimal(minNotional)}`)
}

function checkProbability(name: string, value: number): void {
  if (!(value >= 0 && value <= 1)) throw new RangeError(`${name} must be a probability in [0, 1], got ${value}`)
}

/** `max` is drawn by nextInt from [low, max], whose span must be below 2^32 (prng.ts): refused here, not at the draw. */
function checkSpan(name: string, max: number, low: number): void {
  if (max - low >= 2 ** 32) throw new RangeError(`${name} must be at most ${low + 2 ** 32 - 1}, got ${max}`)
}

function checkInteger(name: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`${name} must be an integer ≥ ${min}, got ${value}`)
  }
}
