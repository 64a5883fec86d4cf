/**
 * Trades of one account in one instrument written twice, as the ledger specs of true-ups need them: `events` as the
 * kernel logs them when a synthetic fill stands in for real fills that arrive later (the synthetic `order.fill`, its
 * `order.synthetic_pending`, then per real fill `order.fill_covered` and `order.fill_trued_up`, with the kernel's own
 * arithmetic: src/kernel/synthetic-cover.ts), and `reference` with those real fills booked in the synthetic fill's place
 * from the start. After every real fill has arrived, a ledger folding `events` must hold the positions a ledger folding
 * `reference` holds.
 */

import { decodeEvent, encodeEvent, type DomainEvent } from '../../src/domain/events/index.ts'
import { formatDecimal, mulUnits, parseDecimal, type Units } from '../../src/domain/decimal.ts'
import { fillAmounts } from '../../src/kernel/ledger.ts'
import { pendingShareOf } from '../../src/kernel/synthetic-cover.ts'
import { applyEvent, initialLedger, positionKey, type LedgerState, type Position } from '../../src/backoffice/index.ts'
import { ACCOUNT, AT_MS, accepted, fill, funded } from './events.ts'

export type Side = 'buy' | 'sell'

/** A real fill behind a synthetic fill (decimal strings). */
export interface RealPiece {
  qty: string
  price: string
}

/** A synthetic fill whose real fills have not all arrived. */
export interface SyntheticHandle {
  orderId: string
  side: Side
  pieces: readonly RealPiece[]
  /** Which of `pieces` have arrived (by index). */
  arrived: Set<number>
  /** The kernel's Order.syntheticPending… figures for the order. */
  pending: { syntheticPendingQty: Units; syntheticPendingCash: Units; syntheticPendingNotional: Units }
}

const checked = (event: DomainEvent): DomainEvent => decodeEvent(encodeEvent(event))

export class SyntheticScript {
  readonly events: DomainEvent[] = [funded('USD', '100000000'), funded('BTC', '100000')]
  readonly reference: DomainEvent[] = [...this.events]
  private orders = 0

  /** A real fill of a new order, in both. */
  real(side: Side, qty: string, price: string): string {
    const orderId = this.accept(side, qty, price)
    const booked = fill(orderId, { execId: `${orderId}-r`, qty, price, cumQty: qty })
    this.events.push(booked)
    this.reference.push(booked)
    return orderId
  }

  /**
   * A new order filled synthetically: `qty` at `price` (the guess) in `events`, its real fills `pieces` (adding up to
   * `qty`) in `reference`.
   */
  synthetic(side: Side, qty: string, price: string, pieces: readonly RealPiece[]): SyntheticHandle {
    const total = pieces.reduce((sum, piece) => sum + parseDecimal(piece.qty), 0n)
    if (total !== parseDecimal(qty)) throw new Error(`real fills add up to ${formatDecimal(total)}, not ${qty}`)
    const orderId = this.accept(side, qty, price)
    const execId = `reconcile:${orderId}:${qty}`
    this.events.push(fill(orderId, { execId, qty, price, cumQty: qty, synthetic: true }))
    this.events.push(checked({ type: 'order.synthetic_pending', atMs: AT_MS, orderId, execId, qty: parseDecimal(qty), price: parseDecimal(price) }))
    const { cash, notional } = fillAmounts(side, parseDecimal(qty), parseDecimal(price))
    let cum = 0n
    pieces.forEach((piece, index) => {
      cum += parseDecimal(piece.qty)
      this.reference.push(fill(orderId, { execId: `${orderId}-p${index}`, qty: piece.qty, price: piece.price, cumQty: formatDecimal(cum) }))
    })
    return { orderId, side, pieces, arrived: new Set(), pending: { syntheticPendingQty: parseDecimal(qty), syntheticPendingCash: cash, syntheticPendingNotional: notional } }
  }

  /**
   * A real fill of a synthetic fill arrives (in `events` only), covered whole, and is trued up: the `pick`-th of those
   * not arrived yet (0: the first in venue order), so real fills may arrive in any order, as they do at the kernel.
   */
  arrive(handle: SyntheticHandle, pick = 0): void {
    const waiting = handle.pieces.map((_, index) => index).filter((index) => !handle.arrived.has(index))
    const index = waiting[pick % Math.max(1, waiting.length)]
    const piece = index === undefined ? undefined : handle.pieces[index]
    if (index === undefined || piece === undefined) throw new Error(`every real fill of ${handle.orderId} has arrived`)
    handle.arrived.add(index)
    const before = handle.pieces.slice(0, index).reduce((sum, earlier) => sum + parseDecimal(earlier.qty), 0n)
    const { orderId, side, pending } = handle
    const execId = `${orderId}-p${index}`
    const lastQty = parseDecimal(piece.qty)
    const lastPrice = parseDecimal(piece.price)
    const syntheticCumQty = handle.pieces.reduce((sum, each) => sum + parseDecimal(each.qty), 0n)
    const at = { atMs: AT_MS, orderId, execId, lastPrice, fee: 0n, feeAsset: 'USD', venueTimeMs: AT_MS }
    this.events.push(checked({ type: 'order.fill_covered', ...at, lastQty, coveredQty: lastQty, venueCumQty: before + lastQty, syntheticCumQty }))
    // What src/kernel/synthetic-cover.ts emitTrueUp books for a fill covered whole (nothing of it booked as its own fill).
    const share = pendingShareOf(pending, lastQty)
    const real = fillAmounts(side, share.qty, lastPrice)
    this.events.push(checked({
      type: 'order.fill_trued_up', ...at, qty: share.qty, cash: real.cash, notional: real.notional, syntheticCash: share.cash, syntheticNotional: share.notional,
    }))
    pending.syntheticPendingQty -= share.qty
    pending.syntheticPendingCash -= share.cash
    pending.syntheticPendingNotional -= share.notional
  }

  /** Every real fill not yet arrived arrives, in order. */
  arriveAll(handles: readonly SyntheticHandle[]): void {
    for (const handle of handles) while (handle.arrived.size < handle.pieces.length) this.arrive(handle)
  }

  /** A new order accepted, in both logs; its id. */
  accept(side: Side, qty: string, price: string): string {
    const orderId = `o${++this.orders}`
    const reservation = side === 'buy' ? formatDecimal(mulUnits(parseDecimal(qty), parseDecimal(price), 'up') * 2n) : qty
    const event = accepted({ orderId, side, qty, price, reservation })
    this.events.push(event)
    this.reference.push(event)
    return orderId
  }
}

/** A ledger folding `events` in order (LSN 1, 2, …). */
export function ledgerOf(events: readonly DomainEvent[]): LedgerState {
  const ledger = initialLedger()
  events.forEach((event, index) => applyEvent(ledger, event, index + 1))
  return ledger
}

/** The script's BTC-USD position in `ledger`. */
export function btcPosition(ledger: LedgerState): Position {
  const position = ledger.positions.get(positionKey(ACCOUNT, 'sim', 'BTC-USD'))
  if (position === undefined) throw new Error('no BTC-USD position')
  return position
}
