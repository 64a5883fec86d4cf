/**
 * Seeded random races between egress and a model venue, through the kernel harness, for order-race-fuzz: limit orders
 * and OCO lists (some with a time-to-live), amends up and down (some below what has filled), user cancels and TTL
 * expiries, against a venue that fills what rests, applies a replace or a cancel when it reaches an open order and
 * refuses it otherwise, cancels or expires an order on its own now and then, and whose reports and answers arrive
 * late and in any order (an answer may be lost after the venue acted, or the call may never reach it; a report may
 * come twice or never; a sweep's read-back may be answered after news that is newer than it). The model venue is the truth: after every step egress books no more
 * than it filled, and once everything is delivered and every Unknown read back, egress holds each order as the venue
 * does (state, quantity, price, filled quantity), no OCO leg that executed has its sibling still open, and no order is
 * open past its time-to-live.
 */

import { formatDecimal, type Units } from '../../src/domain/decimal.ts'
import type { DomainEvent } from '../../src/domain/events/index.ts'
import type { Order } from '../../src/domain/orders.ts'
import { isTerminal } from '../../src/domain/states.ts'
import type { KernelCommand } from '../../src/kernel/index.ts'
import type { ExecutionReport, VenueOutcome, VenueTrade } from '../../src/venues/adapter.ts'
import { ACCOUNT, d, Harness, market, placeCommand } from './fixtures.ts'

type Rng = () => number

function rngOf(seed: number): Rng {
  let s = seed >>> 0
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0
    return s / 2 ** 32
  }
}

export interface VenueOrderModel {
  orderId: string
  clientIds: string[]
  side: 'buy' | 'sell'
  qty: Units
  price: Units
  cumQty: Units
  status: 'open' | 'filled' | 'canceled' | 'expired'
  trades: VenueTrade[]
}

type VenueOrderView = NonNullable<Extract<KernelCommand, { kind: 'reconcile_result' }>['venueOrder']>

type Answer = { orderId: string } & ({ action: 'place'; outcome: VenueOutcome<{ venueOrderId: string }> } | { action: 'cancel' | 'amend'; outcome: VenueOutcome<{ accepted: true }> })

/** How a call fares: answered, answer lost after the venue acted, lost before it reached the venue, throttled. */
type Fate = 'answered' | 'lost_after' | 'lost_before' | 'throttled'

export class OrderRaceDriver {
  readonly harness = Harness.funded()
  readonly trace: string[] = []
  readonly venue = new Map<string, VenueOrderModel>()
  readonly lists: string[][] = []
  private readonly reports: ExecutionReport[] = []
  private readonly answers: Answer[] = []
  /** Read-backs asked and not answered yet: the venue's view when asked. */
  private readonly readBacks: { orderId: string; askedAtMs: number; venueOrder: VenueOrderView | null; trades: VenueTrade[] }[] = []
  private readonly r: Rng
  private n = 0
  private draining = false

  constructor(seed: number) {
    this.r = rngOf(seed)
  }

  step(): void {
    this.harness.nowMs += Math.floor(this.r() * 1500)
    const x = this.r()
    const name =
      x < 0.1 ? this.place() : x < 0.15 ? this.list() : x < 0.4 ? this.work(this.fate()) : x < 0.5 ? this.deliverAnswer() : x < 0.62 ? this.deliverReport() : x < 0.72 ? this.venueFill() : x < 0.79 ? this.cancel() : x < 0.9 ? this.amend() : x < 0.94 ? this.expire() : x < 0.96 ? this.venueEnds() : x < 0.98 ? this.askReadBack() : this.answerReadBack()
    this.trace.push(name)
  }

  /** Delivers everything, then works (every call answered) and reads back until nothing is left to do. */
  drain(): void {
    this.draining = true
    for (let round = 0; round < 60; round++) {
      while (this.answers.length > 0) this.deliverAnswer()
      while (this.reports.length > 0) this.deliverReport()
      while (this.readBacks.length > 0) this.answerReadBack()
      this.harness.nowMs += 10_000
      for (const order of this.harness.state.orders.values()) {
        if (!isTerminal(order.status) && order.expiresAtMs !== null && order.expiresAtMs <= this.harness.nowMs) this.harness.run({ kind: 'ttl_expire', nowMs: this.harness.nowMs, orderId: order.orderId })
      }
      // The runtime's sweep reads back every order at the venue, now and then: what a lost report hid comes out.
      if (round % 2 === 1) for (const order of this.live()) if (order.status !== 'Sent' && order.status !== 'Enqueued') this.readBack(order.orderId)
      let worked = 0
      while (this.harness.next() !== null && worked < 200) {
        this.work('answered')
        worked++
        while (this.answers.length > 0) this.deliverAnswer()
        while (this.reports.length > 0) this.deliverReport()
      }
      if (round % 2 === 1 && worked === 0 && this.answers.length === 0 && this.reports.length === 0 && this.readBacks.length === 0) return
    }
  }

  private fate(): Fate {
    const y = this.r()
    return y < 0.7 ? 'answered' : y < 0.8 ? 'lost_after' : y < 0.9 ? 'lost_before' : 'throttled'
  }

  private market() {
    return market('50000', { observedAtMs: this.harness.nowMs })
  }

  private pick<T>(items: T[]): T | undefined {
    return items[Math.floor(this.r() * items.length)]
  }

  private qty(): string {
    return (0.1 + Math.floor(this.r() * 4) / 10).toFixed(1)
  }

  private place(): string {
    const side = this.r() < 0.5 ? 'buy' : 'sell'
    const price = side === 'buy' ? 49000 + Math.floor(this.r() * 900) : 51000 - Math.floor(this.r() * 900)
    const ttl = this.r() < 0.3 ? { ttl_ms: 4000 } : {}
    const decision = this.harness.place({ side, qty: this.qty(), price: String(price), client_order_id: `c${this.n++}`, ...ttl }, { market: this.market() })
    return `place ${side} @ ${price}: ${decision.reply.kind}${decision.reply.kind === 'accepted' ? ` ${decision.reply.orderId}` : ''}`
  }

  private list(): string {
    const ttl = this.r() < 0.4 ? { ttl_ms: 4000 } : {}
    const leg = (side: string, price: number) => ({ account: ACCOUNT, symbol: 'BTC-USD', side, type: 'limit', qty: this.qty(), price: String(price), ...ttl })
    const legs = [leg('sell', 50600 + Math.floor(this.r() * 400)), leg('sell', 49500 + Math.floor(this.r() * 400))]
    const h = this.harness
    const decision = h.run({ ...placeCommand({ nowMs: h.nowMs, market: this.market() }), kind: 'place_list', body: { type: 'oco', account: ACCOUNT, client_list_id: `l${this.n++}`, orders: legs } })
    const accepted = decision.events.filter((event) => event.type === 'order.accepted').map((event) => event.orderId)
    if (accepted.length === 2) this.lists.push(accepted)
    return `list: ${decision.reply.kind} ${accepted.join('+')}`
  }

  /** The next work item, sent, and reached at the venue as `fate` says; its answer is queued. */
  private work(fate: Fate): string {
    const h = this.harness
    const work = h.next()
    if (work === null) return 'no work'
    const { orderId } = work
    if (work.kind === 'reconcile') return this.readBack(orderId)
    const before = h.log.length
    h.send(orderId, work.kind)
    const sent = h.log.slice(before).find((event) => event.type === 'order.send_requested' || event.type === 'order.cancel_send_requested' || event.type === 'order.amend_send_requested')
    if (sent === undefined) return `send ${work.kind} ${orderId}: not sent`
    const reached = fate === 'answered' || fate === 'lost_after'
    const outcome = fate === 'throttled' ? ({ kind: 'retryable', reason: 'rate_limited', retryAfterMs: 200 } as const) : reached ? this.atVenue(sent) : null
    const answer = fate === 'answered' || fate === 'throttled' ? outcome : ({ kind: 'unknown', reason: 'timeout' } as const)
    this.answers.push({ orderId, action: work.kind, outcome: answer } as Answer)
    return `send ${work.kind} ${orderId} (${fate})`
  }

  /** What the venue does with a call that reaches it, and its answer. */
  private atVenue(sent: DomainEvent): VenueOutcome<{ venueOrderId: string }> | VenueOutcome<{ accepted: true }> {
    const h = this.harness
    const order = h.order(sent.type === 'order.send_requested' || sent.type === 'order.cancel_send_requested' || sent.type === 'order.amend_send_requested' ? sent.orderId : '')
    const base = { venue: 'sim', venueOrderId: `v-${order.orderId}`, account: ACCOUNT, symbol: order.symbol, side: order.side, venueTimeMs: h.nowMs }
    if (sent.type === 'order.send_requested') {
      if (this.venue.has(order.orderId)) return { kind: 'rejected', reason: 'duplicate_client_order_id' }
      this.venue.set(order.orderId, { orderId: order.orderId, clientIds: [sent.venueClientOrderId], side: order.side, qty: order.qty, price: order.price ?? 0n, cumQty: 0n, status: 'open', trades: [] })
      this.reports.push({ ...base, clientOrderId: sent.venueClientOrderId, cumQty: 0n, execId: `e${this.n++}`, kind: 'new' })
      return { kind: 'ok', value: { venueOrderId: `v-${order.orderId}` } }
    }
    const held = this.venue.get(order.orderId)
    if (held === undefined || !held.clientIds.includes(sent.type === 'order.cancel_send_requested' || sent.type === 'order.amend_send_requested' ? (sent.origClientOrderId ?? '') : '')) return { kind: 'rejected', reason: 'unknown_order' }
    const current = held.clientIds.at(-1) ?? ''
    if (sent.type === 'order.cancel_send_requested') {
      if (held.status !== 'open') {
        this.reports.push({ ...base, clientOrderId: sent.cancelClientOrderId, origClientOrderId: current, cumQty: held.cumQty, execId: `e${this.n++}`, kind: 'cancel_rejected', reason: 'too_late_to_cancel' })
        return { kind: 'rejected', reason: 'too_late_to_cancel' }
      }
      held.status = 'canceled'
      this.reports.push({ ...base, clientOrderId: sent.cancelClientOrderId, origClientOrderId: current, cumQty: held.cumQty, execId: `e${this.n++}`, kind: 'canceled' })
      return { kind: 'ok', value: { accepted: true } }
    }
    if (sent.type !== 'order.amend_send_requested') throw new Error(`unexpected ${sent.type}`)
    if (held.status !== 'open' || sent.qty <= held.cumQty) {
      const reason = held.status !== 'open' ? 'too_late_to_amend' : 'invalid_quantity'
      this.reports.push({ ...base, clientOrderId: sent.amendClientOrderId, origClientOrderId: current, cumQty: held.cumQty, execId: `e${this.n++}`, kind: 'cancel_rejected', reason })
      return { kind: 'rejected', reason }
    }
    held.qty = sent.qty
    held.price = sent.price ?? held.price
    held.clientIds.push(sent.amendClientOrderId)
    this.reports.push({ ...base, clientOrderId: sent.amendClientOrderId, origClientOrderId: current, cumQty: held.cumQty, execId: `e${this.n++}`, kind: 'replaced' })
    return { kind: 'ok', value: { accepted: true } }
  }

  private deliverAnswer(): string {
    const index = Math.floor(this.r() * this.answers.length)
    const [answer] = this.answers.splice(index, 1)
    if (answer === undefined) return 'no answer'
    const h = this.harness
    if (answer.action === 'place') h.placeResult(answer.orderId, answer.outcome)
    else if (answer.action === 'cancel') h.cancelResult(answer.orderId, answer.outcome)
    else h.amendResult(answer.orderId, answer.outcome)
    return `answer ${answer.action} ${answer.orderId}: ${answer.outcome.kind}`
  }

  /** A queued report, any of them: reports overtake each other and the answers. */
  private deliverReport(): string {
    const index = Math.floor(this.r() * this.reports.length)
    // Now and then a report comes twice (kept for a second delivery), or never (a lost fill is read back by its trades).
    const y = this.r()
    const [report] = y < 0.05 ? this.reports.slice(index, index + 1) : this.reports.splice(index, 1)
    if (report === undefined) return 'no report'
    if (y > 0.97 && !this.draining) return `report ${report.kind} ${report.clientOrderId} lost`
    this.harness.report(report)
    return `report ${report.kind} ${report.clientOrderId} cum ${formatDecimal(report.cumQty)}`
  }

  /** The venue fills part or all of what rests of an open order, at its limit, under its current id. */
  private venueFill(): string {
    const held = this.pick([...this.venue.values()].filter((item) => item.status === 'open'))
    if (held === undefined) return 'no fill'
    const left = held.qty - held.cumQty
    const half = (left / 2n / 1_000_000n) * 1_000_000n
    const qty = this.r() < 0.5 || half === 0n ? left : half
    held.cumQty += qty
    if (held.cumQty === held.qty) held.status = 'filled'
    const h = this.harness
    const clientOrderId = held.clientIds.at(-1) ?? ''
    const fee = ((qty * held.price) / 100_000_000n * 5n + 9_999n) / 10_000n
    const execId = `f${this.n++}`
    const trade: VenueTrade = { execId, clientOrderId, venueOrderId: `v-${held.orderId}`, account: ACCOUNT, symbol: 'BTC-USD', side: held.side, qty, price: held.price, fee, feeAsset: 'USD', liquidity: 'maker', venueTimeMs: h.nowMs }
    held.trades.push(trade)
    this.reports.push({ venue: 'sim', clientOrderId, venueOrderId: `v-${held.orderId}`, account: ACCOUNT, symbol: 'BTC-USD', side: held.side, cumQty: held.cumQty, lastQty: qty, lastPrice: held.price, fee, feeAsset: 'USD', venueTimeMs: h.nowMs, execId, kind: 'fill' })
    return `venue fill ${held.orderId} ${formatDecimal(qty)} (cum ${formatDecimal(held.cumQty)} of ${formatDecimal(held.qty)})`
  }

  private readBack(orderId: string): string {
    const h = this.harness
    const venueOrder = this.venueView(orderId)
    h.run({ kind: 'reconcile_result', nowMs: h.nowMs, askedAtMs: h.nowMs, orderId, venueOrder, trades: [...(this.venue.get(orderId)?.trades ?? [])] })
    return `read back ${orderId}: ${venueOrder?.status ?? 'not found'}`
  }

  private venueView(orderId: string): VenueOrderView | null {
    const held = this.venue.get(orderId)
    return held === undefined ? null : { clientOrderId: held.clientIds.at(-1) ?? '', venueOrderId: `v-${orderId}`, account: ACCOUNT, symbol: 'BTC-USD', side: held.side, qty: held.qty, price: held.price, cumQty: held.cumQty, status: held.status }
  }

  /** A sweep's read-back of any order egress holds live, asked now and answered later (news may land between). */
  private askReadBack(): string {
    const order = this.pick(this.live().filter((item) => item.status !== 'Sent' && item.status !== 'Enqueued'))
    if (order === undefined) return 'no read-back'
    this.readBacks.push({ orderId: order.orderId, askedAtMs: this.harness.nowMs, venueOrder: this.venueView(order.orderId), trades: [...(this.venue.get(order.orderId)?.trades ?? [])] })
    return `ask read-back ${order.orderId}`
  }

  private answerReadBack(): string {
    const [asked] = this.readBacks.splice(Math.floor(this.r() * this.readBacks.length), 1)
    if (asked === undefined) return 'no read-back answer'
    const h = this.harness
    h.run({ kind: 'reconcile_result', nowMs: h.nowMs, ...asked })
    return `read-back answer ${asked.orderId} (asked at ${asked.askedAtMs}): ${asked.venueOrder?.status ?? 'not found'}`
  }

  /** The venue ends an open order on its own: canceled (as a venue may) or expired. */
  private venueEnds(): string {
    const held = this.pick([...this.venue.values()].filter((item) => item.status === 'open'))
    if (held === undefined) return 'no venue end'
    const kind = this.r() < 0.5 ? ('canceled' as const) : ('expired' as const)
    held.status = kind === 'canceled' ? 'canceled' : 'expired'
    this.reports.push({ venue: 'sim', clientOrderId: held.clientIds.at(-1) ?? '', venueOrderId: `v-${held.orderId}`, account: ACCOUNT, symbol: 'BTC-USD', side: held.side, cumQty: held.cumQty, venueTimeMs: this.harness.nowMs, execId: `e${this.n++}`, kind })
    return `venue ${kind} ${held.orderId}`
  }

  private live(): Order[] {
    return [...this.harness.state.orders.values()].filter((order) => !isTerminal(order.status))
  }

  private cancel(): string {
    const order = this.pick(this.live())
    if (order === undefined) return 'no cancel'
    return `cancel ${order.orderId}: ${this.harness.cancel(order.orderId).reply.kind}`
  }

  /** Up, down, below what has filled, or a new price only. */
  private amend(): string {
    const order = this.pick(this.live().filter((item) => item.status === 'AckedOpen' || item.status === 'Partial'))
    if (order === undefined || order.price === null) return 'no amend'
    const y = this.r()
    const qty = y < 0.35 ? order.qty + d('0.2') : y < 0.7 ? order.qty - d('0.05') : y < 0.8 ? order.cumQty : null
    const price = this.r() < 0.5 ? undefined : formatDecimal(order.price + (order.side === 'buy' ? -d('20') : d('20')))
    const change = { ...(qty === null || qty <= 0n ? {} : { qty: formatDecimal(qty) }), ...(price === undefined ? {} : { price }) }
    if (change.qty === undefined && change.price === undefined) return 'no amend'
    const decision = this.harness.amend(order.orderId, change, { market: this.market() })
    return `amend ${order.orderId} to ${change.qty ?? 'same'} @ ${change.price ?? 'same'}: ${decision.reply.kind}`
  }

  private expire(): string {
    const order = this.pick(this.live().filter((item) => item.expiresAtMs !== null))
    if (order === undefined) return 'no expiry'
    this.harness.run({ kind: 'ttl_expire', nowMs: this.harness.nowMs, orderId: order.orderId })
    return `ttl expire ${order.orderId}`
  }
}
