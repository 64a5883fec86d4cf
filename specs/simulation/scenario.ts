/**
 * A seed's scenario: how the sim venue behaves (latency, fills, which faults and how often, outage and price-stall
 * windows) and which kernel parameters egress runs with. Everything is drawn from the seed through its own PRNG
 * stream, so changing the workload never changes the scenario of a seed and vice versa.
 */

import { SELF_TRADE_SETTINGS, type SelfTradeSetting } from '../../src/domain/accounts.ts'
import type { KernelConfig, KernelParams } from '../../src/domain/kernel-config.ts'
import { deriveSeed, NO_FAULTS, Xoshiro128ss, type SimFaults, type SimOutage, type SimPriceStall } from '../../src/venues/sim/index.ts'
import { ACCOUNTS, T0 } from '../runtime/harness.ts'

export const SYMBOLS = ['BTC-USD', 'ETH-USD', 'AAPL'] as const
/** A traded symbol: the default three, or RND-USD, added when the back office is checked (rounding-instrument.ts). */
export type SimSymbol = (typeof SYMBOLS)[number] | 'RND-USD'

export interface VenueShape {
  latencyMsMin: number
  latencyMsMax: number
  requestTimeoutMs: number
  priceStepMs: number
  priceStepTicksMax: number
  partialFillProbability: number
  fillsPerMatchMax: number
  duplicateClientOrderId: 'reject' | 'ack'
  dayOrderTtlMs: number
}

export interface Scenario {
  seed: number
  /** Workload steps before the venue is healed. */
  steps: number
  venue: VenueShape
  faults: SimFaults
  params: Partial<KernelParams>
  /** Each account's policy selfTrade (self-trade prevention refuses its crossing orders, or lets them through). */
  selfTrade: Readonly<Record<string, SelfTradeSetting>>
  /** Whether this seed runs with no faults at all (a control group that must converge trivially). */
  calm: boolean
  /**
   * Whether the accounts' policies allow market orders and the workload places some (workload.ts validPlace): they go
   * to the venue as limits at their protection price (src/kernel/venue-form.ts). Off, a market order is refused
   * (MARKET_ORDERS_DISABLED), as in every seed before.
   */
  marketOrders: boolean
}

export interface ScenarioOptions {
  steps: number
  /** Simulated time the workload is expected to span; fault windows are placed inside it. */
  horizonMs: number
}

export class Draw {
  readonly #rng: Xoshiro128ss
  constructor(seed: number, label: string) {
    this.#rng = Xoshiro128ss.fromSeed(deriveSeed(seed, label))
  }
  int(min: number, max: number): number {
    return this.#rng.nextInt(min, max)
  }
  chance(probability: number): boolean {
    return this.#rng.chance(probability)
  }
  pick<T>(items: readonly T[]): T {
    const item = items[this.#rng.nextInt(0, items.length - 1)]
    if (item === undefined) throw new RangeError('pick needs a non-empty list')
    return item
  }
  /** A probability in [min, max] with 0.001 resolution (probabilities steer the PRNG; they are not amounts). */
  probability(min: number, max: number): number {
    return this.#rng.nextInt(Math.round(min * 1000), Math.round(max * 1000)) / 1000
  }
  /** Picks a key with chance proportional to its weight. */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K {
    const entries = Object.entries(weights) as [K, number][]
    const total = entries.reduce((sum, [, weight]) => sum + weight, 0)
    let ticket = this.#rng.nextInt(0, total - 1)
    for (const [key, weight] of entries) {
      if (ticket < weight) return key
      ticket -= weight
    }
    throw new RangeError('weighted needs a positive total weight')
  }
}

export function drawScenario(seed: number, options: ScenarioOptions): Scenario {
  const draw = new Draw(seed, 'scenario')
  const latencyMsMin = draw.int(0, 3)
  const latencyMsMax = latencyMsMin + draw.pick([1, 5, 20])
  const venue: VenueShape = {
    latencyMsMin,
    latencyMsMax,
    requestTimeoutMs: Math.max(2 * latencyMsMax + 1, draw.pick([150, 400, 1_000])),
    priceStepMs: draw.pick([50, 100, 250]),
    priceStepTicksMax: draw.pick([2, 20, 200]),
    partialFillProbability: draw.pick([0, 0.2, 0.5]),
    fillsPerMatchMax: draw.int(1, 3),
    duplicateClientOrderId: draw.pick(['reject', 'ack'] as const),
    dayOrderTtlMs: draw.pick([1_500, 5_000, 86_400_000]),
  }
  const calm = draw.chance(0.1)
  const faults = calm ? drawNoFaults() : drawFaults(draw, options.horizonMs)
  const params: Partial<KernelParams> = {
    reconcileGraceMs: draw.pick([250, 1_000, 3_000]),
    reconcileRecheckMs: draw.pick([200, 1_000]),
    sendRetryMs: draw.pick([100, 1_000]),
    // Small lane bounds make bursts shed new orders, which is what Lane0 must survive.
    lane1DepthMax: draw.pick([3, 20, 1_000]),
    lane2DepthMax: draw.pick([5, 30, 1_000]),
    // Serialised per instrument, or pipelined (several calls in flight per venue×symbol, dispatched in order).
    callsPerInstrumentMax: draw.pick([1, 4, 16]),
    // Bounded hot state: terminal orders retired from the kernel state beyond 2 or 50 (or 10,000: never, in a run).
    terminalOrdersKeptMax: draw.pick([2, 50, 10_000]),
    // Event time an ended order stays before it may be retired: none, shorter than a run, or the default hour (never).
    terminalOrderRetireAfterMs: draw.pick([0, 500, 3_600_000]),
  }
  // The hard cap on ended orders held (src/kernel/retention.ts): at or just above the count kept, so it retires orders
  // within the grace, or the default (never reached in a run). Never below the count, as config load requires. Drawn
  // last, so every draw before it, and each seed's scenario but for the cap, is what it was.
  params.terminalOrdersHeldMax = Math.max(params.terminalOrdersKeptMax ?? 0, draw.pick([3, 1_000_000]))
  // Market orders allowed and placed (Scenario.marketOrders): drawn after the cap, so every draw before it is what it was.
  const marketOrders = draw.chance(0.5)
  // Each account's self-trade setting (src/kernel/intake/self-trade.ts), so seeds run both: refused crossings, and an
  // account's buys and sells crossing at the venue. Drawn last, after the market orders, for the same reason.
  const selfTrade = Object.fromEntries(ACCOUNTS.map((account) => [account.accountId, draw.pick(SELF_TRADE_SETTINGS)]))
  return { seed, steps: options.steps, venue, faults, params, calm, marketOrders, selfTrade }
}

/** `config` with each account's policy on the scenario's selfTrade setting (startWorld's `configure`). */
export function withScenarioSelfTrade(scenario: Scenario, config: KernelConfig): KernelConfig {
  return { ...config, policies: config.policies.map((policy) => ({ ...policy, selfTrade: scenario.selfTrade[policy.accountId] ?? 'reject' })) }
}

function drawNoFaults(): SimFaults {
  // A fresh copy: scenarios fill in their own outages and stalls.
  return { ...NO_FAULTS, outages: [], priceStalls: [] }
}

/** Each fault kind is on for about half the seeds, at a seeded rate. */
function drawFaults(draw: Draw, horizonMs: number): SimFaults {
  const maybe = (min: number, max: number): number => (draw.chance(0.5) ? draw.probability(min, max) : 0)
  return {
    dropRequestProbability: maybe(0.01, 0.1),
    timeoutAfterApplyProbability: maybe(0.01, 0.1),
    cancelAckLostProbability: maybe(0.05, 0.3),
    throttleBurstProbability: maybe(0.005, 0.05),
    throttleBurstMs: draw.pick([100, 400, 1_500]),
    dropReportProbability: maybe(0.01, 0.1),
    duplicateReportProbability: maybe(0.05, 0.3),
    reorderReportProbability: maybe(0.05, 0.3),
    reorderDelayMsMax: draw.pick([5, 30, 100]),
    outages: drawOutages(draw, horizonMs),
    priceStalls: drawStalls(draw, horizonMs),
  }
}

function drawOutages(draw: Draw, horizonMs: number): SimOutage[] {
  const outages: SimOutage[] = []
  const count = draw.weighted({ none: 5, one: 4, two: 1 })
  const n = count === 'none' ? 0 : count === 'one' ? 1 : 2
  for (let index = 0; index < n; index++) {
    const startMs = T0 + draw.int(0, horizonMs)
    const lengthMs = draw.pick([150, 800, 3_000])
    outages.push({ startMs, endMs: startMs + lengthMs, calls: draw.pick(['unknown', 'retryable'] as const), reports: draw.pick(['drop', 'hold'] as const) })
  }
  return outages
}

function drawStalls(draw: Draw, horizonMs: number): SimPriceStall[] {
  if (!draw.chance(0.3)) return []
  const startMs = T0 + draw.int(0, horizonMs)
  // Longer than referenceStaleMs (5 s by default) in some seeds, so the data-health guard sees a stale price.
  return [{ symbol: draw.pick(SYMBOLS), startMs, endMs: startMs + draw.pick([1_000, 7_000]) }]
}
