/**
 * The order as it will be sent, for every guard that prices it. Guard 6 rounds the price to the tick (a buy down, a
 * sell up: never more aggressive than asked) and the quantity down to the lot; the guards before it (policy's max
 * notional, data health's band, the reservation) look at these same rounded values, so what they pass is what goes
 * out — a sell priced just inside a limit or the band cannot round up past it, and nothing is held for the part of an
 * order rounding takes off. A market order has no price: its worst case is the reference price pushed to the upper
 * edge of the instrument's band, the highest price the gateway assumes it can fill at (a buy pays at most that; a
 * sell's notional is at most qty × that).
 *
 * That worst case is made true at the venue (spec 004 §8, anti-slippage): a market order is sent as a marketable limit
 * at its protection price (`marketProtectionPrice`), computed here at intake from the same reference price and recorded
 * on `order.accepted`, so the send, a resend, a standby, a replay and `explain` all see one price. A buy's is its worst
 * price rounded down to the tick — at most what its reservation was taken at, so no fill can spend past what is held;
 * a sell's is the band's lower edge rounded up to the tick, the lowest price it may sell at.
 */

import { roundToStep, smallBigInt, type Units } from '../../domain/decimal.ts'
import type { Instrument } from '../../domain/instruments.ts'
import type { Side, TimeInForce } from '../../domain/orders.ts'
import { isRecordableUnits, RECORD_UNITS_MAX } from '../../domain/recordable-amounts.ts'
import { ceilDiv } from '../reservations.ts'

/** The limit price as sent: rounded to the tick, a buy's down and a sell's up. */
export function sentPrice(price: Units, side: Side, instrument: Instrument): Units {
  return roundToStep(price, instrument.tickSize, side === 'buy' ? 'down' : 'up')
}

/** The quantity as sent: rounded down to the lot. */
export function sentQty(qty: Units, instrument: Instrument): Units {
  return roundToStep(qty, instrument.lotSize, 'down')
}

/** A market order's worst price: the reference price at the upper edge of the band, rounded up. */
export function marketWorstPrice(referencePrice: Units, instrument: Instrument): Units {
  return ceilDiv(referencePrice * smallBigInt(10_000 + instrument.priceBandBps), 10_000n)
}

/**
 * A reference price at most this is always usable: an instrument's band is at most 100 000 bps (schema-kit.ts
 * bpsSchema; the config takes up to 10 000), so its upper edge is at most 11 times it. Above it, the edge is computed.
 */
const REFERENCE_PRICE_ALWAYS_RECORDABLE: Units = RECORD_UNITS_MAX / 11n

/**
 * Whether the kernel can price orders from `referencePrice`: it is positive, and every price derived from it — up to
 * the band's upper edge, a market buy's worst and protection price — is one a record holds (recordable-amounts.ts).
 * A venue states its reference prices with more digits than a record holds (a JSONL `$units` integer takes 40), and a
 * market order or a flatten's close priced from such a price made the log's writer assert on its `order.accepted`: the
 * decision failed as a kernel bug. Read by data health (a price it fails is DATA_MISSING) and by flatten.
 */
export function referencePriceUsable(referencePrice: Units, instrument: Instrument): boolean {
  if (referencePrice <= 0n) return false
  return referencePrice <= REFERENCE_PRICE_ALWAYS_RECORDABLE || isRecordableUnits(marketWorstPrice(referencePrice, instrument))
}

/**
 * The time in force a protected market order is sent with: FOK stays FOK, anything else is IOC. A market order takes
 * what it can now and never rests (the sim venue expires a market order's rest whatever its time in force); sent as a
 * GTC or DAY limit, its rest would sit on the book at the protection price.
 */
export function protectedTif(tif: TimeInForce): 'IOC' | 'FOK' {
  return tif === 'FOK' ? 'FOK' : 'IOC'
}

/**
 * A market order's protection price: the price it is sent at as a limit, so it never fills worse than the gateway
 * reserved and checked it at. A buy's is `marketWorstPrice` rounded down to the tick (never above what its reservation
 * holds for; null if that is below one tick); a sell's is the reference price at the lower edge of the band,
 * reference × (1 − band), rounded up to the tick (the less aggressive side), and at least one tick (a band of 100 % or
 * more has no lower edge). Null — the order goes out as a plain market order — also when the instrument cannot take a
 * limit in its place: it lists no limit orders, or not the time in force `protectedTif` sends it with.
 */
export function marketProtectionPrice(order: { side: Side; tif: TimeInForce }, instrument: Instrument, referencePrice: Units): Units | null {
  if (!instrument.orderTypes.includes('limit') || !instrument.timeInForce.includes(protectedTif(order.tif))) return null
  const tick = instrument.tickSize
  if (order.side === 'buy') {
    const price = roundToStep(marketWorstPrice(referencePrice, instrument), tick, 'down')
    return price > 0n ? price : null
  }
  return bandFloorPrice(referencePrice, instrument)
}

/**
 * A plain market order's worst price (one sent with no limit: marketProtectionPrice null), recorded on it at intake and
 * at each resend (Order.worstPrice): a buy's is `marketWorstPrice`, the price its reservation holds cash for; a sell's
 * is `bandFloorPrice`, the lowest price the gateway assumes it sells at. Nothing at the venue holds the order to it, so
 * a fill beyond it is booked as reported and alerted (FILL_PRICE_BEYOND_WORST, kernel/fill-limit.ts): a buy's spent more
 * than its reservation held.
 */
export function plainMarketWorstPrice(side: Side, referencePrice: Units, instrument: Instrument): Units {
  return side === 'buy' ? marketWorstPrice(referencePrice, instrument) : bandFloorPrice(referencePrice, instrument)
}

/**
 * The reference price at the lower edge of the instrument's band, reference × (1 − band), rounded up to the tick and at
 * least one tick (a band of 100 % or more has no lower edge, and 0 is a price no venue takes): the lowest price the
 * gateway sells at when it sells at the market — a protected market sell's limit, and a flatten's close (flatten.ts).
 */
export function bandFloorPrice(referencePrice: Units, instrument: Instrument): Units {
  const tick = instrument.tickSize
  const keptBps = 10_000 - instrument.priceBandBps
  if (keptBps <= 0) return tick
  const price = roundToStep(ceilDiv(referencePrice * smallBigInt(keptBps), 10_000n), tick, 'up')
  return price > tick ? price : tick
}
