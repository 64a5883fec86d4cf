/**
 * The kernel's seeded random traffic (specs/kernel/reservation-cover-driver.ts) with a venue behind it that keeps its
 * own trades: a trade is reported or lost; prices land anywhere within a few units of the limit (through it too) with
 * all eight places used; fees are paid in the quote, in the base or in a third asset, or rebated; read-backs list the
 * trades (reported ones again, under the same execution id, some twice) or none, when the order's venue cumulative
 * quantity then books a synthetic fill that a later report trues up.
 */

import { formatDecimal, type Units } from '../../src/domain/decimal.ts'
import type { Order } from '../../src/domain/orders.ts'
import { isTerminal } from '../../src/domain/states.ts'
import type { VenueTrade } from '../../src/venues/adapter.ts'
import type { KernelParams } from '../../src/domain/kernel-config.ts'
import { ACCOUNT, config, d, Harness, policy } from '../kernel/fixtures.ts'
import { ReservationCoverDriver } from '../kernel/reservation-cover-driver.ts'

type Rng = () => number

function rngOf(seed: number): Rng {
  let s = (seed * 2654435761) >>> 0
  return () => {
    s = (s * 1103515245 + 12345) >>> 0
    return s / 2 ** 32
  }
}

interface VenueSide {
  trades: (VenueTrade & { reported: boolean })[]
  cumQty: Units
}

export class VenueTrafficDriver {
  readonly kernel: ReservationCoverDriver
  readonly trace: string[]
  private readonly r: Rng
  private readonly venue = new Map<string, VenueSide>()
  private n = 0

  /** `params`: the kernel's configuration (a short retention retires ended orders during the run). */
  constructor(seed: number, params: Partial<KernelParams> = {}) {
    this.kernel = new ReservationCoverDriver(seed)
    const harness = Harness.funded({ config: config({ policies: [policy({ marketOrderInstruments: ['sim:BTC-USD'] })], params }) })
    Object.assign(this.kernel, { harness })
    this.trace = this.kernel.trace
    this.r = rngOf(seed)
  }

  step(): void {
    const x = this.r()
    if (x < 0.45) {
      this.kernel.step()
      return
    }
    this.trace.push(x < 0.7 ? this.trade() : x < 0.85 ? this.readBack() : this.reportLost())
  }

  private get harness() {
    return this.kernel.harness
  }

  private sideOf(order: Order): VenueSide {
    let side = this.venue.get(order.orderId)
    if (side === undefined) {
      side = { trades: [], cumQty: order.cumQty }
      this.venue.set(order.orderId, side)
    }
    // The kernel driver's own fills (its reports are the venue's too): the venue's quantity is at least the order's.
    if (side.cumQty < order.cumQty) side.cumQty = order.cumQty
    return side
  }

  private pick<T>(items: T[]): T | undefined {
    return items[Math.floor(this.r() * items.length)]
  }

  /** The venue fills part of a live order it holds; the report comes, or is lost. */
  private trade(): string {
    const live = [...this.harness.state.orders.values()].filter((order) => order.venueOrderId !== null && !isTerminal(order.status) && this.sideOf(order).cumQty < order.qty)
    const order = this.pick(live)
    if (order === undefined) return 'no trade'
    const side = this.sideOf(order)
    const left = order.qty - side.cumQty
    const qty = this.r() < 0.4 ? left : ((left * BigInt(1 + Math.floor(this.r() * 9))) / 10n / 1_000n) * 1_000n || left
    const limit = order.price ?? order.protectionPrice ?? d('50000')
    // Within a few units of the limit, at any of the eight places; one in ten through it.
    const offset = BigInt(Math.floor(this.r() * 300_000_000)) + 1n
    const through = this.r() < 0.1
    const price = (order.side === 'buy') !== through ? limit - offset : limit + offset
    const feeKind = this.r()
    const notional = (qty * price) / 100_000_000n
    const feeAsset = feeKind < 0.6 ? 'USD' : feeKind < 0.75 ? 'BTC' : feeKind < 0.85 ? 'BNB' : 'USD'
    const fee = feeKind < 0.6 ? (notional * 5n + 9_999n) / 10_000n : feeKind < 0.75 ? (qty * 5n) / 10_000n : feeKind < 0.85 ? 1_234n : -((notional * 2n) / 10_000n)
    side.cumQty += qty
    const execId = `t${this.n++}`
    const reported = this.r() < 0.6
    side.trades.push({ execId, clientOrderId: order.clientIdChain.at(-1) ?? '', venueOrderId: order.venueOrderId ?? '', account: ACCOUNT, symbol: order.symbol, side: order.side, qty, price, fee, feeAsset, liquidity: 'taker', venueTimeMs: this.harness.nowMs, reported })
    if (reported) this.report(order, side.trades.at(-1) as VenueTrade, side.cumQty)
    return `trade ${order.orderId} ${formatDecimal(qty)} @ ${formatDecimal(price)} fee ${formatDecimal(fee)} ${feeAsset}${reported ? '' : ' (lost)'}`
  }

  private report(order: Order, trade: VenueTrade, cumQty: Units): void {
    this.harness.report({ venue: 'sim', clientOrderId: trade.clientOrderId, venueOrderId: trade.venueOrderId, account: ACCOUNT, symbol: order.symbol, side: order.side, cumQty, lastQty: trade.qty, lastPrice: trade.price, fee: trade.fee, feeAsset: trade.feeAsset, venueTimeMs: trade.venueTimeMs, execId: trade.execId, kind: 'fill' })
  }

  /** A lost report arrives late (a true-up when a read-back booked its quantity synthetic). */
  private reportLost(): string {
    const candidates = [...this.venue.entries()].filter(([, side]) => side.trades.some((trade) => !trade.reported))
    const found = this.pick(candidates)
    if (found === undefined) return 'no lost report'
    const [orderId, side] = found
    const order = this.harness.state.orders.get(orderId)
    if (order === undefined) return 'lost report of a retired order'
    let cum = 0n
    for (const trade of side.trades) {
      cum += trade.qty
      if (trade.reported) continue
      trade.reported = true
      this.report(order, trade, cum)
      // Now and then the same report twice.
      if (this.r() < 0.2) this.report(order, trade, cum)
      return `late report ${trade.execId} of ${orderId}`
    }
    return 'no lost report'
  }

  /** A read-back of an order: the venue's cumulative quantity, with its trades (some listed twice) or with none. */
  private readBack(): string {
    const order = this.pick([...this.harness.state.orders.values()].filter((item) => item.venueOrderId !== null && item.status !== 'Sent' && item.status !== 'Enqueued'))
    if (order === undefined) return 'no read-back'
    const side = this.sideOf(order)
    const withTrades = this.r() < 0.3
    const trades = withTrades ? side.trades.flatMap((trade) => (this.r() < 0.2 ? [trade, trade] : [trade])).map(({ reported: _, ...trade }) => trade) : []
    const filled = side.cumQty >= order.qty
    const status = filled ? ('filled' as const) : order.cancelWanted ? ('canceled' as const) : ('open' as const)
    const venueOrder = { clientOrderId: order.clientIdChain.at(-1) ?? '', venueOrderId: order.venueOrderId ?? '', account: ACCOUNT, symbol: order.symbol, side: order.side, qty: order.qty, ...(order.price === null ? {} : { price: order.price }), cumQty: side.cumQty, status }
    this.harness.nowMs += 6_000
    this.harness.run({ kind: 'reconcile_result', nowMs: this.harness.nowMs, orderId: order.orderId, venueOrder, trades })
    return `read back ${order.orderId} ${status} cum ${formatDecimal(side.cumQty)}${withTrades ? ` with ${trades.length} trades` : ''}`
  }
}
