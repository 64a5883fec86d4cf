/**
 * The sim venue's price process: one random walk per symbol, in whole ticks, stepping every `stepMs` of simulated
 * time. Step k of a symbol happens at `epochMs + k·stepMs` and draws from that symbol's own PRNG stream, so the path
 * is a function of (seed, symbol, time) alone: it does not matter when or how often anyone looks. The walk is caught
 * up lazily on every read, which lets an idle venue schedule nothing — at most CATCH_UP_STEPS_MAX steps at a read: after
 * a longer gap the walk goes on from where it was (#catchUp).
 *
 * The touch shown with each price: both sides at the reference price (the venue fills at it: book.ts, matching.ts),
 * each with a visible size of `touchLotsMin..touchLotsMax` lots drawn from a stream of its own seeded by
 * (seed, symbol, side, observation time). So the sizes change with every price step, hold still while the feed
 * stalls, and drawing them shifts neither the price path nor any other stream.
 */

import type { Units } from '../../domain/decimal.ts'
import type { BookTouch } from '../../domain/market.ts'
import type { SimInstrument, SimPriceStall } from './options.ts'
import { deriveSeed, Xoshiro128ss } from './prng.ts'

export interface ReferencePrice {
  symbol: string
  price: Units
  /** Simulated time of the step (or manual set) that produced this price; ages while the feed stalls. */
  observedAtMs: number
  /** The best bid and offer at that time with their visible sizes. */
  touch: BookTouch
}

interface Walk {
  instrument: SimInstrument
  ticks: bigint
  stepsApplied: number
  observedAtMs: number
  rng: Xoshiro128ss
  /** The sizes drawn for the observation at `sizesAtMs` (drawn once per observation, on the first read of it). */
  sizes: { bidQty: Units; askQty: Units; sizesAtMs: number } | null
  /**
   * The answer for the current observation, built on its first read and handed to every read after (frozen): the
   * price is read for every order (the runtime's data-health guard, the book's match), and a new answer each time was
   * a BigInt and two objects per read. Cleared whenever the price or its observation time moves.
   */
  quote: ReferencePrice | null
}

export interface PriceProcessOptions {
  seed: number
  epochMs: number
  stepMs: number
  stepTicksMax: number
  /** Bounds of the visible size at each side of the touch, in lots (1 ≤ min ≤ max). */
  touchLotsMin: number
  touchLotsMax: number
  /** Read on every step, so stalls configured at runtime take effect. */
  stalls: () => readonly SimPriceStall[]
}

/** The most steps one read walks (at the default 100 ms a step, about 17 minutes of the walk); see #catchUp. */
export const CATCH_UP_STEPS_MAX = 10_000

export class PriceProcess {
  readonly #options: PriceProcessOptions
  readonly #walks = new Map<string, Walk>()

  constructor(instruments: readonly SimInstrument[], options: PriceProcessOptions) {
    this.#options = options
    for (const instrument of instruments) {
      this.#walks.set(instrument.symbol, {
        instrument,
        ticks: instrument.initialPrice / instrument.tick,
        stepsApplied: 0,
        observedAtMs: options.epochMs,
        rng: Xoshiro128ss.fromSeed(deriveSeed(options.seed, `price:${instrument.symbol}`)),
        sizes: null,
        quote: null,
      })
    }
  }

  /** The reference price at `nowMs`, or null for a symbol the venue does not trade. */
  reference(symbol: string, nowMs: number): ReferencePrice | null {
    const walk = this.#walks.get(symbol)
    if (walk === undefined) return null
    this.#catchUp(walk, nowMs)
    if (walk.quote !== null) return walk.quote
    const price = walk.ticks * walk.instrument.tick
    if (walk.sizes === null || walk.sizes.sizesAtMs !== walk.observedAtMs) {
      walk.sizes = { bidQty: this.#touchQty(walk, 'bid'), askQty: this.#touchQty(walk, 'ask'), sizesAtMs: walk.observedAtMs }
    }
    const touch = Object.freeze({ bidPrice: price, bidQty: walk.sizes.bidQty, askPrice: price, askQty: walk.sizes.askQty })
    walk.quote = Object.freeze({ symbol, price, observedAtMs: walk.observedAtMs, touch })
    return walk.quote
  }

  /** Moves a symbol's price by hand (a jump, for tests); the walk continues from there. */
  set(symbol: string, price: Units, nowMs: number): void {
    const walk = this.#walks.get(symbol)
    if (walk === undefined) throw new RangeError(`unknown symbol ${symbol}`)
    const { tick } = walk.instrument
    if (price <= 0n || price % tick !== 0n) throw new RangeError(`price for ${symbol} must be a positive tick multiple`)
    this.#catchUp(walk, nowMs)
    walk.ticks = price / tick
    walk.observedAtMs = nowMs
    walk.quote = null
  }

  /** Time of the next step boundary strictly after `nowMs`. */
  nextStepMs(nowMs: number): number {
    const { epochMs, stepMs } = this.#options
    return epochMs + (Math.floor((nowMs - epochMs) / stepMs) + 1) * stepMs
  }

  #touchQty(walk: Walk, side: 'bid' | 'ask'): Units {
    const { seed, touchLotsMin, touchLotsMax } = this.#options
    const rng = Xoshiro128ss.fromSeed(deriveSeed(seed, `touch:${walk.instrument.symbol}:${side}:${walk.observedAtMs}`))
    return BigInt(rng.nextInt(touchLotsMin, touchLotsMax)) * walk.instrument.lot
  }

  #catchUp(walk: Walk, nowMs: number): void {
    const { epochMs, stepMs, stepTicksMax } = this.#options
    const target = Math.floor((nowMs - epochMs) / stepMs)
    // A read after a long gap (an idle weekend, a clock stepped forward) walked every step since, on the event loop: a
    // 50-day jump held it ~10 s. Past CATCH_UP_STEPS_MAX the walk lands that many steps before the target, the price
    // where it was, and draws on from a stream seeded by the landing step: still a function of seed, symbol and time,
    // now also of where the gap began.
    if (target - walk.stepsApplied > CATCH_UP_STEPS_MAX) {
      walk.stepsApplied = target - CATCH_UP_STEPS_MAX
      walk.rng = Xoshiro128ss.fromSeed(deriveSeed(this.#options.seed, `price:${walk.instrument.symbol}:from:${walk.stepsApplied}`))
    }
    const stalls = this.#options.stalls()
    while (walk.stepsApplied < target) {
      walk.stepsApplied++
      const stepAtMs = epochMs + walk.stepsApplied * stepMs
      // Always draw, so a stall pauses the price without shifting the rest of the path.
      const delta = BigInt(walk.rng.nextInt(-stepTicksMax, stepTicksMax))
      if (isStalled(stalls, walk.instrument.symbol, stepAtMs)) continue
      const next = walk.ticks + delta
      walk.ticks = next >= 1n ? next : 1n
      walk.observedAtMs = stepAtMs
      walk.quote = null
    }
  }
}

/** Asked for every step of every symbol: a loop, where a callback capturing `symbol` and `atMs` was a closure each time. */
function isStalled(stalls: readonly SimPriceStall[], symbol: string, atMs: number): boolean {
  for (const stall of stalls) if (stall.symbol === symbol && atMs >= stall.startMs && atMs < stall.endMs) return true
  return false
}
