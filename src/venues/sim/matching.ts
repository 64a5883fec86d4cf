/**
 * The sim venue's outside liquidity (book.ts): orders never match each other, each one trades against the reference
 * price as if the venue had deep liquidity at exactly that price. This decides how much of an order that liquidity
 * takes now, at what price a market order fills (slippage), in how many pieces a match is reported, and what a fill
 * costs. Every random draw comes from the venue's seeded generator, in a fixed order per call, so a seed replays.
 */

import { mulUnits, mulUnitsTwoWays, type Units } from '../../domain/decimal.ts'
import type { Liquidity } from '../adapter.ts'
import type { ResolvedSimOptions, SimInstrument } from './options.ts'
import type { Xoshiro128ss } from './prng.ts'
import type { SimOrder } from './order.ts'

export type MatchingOptions = Pick<ResolvedSimOptions, 'makerFeeBps' | 'takerFeeBps' | 'partialFillProbability' | 'fillsPerMatchMax' | 'marketSlippageTicksMax'>

const BPS = 10_000n
const TWO_POW_32 = 2n ** 32n

/** Whether an order (or an amend's new price) trades at `reference` now: a market order always does. */
export function isMarketable(order: Pick<SimOrder, 'side' | 'type' | 'price'>, reference: Units): boolean {
  if (order.type === 'market' || order.price === undefined) return true
  return order.side === 'buy' ? order.price >= reference : order.price <= reference
}

export class SimLiquidity {
  readonly #options: MatchingOptions
  readonly #rng: Xoshiro128ss

  constructor(options: MatchingOptions, rng: Xoshiro128ss) {
    this.#options = options
    this.#rng = rng
  }

  /** Quantity the outside liquidity offers now: all of it, or (partialFillProbability) 1..remaining−1 lots. */
  available(remaining: Units, lot: Units): Units {
    const lots = remaining / lot
    const short = this.#rng.chance(this.#options.partialFillProbability)
    const draw = BigInt(this.#rng.nextUint32())
    if (!short || lots < 2n) return remaining
    return (1n + (draw * (lots - 1n)) / TWO_POW_32) * lot
  }

  /** A market order's price: the reference moved against it by 0..marketSlippageTicksMax ticks (a sell never below a tick). */
  slipped(side: SimOrder['side'], instrument: SimInstrument, reference: Units): Units {
    const slip = BigInt(this.#rng.nextInt(0, this.#options.marketSlippageTicksMax)) * instrument.tick
    if (side === 'buy') return reference + slip
    return reference - slip >= instrument.tick ? reference - slip : instrument.tick
  }

  /** `qty` (whole lots) cut into 1..fillsPerMatchMax fills of whole lots, the last taking the remainder. */
  pieces(qty: Units, lot: Units): Units[] {
    const lots = qty / lot
    const wanted = BigInt(this.#rng.nextInt(1, this.#options.fillsPerMatchMax))
    const count = wanted < lots ? wanted : lots
    const pieces: Units[] = []
    for (let index = 0n; index < count; index++) {
      const pieceLots = index < count - 1n ? lots / count : lots - (lots / count) * (count - 1n)
      pieces.push(pieceLots * lot)
    }
    return pieces
  }

  /**
   * What a fill of `qty` at `price` moves: the cash, rounded against the account (a buy pays up, a sell receives
   * down), as egress's ledger books it and as a venue that never undercharges does; and the fee on the half-even
   * notional, rounded up (a rebate toward zero).
   */
  charges(side: SimOrder['side'], qty: Units, price: Units, liquidity: Liquidity): { cash: Units; fee: Units } {
    const [cash, notional] = mulUnitsTwoWays(qty, price, side === 'buy' ? 'up' : 'down', 'half_even')
    const bps = BigInt(liquidity === 'maker' ? this.#options.makerFeeBps : this.#options.takerFeeBps)
    return { cash, fee: mulUnits(notional, (bps * 100_000_000n) / BPS, 'up') }
  }
}
