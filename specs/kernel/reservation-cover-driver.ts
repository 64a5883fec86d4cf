/**
 * Seeded random traffic on one account and BTC-USD, through the kernel harness, for reservation-cover-fuzz: places
 * (limit, reduce-only, market, with and without a time-to-live), OCO lists, sends with every place, cancel and amend
 * answer, fills within the limit (at most the reserved taker fee), venue cancels, read-backs, user cancels, amends up
 * and down, flattens, resends, kill switches and TTL expiries. No fill costs more than what its order holds for it,
 * so what open orders hold never passes what the account has: reserved ≤ balance for every asset, at every step.
 */

import { formatDecimal } from '../../src/domain/decimal.ts'
import type { Order } from '../../src/domain/orders.ts'
import { isTerminal } from '../../src/domain/states.ts'
import { ACCOUNT, admin, config, d, Harness, market, ops, placeCommand, policy } from './fixtures.ts'

type Rng = () => number

function rngOf(seed: number): Rng {
  let s = seed >>> 0
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0
    return s / 2 ** 32
  }
}

export class ReservationCoverDriver {
  readonly harness = Harness.funded({ config: config({ policies: [policy({ marketOrderInstruments: ['sim:BTC-USD'] })] }) })
  readonly trace: string[] = []
  private readonly r: Rng
  private n = 0

  constructor(seed: number) {
    this.r = rngOf(seed)
  }

  /** One random step; its name goes on the trace. */
  step(): void {
    const h = this.harness
    h.nowMs += Math.floor(this.r() * 3000)
    const x = this.r()
    const name =
      x < 0.2 ? this.place() : x < 0.45 ? this.work() : x < 0.6 ? this.fill() : x < 0.7 ? this.cancel() : x < 0.8 ? this.amend() : x < 0.84 ? this.flatten() : x < 0.9 ? this.resend() : x < 0.93 ? this.killSwitch() : x < 0.96 ? this.list() : x < 0.98 ? this.marketOrder() : this.expire()
    this.trace.push(name)
  }

  /** The first asset whose reservations pass its balance, as text; null when none does. */
  overcommitted(): string | null {
    for (const asset of ['USD', 'BTC']) {
      const reserved = this.harness.reserved(asset)
      const balance = this.harness.balance(asset)
      if (reserved > balance) return `${asset} reserved ${formatDecimal(reserved)} > balance ${formatDecimal(balance)}`
    }
    return null
  }

  private market() {
    return market('50000', { observedAtMs: this.harness.nowMs })
  }

  private pick<T>(items: T[]): T | undefined {
    return items[Math.floor(this.r() * items.length)]
  }

  private orders(): Order[] {
    return [...this.harness.state.orders.values()]
  }

  private place(): string {
    const side = this.r() < 0.5 ? 'buy' : 'sell'
    const price = side === 'buy' ? 49000 + Math.floor(this.r() * 900) : 51000 - Math.floor(this.r() * 900)
    const ttl = this.r() < 0.2 ? { ttl_ms: 3000 } : {}
    const reduceOnly = side === 'sell' && this.r() < 0.3
    const qty = (0.1 + Math.floor(this.r() * 9) / 10).toFixed(1)
    const decision = this.harness.place({ side, ...ttl, qty, price: String(price), client_order_id: `c${this.n++}`, reduce_only: reduceOnly }, { market: this.market() })
    return `place ${side} ${qty} @ ${price}: ${decision.reply.kind}`
  }

  private marketOrder(): string {
    const side = this.r() < 0.5 ? 'buy' : 'sell'
    const decision = this.harness.place({ side, type: 'market', price: undefined, tif: 'IOC', qty: '0.2', client_order_id: `m${this.n++}` }, { market: this.market() })
    return `market ${side}: ${decision.reply.kind}`
  }

  private list(): string {
    const side = this.r() < 0.5 ? 'buy' : 'sell'
    const ttl = this.r() < 0.5 ? { ttl_ms: 2000 } : {}
    const leg = (legSide: string, price: number) => ({ account: ACCOUNT, symbol: 'BTC-USD', side: legSide, type: 'limit', qty: '0.3', price: String(price), ...ttl })
    const legs = side === 'sell' ? [leg('sell', 50500 + Math.floor(this.r() * 400)), leg('sell', 49500 + Math.floor(this.r() * 400))] : [leg('buy', 49500 + Math.floor(this.r() * 400)), leg('sell', 50600 + Math.floor(this.r() * 400))]
    const h = this.harness
    const decision = h.run({ ...placeCommand({ nowMs: h.nowMs, market: this.market() }), kind: 'place_list', body: { type: 'oco', account: ACCOUNT, client_list_id: `l${this.n++}`, orders: legs } })
    return `list ${side}: ${decision.reply.kind}`
  }

  /** The next work item, sent and answered. */
  private work(): string {
    const h = this.harness
    const work = h.next()
    if (work === null) return 'no work'
    const order = h.order(work.orderId)
    const y = this.r()
    if (work.kind === 'place') {
      h.send(work.orderId)
      if (h.order(work.orderId).status !== 'Sent') return `send place ${order.orderId}: not sent`
      const outcome =
        y < 0.6 ? ({ kind: 'ok', value: { venueOrderId: `v-${order.orderId}` } } as const) : y < 0.8 ? ({ kind: 'retryable', reason: 'rate_limited', retryAfterMs: 500 } as const) : y < 0.9 ? ({ kind: 'unknown', reason: 'timeout' } as const) : ({ kind: 'rejected', reason: 'no' } as const)
      h.placeResult(work.orderId, outcome)
      return `send place ${order.orderId}: ${outcome.kind}`
    }
    if (work.kind === 'cancel') {
      h.send(work.orderId, 'cancel')
      if (h.order(work.orderId).status !== 'CancelPending') return `send cancel ${order.orderId}: not sent`
      h.cancelResult(work.orderId, y < 0.7 ? { kind: 'ok', value: { accepted: true } } : y < 0.85 ? { kind: 'retryable', reason: 'rate_limited', retryAfterMs: 100 } : { kind: 'unknown', reason: 'timeout' })
      if (y < 0.7 && this.r() < 0.8) this.venueCanceled(h.order(work.orderId))
      return `send cancel ${order.orderId}`
    }
    if (work.kind === 'amend') {
      h.send(work.orderId, 'amend')
      if (h.order(work.orderId).amend?.stage !== 'sent') return `send amend ${order.orderId}: not sent`
      h.amendResult(work.orderId, y < 0.6 ? { kind: 'ok', value: { accepted: true } } : y < 0.8 ? { kind: 'retryable', reason: 'rate_limited', retryAfterMs: 100 } : y < 0.9 ? { kind: 'rejected', reason: 'no' } : { kind: 'unknown', reason: 'timeout' })
      return `send amend ${order.orderId}`
    }
    // A read-back: an order the venue never acknowledged and nothing filled is not found; any other is open (or
    // canceled, when its cancel is wanted) as egress holds it.
    const known = order.venueOrderId !== null || order.cumQty > 0n
    const status = order.cancelWanted && y < 0.5 ? ('canceled' as const) : ('open' as const)
    const venueOrder = known ? { clientOrderId: order.clientIdChain.at(-1) ?? '', venueOrderId: order.venueOrderId ?? `v-${order.orderId}`, account: ACCOUNT, symbol: order.symbol, side: order.side, qty: order.qty, ...(order.price === null ? {} : { price: order.price }), cumQty: order.cumQty, status } : null
    h.nowMs += 6_000
    h.run({ kind: 'reconcile_result', nowMs: h.nowMs, orderId: work.orderId, venueOrder, trades: [] })
    return `read back ${order.orderId}: ${venueOrder?.status ?? 'not found'}`
  }

  private venueCanceled(order: Order): void {
    const h = this.harness
    h.report({ venue: 'sim', clientOrderId: order.venueClientOrderId, venueOrderId: `v-${order.orderId}`, account: ACCOUNT, symbol: order.symbol, side: order.side, cumQty: order.cumQty, venueTimeMs: h.nowMs, execId: `x${this.n++}`, kind: 'canceled' })
  }

  /** A fill of an order at the venue, a little better than its limit, with a fee within the reserved allowance. */
  private fill(): string {
    const live = this.orders().filter((order) => order.venueOrderId !== null && !isTerminal(order.status) && order.status !== 'Unknown' && order.cumQty < order.qty)
    const order = this.pick(live)
    if (order === undefined) return 'no fill'
    const left = order.qty - order.cumQty
    const half = (left / 2n / 10_000n) * 10_000n
    const qty = this.r() < 0.5 || half === 0n ? left : half
    const limit = order.price ?? order.protectionPrice ?? d('50000')
    const price = order.side === 'buy' ? limit - d('3') : limit + d('3')
    const fee = ((qty * price) / 100_000_000n * 5n + 9_999n) / 10_000n
    const h = this.harness
    h.report({ venue: 'sim', clientOrderId: order.clientIdChain.at(-1) ?? '', venueOrderId: order.venueOrderId ?? '', account: ACCOUNT, symbol: order.symbol, side: order.side, cumQty: order.cumQty + qty, lastQty: qty, lastPrice: price, fee, venueTimeMs: h.nowMs, execId: `f${this.n++}`, kind: 'fill' })
    return `fill ${order.orderId} ${formatDecimal(qty)}`
  }

  private cancel(): string {
    const order = this.pick(this.orders().filter((item) => !isTerminal(item.status)))
    if (order === undefined) return 'no cancel'
    this.harness.cancel(order.orderId)
    return `cancel ${order.orderId}`
  }

  private amend(): string {
    const order = this.pick(this.orders().filter((item) => (item.status === 'AckedOpen' || item.status === 'Partial') && item.price !== null))
    if (order === undefined || order.price === null) return 'no amend'
    const qty = (Number(formatDecimal(order.qty)) + (this.r() < 0.5 ? 0.3 : -0.05)).toFixed(2)
    const price = this.r() < 0.5 ? undefined : String(Number(formatDecimal(order.price)) + (order.side === 'buy' ? 50 : -50))
    const decision = this.harness.amend(order.orderId, { qty, ...(price === undefined ? {} : { price }) }, { market: this.market() })
    return `amend ${order.orderId} to ${qty} @ ${price ?? 'same'}: ${decision.reply.kind}`
  }

  private flatten(): string {
    const h = this.harness
    h.run({ kind: 'flatten', nowMs: h.nowMs, principal: ops, accountId: ACCOUNT, flattenId: `fl${this.n++}`, markets: { 'sim:BTC-USD': this.market() } })
    return 'flatten'
  }

  private resend(): string {
    const order = this.pick(this.orders().filter((item) => item.status === 'Failed'))
    if (order === undefined) return 'no resend'
    const decision = this.harness.run({ kind: 'resend', nowMs: this.harness.nowMs, principal: admin, orderId: order.orderId, market: this.market() })
    return `resend ${order.orderId}: ${decision.reply.kind}`
  }

  private killSwitch(): string {
    const action = this.pick(['HALT', 'CANCEL_ONLY', 'RESUME', 'RESUME'] as const) ?? 'RESUME'
    this.harness.run({ kind: 'kill_switch', nowMs: this.harness.nowMs, principal: ops, action, note: '' })
    return action
  }

  private expire(): string {
    const order = this.pick(this.orders().filter((item) => !isTerminal(item.status) && item.expiresAtMs !== null))
    if (order === undefined) return 'no expiry'
    this.harness.run({ kind: 'ttl_expire', nowMs: this.harness.nowMs, orderId: order.orderId })
    return `expire ${order.orderId}`
  }
}

