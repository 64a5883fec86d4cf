/**
 * One order of a SyntheticScript as the kernel sees it over several status reads and fill reports, in both of the
 * script's logs: `events` as the kernel logs them (src/kernel/reconcile.ts syntheticFill, src/kernel/inbox.ts emitFill,
 * src/kernel/synthetic-cover.ts), `reference` with every real fill booked where it stands in the venue's order.
 *
 * The venue fills the order in `pieces`, each a range of its venue cumulative quantity at its own price, executed in
 * order. A status read sees some venue cumulative quantity V at most what has executed (not necessarily at a piece's
 * end) and books what egress lacks up to V as a synthetic fill at the read's price: so one order may get several
 * synthetic fills at different prices. A piece's report may arrive any time after it executed, in any order: the part
 * of it a synthetic fill booked is covered and trued up, the rest booked as its own fill (a straddling fill) with its
 * place in the venue's cumulative quantity (`venueCumQty`, as src/kernel/inbox.ts records it); a report arriving before
 * a read it precedes in venue order leaves a gap below it, which the read's synthetic fill stands for (the back office
 * places its lot there: src/backoffice/venue-ranges.ts).
 *
 * In `reference`, a read books the real pieces' parts it stands for, at their prices; a report books the rest. Each
 * part's cash rounds on its own there, while the kernel books a straddling fill's cash whole (synthetic-cover.ts
 * emitTrueUp): `cashRoundingUnits` is what `reference` holds more of the quote asset for that (a few units).
 */

import { formatDecimal, type Units } from '../../src/domain/decimal.ts'
import { decodeEvent, encodeEvent, type DomainEvent } from '../../src/domain/events/index.ts'
import { fillAmounts } from '../../src/kernel/ledger.ts'
import { coveredQtyOf, pendingShareOf } from '../../src/kernel/synthetic-cover.ts'
import { AT_MS, fill } from './events.ts'
import type { Side, SyntheticScript } from './synthetic-script.ts'

/** A real venue fill: (fromQty, toQty] of the order's venue cumulative quantity at `price`. */
interface Piece {
  fromQty: Units
  toQty: Units
  price: Units
  arrived: boolean
  /** The parts of it `reference` has booked, each as a fill of its own. */
  referenceParts: Units[]
}

const checked = (event: DomainEvent): DomainEvent => decodeEvent(encodeEvent(event))
const f = formatDecimal

/** What happened to an order that the property means to exercise. */
export interface VenueOrderCounts {
  /** 1 once the order got synthetic fills at two prices while the first was still pending. */
  mixedPriceOrders: number
  /** Reports partly covered by a synthetic fill, partly booked as their own fill. */
  straddlingFills: number
  /** Reads after a report that came before another not yet reported (the read's synthetic fill then stands for a gap). */
  reportsBeforeReads: number
}

export class VenueOrder {
  readonly orderId: string
  private readonly pieces: Piece[]
  /** Venue cumulative quantity executed so far (whole pieces). */
  private executedQty = 0n
  /** The highest venue cumulative quantity a status read booked up to (Order.syntheticCumQty). */
  private syntheticCumQty = 0n
  /** Egress's cumulative quantity (Order.cumQty) and the reference order's. */
  private cumQty = 0n
  private referenceCumQty = 0n
  private readonly pending = { syntheticPendingQty: 0n, syntheticPendingCash: 0n, syntheticPendingNotional: 0n }
  private pieceFills = 0
  /** Σ over reported pieces of the quote `reference` booked for them less what the kernel booked, as the account sees it. */
  cashRoundingUnits = 0n
  readonly counts: VenueOrderCounts = { mixedPriceOrders: 0, straddlingFills: 0, reportsBeforeReads: 0 }
  private pendingPrices = new Set<Units>()

  constructor(
    private readonly script: SyntheticScript,
    readonly side: Side,
    pieces: readonly { qty: Units; price: Units }[],
    limitPrice: Units,
  ) {
    let cum = 0n
    this.pieces = pieces.map(({ qty, price }) => ({ fromQty: cum, toQty: (cum += qty), price, arrived: false, referenceParts: [] }))
    this.orderId = script.accept(side, f(cum), f(limitPrice))
  }

  get done(): boolean {
    return this.pieces.every((piece) => piece.arrived)
  }

  /** The next piece executes at the venue (nothing is logged). */
  execute(): void {
    const next = this.pieces.find((piece) => piece.toQty > this.executedQty)
    if (next !== undefined) this.executedQty = next.toQty
  }

  /**
   * A status read at `price` sees the venue cumulative quantity `pick` units below what executed (0: all of it), at or
   * above every report placed and above what egress holds; what egress lacks up to it is booked synthetically.
   */
  read(price: Units, pick: bigint): void {
    const arrivedTo = this.pieces.reduce((high, piece) => (piece.arrived && piece.toQty > high ? piece.toQty : high), 0n)
    const above = (this.syntheticCumQty > this.cumQty ? this.syntheticCumQty : this.cumQty) + 1n
    const lowest = arrivedTo > above ? arrivedTo : above
    if (this.executedQty < lowest) return
    const venueCumQty = this.executedQty - (pick % (this.executedQty - lowest + 1n))
    const qty = venueCumQty - this.cumQty
    if (qty <= 0n) return
    // What it stands for: the parts of pieces not reported yet in (the last read's quantity, venueCumQty].
    let standsFor = 0n
    for (const [index, piece] of this.pieces.entries()) {
      if (piece.arrived) continue
      const from = piece.fromQty > this.syntheticCumQty ? piece.fromQty : this.syntheticCumQty
      const to = piece.toQty < venueCumQty ? piece.toQty : venueCumQty
      if (to <= from) continue
      standsFor += to - from
      this.referenceFill(`${this.orderId}-p${index}-r${this.pieceFills++}`, to - from, piece)
    }
    if (standsFor !== qty) throw new Error(`script: the read books ${f(qty)} for ${f(standsFor)} of unreported pieces`)
    if (this.pieces.some((piece, index) => piece.arrived && this.pieces.slice(0, index).some((earlier) => !earlier.arrived))) this.counts.reportsBeforeReads += 1
    this.pendingPrices.add(price)
    if (this.pendingPrices.size > 1) this.counts.mixedPriceOrders = 1
    const execId = `reconcile:${this.orderId}:${venueCumQty}`
    this.cumQty = venueCumQty
    this.syntheticCumQty = venueCumQty
    this.script.events.push(fill(this.orderId, { execId, qty: f(qty), price: f(price), cumQty: f(this.cumQty), synthetic: true }))
    this.script.events.push(checked({ type: 'order.synthetic_pending', atMs: AT_MS, orderId: this.orderId, execId, qty, price }))
    const { cash, notional } = fillAmounts(this.side, qty, price)
    this.pending.syntheticPendingQty += qty
    this.pending.syntheticPendingCash += cash
    this.pending.syntheticPendingNotional += notional
  }

  /** The report of the `pick`-th executed piece not reported yet arrives (false when there is none). */
  report(pick: number): boolean {
    const waiting = this.pieces.filter((piece) => !piece.arrived && piece.toQty <= this.executedQty)
    const piece = waiting[pick % Math.max(1, waiting.length)]
    if (piece === undefined) return false
    piece.arrived = true
    const index = this.pieces.indexOf(piece)
    const execId = `${this.orderId}-p${index}`
    const lastQty = piece.toQty - piece.fromQty
    const { price: lastPrice } = piece
    const coveredQty = coveredQtyOf(this.syntheticCumQty, { lastQty, venueCumQty: piece.toQty })
    const ownQty = lastQty - coveredQty
    const at = { atMs: AT_MS, orderId: this.orderId, execId, lastPrice, fee: 0n, feeAsset: 'USD', venueTimeMs: AT_MS }
    if (coveredQty > 0n) {
      const event = { type: 'order.fill_covered' as const, ...at, lastQty, coveredQty, venueCumQty: piece.toQty, syntheticCumQty: this.syntheticCumQty }
      this.script.events.push(checked(event))
    }
    if (ownQty > 0n) {
      this.cumQty += ownQty
      // Its place in the venue's cumulative quantity, as the kernel records it (src/kernel/inbox.ts emitOwnFill).
      this.script.events.push(fill(this.orderId, { execId, qty: f(ownQty), price: f(lastPrice), cumQty: f(this.cumQty), venueCumQty: f(piece.toQty) }))
      this.referenceFill(`${execId}-own`, ownQty, piece)
    }
    let kernelQty = ownQty
    if (coveredQty > 0n) {
      const share = pendingShareOf(this.pending, coveredQty)
      const withShare = fillAmounts(this.side, ownQty + share.qty, lastPrice)
      const without = fillAmounts(this.side, ownQty, lastPrice)
      const trueUp = {
        type: 'order.fill_trued_up' as const, ...at, qty: share.qty, cash: withShare.cash - without.cash, notional: withShare.notional - without.notional,
        syntheticCash: share.cash, syntheticNotional: share.notional,
      }
      if (share.qty > 0n) this.script.events.push(checked(trueUp))
      if (ownQty > 0n) this.counts.straddlingFills += 1
      kernelQty += share.qty
      this.pending.syntheticPendingQty -= share.qty
      this.pending.syntheticPendingCash -= share.cash
      this.pending.syntheticPendingNotional -= share.notional
      if (this.pending.syntheticPendingQty === 0n) this.pendingPrices.clear()
    }
    const referenceCash = piece.referenceParts.reduce((sum, part) => sum + fillAmounts(this.side, part, lastPrice).cash, 0n)
    const roundingCash = referenceCash - fillAmounts(this.side, kernelQty, lastPrice).cash
    this.cashRoundingUnits += this.side === 'buy' ? -roundingCash : roundingCash
    return true
  }

  /** Every piece executes and reports (the end of a script). */
  finish(): void {
    while (this.pieces.some((piece) => piece.toQty > this.executedQty)) this.execute()
    while (this.report(0));
    if (this.pending.syntheticPendingQty !== 0n || this.pending.syntheticPendingCash !== 0n) throw new Error(`script: ${this.orderId} still has synthetic quantity pending`)
  }

  private referenceFill(execId: string, qty: Units, piece: Piece): void {
    this.referenceCumQty += qty
    piece.referenceParts.push(qty)
    this.script.reference.push(fill(this.orderId, { execId, qty: f(qty), price: f(piece.price), cumQty: f(this.referenceCumQty) }))
  }
}
