/**
 * The own-quotes index (src/kernel/own-quotes.ts) is derived from the orders and kept in step by apply. These specs
 * drive a kernel through seeded random traffic of two accounts (one refusing self-trades, one allowing them) on two
 * instruments — limit and market places on both sides around one price (many cross the account's own: refused, or
 * open together), OCO lists, amends up and down (applied by the venue's ok or a report under the amend's id,
 * rejected, throttled, unknown), venue answers, reports (fills, partial and whole, cancels, expiries, news for ended
 * orders that revives them), reconcile answers (not found, open, canceled, filled with no trades: a synthetic fill)
 * that move Unknown or Failed orders, resends, TTL expiries, flattens, kill switches, and retirement under a small
 * kept bound and hard cap — and after every step compare every side the index holds with a scan of all the orders
 * (the order's most aggressive price: its limit, an amend asked or at the venue, a market order first). Every few
 * steps the index of a clone, of a snapshot restored and of a replay from genesis must hold the same.
 */

import { describe, expect, test } from 'bun:test'
import type { Policy } from '../../src/domain/accounts.ts'
import { formatDecimal, parseDecimal, type Units } from '../../src/domain/decimal.ts'
import type { Order } from '../../src/domain/orders.ts'
import { isTerminal } from '../../src/domain/states.ts'
import { applyInPlace, cloneState, initialState, type Decision, type KernelCommand, type KernelState } from '../../src/kernel/index.ts'
import { nearestOwnOpposite, ownQuoteSides } from '../../src/kernel/own-quotes.ts'
import { kernelStateBytes, kernelStateFromBytes } from '../../src/runtime/snapshot/state-codec.ts'
import type { VenueOutcome } from '../../src/venues/adapter.ts'
import { prng } from '../wal/support.ts'
import { ACCOUNT, admin, body, config, d, Harness, market, ops, paperFacts, placeCommand, policy, report } from './fixtures.ts'

const OTHER = 'acct-2'
const ACCOUNTS = [ACCOUNT, OTHER] as const
const both = { id: 'alice', roles: ['trader' as const], accounts: [ACCOUNT, OTHER], liveAllowed: true }
const LEGS = [
  { symbol: 'BTC-USD', mid: 50_000, spread: 300, qty: '0.001' },
  { symbol: 'ETH-USD', mid: 3_000, spread: 20, qty: '0.01' },
] as const

/** Every open order's quote by a scan of all the orders, sides keyed and ordered as the index's (see own-quotes.ts). */
function scanSides(state: KernelState): Map<string, string[]> {
  const sides = new Map<string, { orderId: string; price: Units | null; buy: boolean }[]>()
  for (const order of state.orders.values()) {
    if (isTerminal(order.status)) continue
    const key = `${order.accountId} ${order.venue}:${order.symbol} ${order.side}`
    const list = sides.get(key) ?? []
    list.push({ orderId: order.orderId, price: quoted(order), buy: order.side === 'buy' })
    sides.set(key, list)
  }
  const sorted = new Map<string, string[]>()
  for (const [key, list] of sides) {
    list.sort((a, b) => {
      if (a.price !== b.price) {
        if (a.price === null) return -1
        if (b.price === null) return 1
        return (a.buy ? a.price > b.price : a.price < b.price) ? -1 : 1
      }
      return a.orderId < b.orderId ? -1 : 1
    })
    sorted.set(key, list.map(quoteText))
  }
  return sorted
}

function quoted(order: Order): Units | null {
  if (order.price === null) return null
  const amend = order.amend
  if (amend === null || amend.stage === 'failed' || amend.price === null) return order.price
  const aggressive = order.side === 'buy' ? amend.price > order.price : amend.price < order.price
  return aggressive ? amend.price : order.price
}

function quoteText(quote: { orderId: string; price: Units | null }): string {
  return `${quote.orderId}@${quote.price === null ? 'market' : formatDecimal(quote.price)}`
}

/** The index's sides, built first if nothing was decided on the state yet (a clone, a restore, a replay). */
function indexSides(state: KernelState): Map<string, string[]> {
  nearestOwnOpposite(state, { accountId: ACCOUNT, instrumentKey: 'sim:BTC-USD', side: 'buy' })
  const sides = ownQuoteSides(state)
  if (sides === null) throw new Error('no index after a decision')
  return new Map([...sides].map(([key, quotes]) => [key, quotes.map(quoteText)]))
}

function sorted(sides: Map<string, string[]>): [string, string[]][] {
  return [...sides].sort(([a], [b]) => (a < b ? -1 : 1))
}

class Driver {
  readonly harness: Harness
  readonly rand: () => number
  readonly seen = { stpRefused: 0, amendsApplied: 0, amendsFailed: 0, synthetic: 0, revived: 0, retired: 0, ttlEnded: 0, filled: 0, resent: 0, lists: 0, flattens: 0, markets: 0 }
  private key = 0
  /** Steps until a kill switch engaged is lifted. */
  private resumeIn = 0

  constructor(seed: number) {
    this.rand = prng(seed)
    // The second account allows self-trades: its crossing orders are open together, in the index like any.
    const policies: Policy[] = ACCOUNTS.map((accountId) =>
      policy({ accountId, maxOpenOrders: 100_000, marketOrderInstruments: ['sim:BTC-USD', 'sim:ETH-USD'], selfTrade: accountId === OTHER ? 'allow' : 'reject' }),
    )
    // Retirement within reach: a few ended orders kept, a short grace and a cap just above.
    const params = { terminalOrdersKeptMax: 6, terminalOrdersHeldMax: 12, terminalOrderRetireAfterMs: 2_000, reconcileGraceMs: 100, lane2DepthMax: 100_000, accountQueuedMax: 100_000 }
    // maxQty past what an account holds: a flatten closes each holding with one order, as the traffic was tuned with
    // (above maxQty it takes several, kernel/flatten-close-sizes.test.ts, which thin the random picks).
    const base = config({ policies, params })
    const instruments = base.instruments.map((instrument) => ({ ...instrument, maxQty: d('1000000') }))
    this.harness = Harness.funded({ config: { ...base, instruments } })
    for (const accountId of ACCOUNTS) {
      for (const [asset, amount] of [['USD', '100000000'], ['BTC', '1000'], ['ETH', '10000']] as const) {
        this.harness.run({ kind: 'fund', nowMs: this.harness.nowMs, principalId: 'config', accountId, asset, amount: d(amount), reference: 'spec' })
      }
    }
  }

  int(bound: number): number {
    return Math.floor(this.rand() * bound)
  }

  pick<T>(items: readonly T[]): T | undefined {
    return items[this.int(items.length)]
  }

  run(command: KernelCommand): Decision {
    const before = this.harness.state.orders.size
    const terminalBefore = new Set([...this.harness.state.orders.values()].filter((order) => isTerminal(order.status)).map((order) => order.orderId))
    const decision = this.harness.run(command)
    if (decision.reply.kind === 'rejected' && decision.reply.reason === 'SELF_TRADE_PREVENTED') this.seen.stpRefused++
    if (decision.reply.kind === 'list_rejected' && decision.reply.reason === 'SELF_TRADE_PREVENTED') this.seen.stpRefused++
    for (const event of decision.events) {
      if (event.type === 'order.amended') this.seen.amendsApplied++
      if (event.type === 'order.amend_failed') this.seen.amendsFailed++
      if (event.type === 'order.canceled' && event.reason === 'TTL_EXPIRED') this.seen.ttlEnded++
      if (event.type === 'order.fill') this.seen.filled++
      if (event.type === 'order.fill' && event.synthetic) this.seen.synthetic++
      if (event.type === 'order.resend_requested') this.seen.resent++
      const orderId = 'orderId' in event ? event.orderId : null
      if (orderId !== null && terminalBefore.has(orderId)) {
        const order = this.harness.state.orders.get(orderId)
        if (order !== undefined && !isTerminal(order.status)) this.seen.revived++
      }
    }
    const accepted = decision.events.filter((event) => event.type === 'order.accepted').length
    if (this.harness.state.orders.size < before + accepted) this.seen.retired += before + accepted - this.harness.state.orders.size
    return decision
  }

  market(leg: (typeof LEGS)[number]): ReturnType<typeof market> {
    return market(String(leg.mid), { observedAtMs: this.harness.nowMs })
  }

  /** A buy mostly below the mid, a sell mostly above, overlapping near it: some cross the account's own. */
  price(leg: (typeof LEGS)[number], side: string): string {
    const offset = this.int(leg.spread + 1) - Math.floor(leg.spread / 6)
    return String(side === 'buy' ? leg.mid - offset : leg.mid + offset)
  }

  orderBody(leg: (typeof LEGS)[number], accountId: string): Record<string, unknown> {
    const side = this.rand() < 0.5 ? 'buy' : 'sell'
    const marketOrder = this.rand() < 0.05
    if (marketOrder) this.seen.markets++
    const ttl = this.rand() < 0.15 ? { ttl_ms: 500 + this.int(3_000) } : {}
    return { account: accountId, symbol: leg.symbol, side, qty: leg.qty, client_order_id: `k${this.key++}`, ...(marketOrder ? { type: 'market', price: undefined, tif: 'IOC' } : { price: this.price(leg, side) }), ...ttl }
  }

  step(): void {
    if (this.resumeIn > 0 && --this.resumeIn === 0) this.run({ kind: 'kill_switch', nowMs: this.harness.nowMs, principal: ops, action: 'RESUME', note: 'spec' })
    const roll = this.rand()
    if (roll < 0.24) this.place()
    else if (roll < 0.27) this.placeList()
    else if (roll < 0.45) this.sendSome()
    else if (roll < 0.6) this.answer()
    else if (roll < 0.7) this.venueReport()
    else if (roll < 0.74) this.cancel()
    else if (roll < 0.83) this.amend()
    else if (roll < 0.87) this.reconcile()
    else if (roll < 0.9) this.resend()
    else if (roll < 0.93) this.expire()
    else if (roll < 0.935) this.flatten()
    else if (roll < 0.945) this.killSwitch()
    else this.harness.nowMs += this.int(1_500)
  }

  place(): void {
    const leg = this.pick(LEGS) ?? LEGS[0]
    const accountId = this.pick(ACCOUNTS) ?? ACCOUNT
    this.run(placeCommand({ nowMs: this.harness.nowMs, principal: both, body: body(this.orderBody(leg, accountId)), market: this.market(leg) }))
  }

  placeList(): void {
    const leg = this.pick(LEGS) ?? LEGS[0]
    const accountId = this.pick(ACCOUNTS) ?? ACCOUNT
    const legs = [0, 1].map(() => {
      const item = this.orderBody(leg, accountId)
      return { ...item, type: 'limit', tif: undefined, price: this.price(leg, String(item.side)), client_order_id: undefined, ttl_ms: undefined }
    })
    const decision = this.run({
      kind: 'place_list',
      nowMs: this.harness.nowMs,
      principal: both,
      idempotencyKey: null,
      body: { type: 'oco', account: accountId, client_list_id: `l${this.key++}`, orders: legs.map((item) => body({ ...item, client_order_id: undefined })) },
      market: this.market(leg),
      live: { credentialPresent: true, environmentLive: true, haLeader: true },
      configDigest: 'cfg-1',
      buildCommit: 'test',
    })
    if (decision.reply.kind === 'list_accepted') this.seen.lists++
  }

  /** What the executor does: pick queued work and start it. */
  sendSome(): void {
    for (let picks = 1 + this.int(4); picks > 0; picks--) {
      const item = this.harness.next()
      if (item === null) return
      if (item.kind === 'reconcile') this.reconcileOne(item.orderId)
      else this.run({ kind: 'send', nowMs: this.harness.nowMs, orderId: item.orderId, action: item.kind, facts: paperFacts })
    }
  }

  answer(): void {
    const call = this.pick([...this.harness.state.inFlight.values()])
    if (call === undefined) return
    const roll = this.rand()
    const nowMs = this.harness.nowMs
    const outcome: VenueOutcome<{ venueOrderId: string }> =
      roll < 0.6
        ? { kind: 'ok', value: { venueOrderId: `v-${call.orderId}` } }
        : roll < 0.72
          ? { kind: 'retryable', reason: 'throttled', retryAfterMs: this.int(1_000) }
          : roll < 0.86
            ? { kind: 'unknown', reason: 'timeout' }
            : { kind: 'rejected', reason: 'no' }
    const ack: VenueOutcome<{ accepted: true }> = outcome.kind === 'ok' ? { kind: 'ok', value: { accepted: true } } : outcome
    if (call.action === 'place') this.run({ kind: 'place_result', nowMs, orderId: call.orderId, outcome })
    else if (call.action === 'cancel') this.run({ kind: 'cancel_result', nowMs, orderId: call.orderId, outcome: ack })
    else this.run({ kind: 'amend_result', nowMs, orderId: call.orderId, outcome: ack })
  }

  /** A report about a random order the venue may know (sent before), ended ones included: news that may revive it. */
  venueReport(): void {
    const order = this.pick([...this.harness.state.orders.values()].filter((candidate) => candidate.sendAttempts > 0))
    if (order === undefined) return
    const leg = LEGS.find((candidate) => candidate.symbol === order.symbol) ?? LEGS[0]
    const execId = `x${this.key++}`
    const venueOrderId = order.venueOrderId ?? `v-${order.orderId}`
    const roll = this.rand()
    const amendId = order.amend?.clientOrderId
    if (roll < 0.45 && order.cumQty < order.qty) {
      const rest = order.qty - order.cumQty
      const lastQty = this.rand() < 0.5 ? rest : rest / 2n > 0n ? rest / 2n : rest
      const lastPrice = order.price ?? order.protectionPrice ?? parseDecimal(String(leg.mid))
      this.run({ kind: 'venue_report', nowMs: this.harness.nowMs, report: report(order, { execId, kind: 'fill', venueOrderId, lastQty, lastPrice, fee: 0n, feeAsset: 'USD', cumQty: order.cumQty + lastQty }) })
    } else if (roll < 0.6 && amendId !== undefined) {
      this.run({ kind: 'venue_report', nowMs: this.harness.nowMs, report: report(order, { execId, kind: 'replaced', clientOrderId: amendId, origClientOrderId: order.venueClientOrderId, venueOrderId, cumQty: order.cumQty }) })
    } else if (roll < 0.75) {
      this.run({ kind: 'venue_report', nowMs: this.harness.nowMs, report: report(order, { execId, kind: 'new', venueOrderId, cumQty: order.cumQty }) })
    } else {
      const kind = this.rand() < 0.6 ? 'canceled' : 'expired'
      this.run({ kind: 'venue_report', nowMs: this.harness.nowMs, report: report(order, { execId, kind, venueOrderId, cumQty: order.cumQty }) })
    }
  }

  randomOrder(): Order | undefined {
    return this.pick([...this.harness.state.orders.values()])
  }

  cancel(): void {
    const order = this.randomOrder()
    if (order !== undefined) this.run({ kind: 'cancel', nowMs: this.harness.nowMs, principal: both, orderId: order.orderId, reason: 'USER_CANCEL' })
  }

  /** A new price up or down (some cross the account's own other side and are refused), sometimes a new quantity. */
  amend(): void {
    const amendable = (candidate: Order): boolean => (candidate.status === 'AckedOpen' || candidate.status === 'Partial') && candidate.price !== null
    const order = this.pick([...this.harness.state.orders.values()].filter(amendable))
    if (order === undefined) return
    const leg = LEGS.find((candidate) => candidate.symbol === order.symbol) ?? LEGS[0]
    const qty = this.rand() < 0.3 ? formatDecimal(order.qty * 2n) : null
    this.run({
      kind: 'amend',
      nowMs: this.harness.nowMs,
      principal: both,
      orderId: order.orderId,
      qty: qty === null ? null : d(qty),
      price: this.rand() < 0.85 ? d(this.price(leg, order.side)) : null,
      market: this.market(leg),
      live: { credentialPresent: true, environmentLive: true, haLeader: true },
      configDigest: 'cfg-1',
      buildCommit: 'test',
    })
  }

  reconcile(): void {
    const order = this.pick([...this.harness.state.orders.values()].filter((candidate) => candidate.status === 'Unknown' || candidate.status === 'Failed' || candidate.sendAttempts > 0))
    if (order !== undefined) this.reconcileOne(order.orderId)
  }

  /** The venue's answer: not found, open (at the amend's price when one is pending, half the time), canceled or filled. */
  reconcileOne(orderId: string): void {
    const order = this.harness.state.orders.get(orderId)
    if (order === undefined) return
    const roll = this.rand()
    const amended = order.amend !== null && this.rand() < 0.5
    const base = { clientOrderId: amended ? (order.amend?.clientOrderId ?? order.venueClientOrderId) : order.venueClientOrderId, venueOrderId: order.venueOrderId ?? `v-${orderId}`, account: order.accountId, symbol: order.symbol, side: order.side }
    const qty = amended ? (order.amend?.qty ?? order.qty) : order.qty
    const price = amended ? (order.amend?.price ?? order.price) : order.price
    const filled = roll >= 0.92
    const status = roll < 0.85 ? ('open' as const) : filled ? ('filled' as const) : ('canceled' as const)
    // Filled with no trades listed: booked as a synthetic fill.
    const venueOrder = roll < 0.35 ? null : { ...base, qty, ...(price === null ? {} : { price }), cumQty: filled ? qty : order.cumQty, status }
    this.run({ kind: 'reconcile_result', nowMs: this.harness.nowMs, orderId, venueOrder, trades: [] })
  }

  resend(): void {
    const order = this.pick([...this.harness.state.orders.values()].filter((candidate) => candidate.status === 'Failed'))
    if (order === undefined) return
    const leg = LEGS.find((candidate) => candidate.symbol === order.symbol) ?? LEGS[0]
    this.run({ kind: 'resend', nowMs: this.harness.nowMs, principal: admin, orderId: order.orderId, market: this.market(leg) })
  }

  expire(): void {
    const order = this.pick([...this.harness.state.orders.values()].filter((candidate) => candidate.expiresAtMs !== null && !isTerminal(candidate.status)))
    if (order === undefined) return
    this.harness.nowMs = Math.max(this.harness.nowMs, order.expiresAtMs ?? 0)
    this.run({ kind: 'ttl_expire', nowMs: this.harness.nowMs, orderId: order.orderId })
  }

  /** A flatten of one account, which is then funded again (its closes sell what it holds). */
  flatten(): void {
    const markets = Object.fromEntries(LEGS.map((leg) => [`sim:${leg.symbol}`, this.market(leg)]))
    const accountId = this.pick(ACCOUNTS) ?? ACCOUNT
    this.run({ kind: 'flatten', nowMs: this.harness.nowMs, principal: ops, accountId, flattenId: `f${this.key++}`, markets })
    this.seen.flattens++
    for (const [asset, amount] of [['BTC', '1000'], ['ETH', '10000']] as const) {
      this.harness.run({ kind: 'fund', nowMs: this.harness.nowMs, principalId: 'config', accountId, asset, amount: d(amount), reference: `spec-${this.key++}` })
    }
  }

  /** HALT or CANCEL_ONLY for a few steps (what is queued ends, what rests is canceled or stays), then RESUME. */
  killSwitch(): void {
    if (this.resumeIn > 0) return
    this.run({ kind: 'kill_switch', nowMs: this.harness.nowMs, principal: ops, action: this.rand() < 0.5 ? 'HALT' : 'CANCEL_ONLY', note: 'spec' })
    this.resumeIn = 3 + this.int(15)
  }
}

function replayedFromGenesis(harness: Harness): KernelState {
  const state = initialState()
  for (const [index, event] of harness.log.entries()) applyInPlace(state, event, { lsn: index + 1 })
  return state
}

/** Resends are rare (a Failed order, read back not found, resendable): counted over the seeds. */
const resentBySeed: number[] = []

describe('the own-quotes index holds what a scan of the orders finds, through random traffic', () => {
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    test(`seed ${seed}: after every step; a clone, a snapshot restored and a replay from genesis hold the same`, () => {
      const driver = new Driver(seed)
      const state = driver.harness.state
      for (let step = 0; step < 1_500; step++) {
        driver.step()
        const live = indexSides(state)
        const scanned = scanSides(state)
        if (JSON.stringify(sorted(live)) !== JSON.stringify(sorted(scanned))) {
          expect({ step, index: sorted(live) }).toEqual({ step, index: sorted(scanned) })
        }
        if (step % 150 === 149) {
          expect(sorted(indexSides(cloneState(state)))).toEqual(sorted(live))
          expect(sorted(indexSides(kernelStateFromBytes(kernelStateBytes(state))))).toEqual(sorted(live))
          expect(sorted(indexSides(replayedFromGenesis(driver.harness)))).toEqual(sorted(live))
        }
      }
      // The traffic reached what matters: refusals, amends applied and failed, synthetic fills, revived orders,
      // retirement, TTL ends, fills, lists, flattens and market orders (the least of seeds 1–6: 76, 5, 18, 5, 45, 150,
      // 4, 56, 22, 3, 8; amends applied fell from 7 to 5 on seed 3 when Unknown orders the venue does not find began to
      // back off, kernel/reconcile-recheck.ts, which moves the random traffic).
      const seen = driver.seen
      expect(seen.stpRefused).toBeGreaterThan(50)
      expect(seen.amendsApplied).toBeGreaterThan(3)
      expect(seen.amendsFailed).toBeGreaterThan(0)
      expect(seen.revived).toBeGreaterThan(10)
      expect(seen.retired).toBeGreaterThan(50)
      expect(seen.ttlEnded).toBeGreaterThan(0)
      expect(seen.filled).toBeGreaterThan(30)
      expect(seen.synthetic).toBeGreaterThan(0)
      resentBySeed.push(seen.resent)
      expect(seen.lists).toBeGreaterThan(5)
      expect(seen.flattens).toBeGreaterThan(0)
      expect(seen.markets).toBeGreaterThan(3)
    })
  }

  test('the seeds asked resends of Failed orders', () => {
    expect(resentBySeed.reduce((sum, count) => sum + count, 0)).toBeGreaterThan(3)
  })
})

describe('the index of a restored state', () => {
  test('is built with one sort per side, not an insert per order (quadratic: 300,000 open orders on one side took 1.9 s)', () => {
    const harness = Harness.funded({ config: config({ policies: [policy({ maxOpenOrders: 10_000 })], params: { lane2DepthMax: 10_000, accountQueuedMax: 10_000 } }) })
    harness.run({ kind: 'fund', nowMs: harness.nowMs, principalId: 'config', accountId: ACCOUNT, asset: 'BTC', amount: d('1000'), reference: 'more' })
    const count = 2_000
    for (let index = 0; index < count; index++) harness.placedId({ client_order_id: `s${index}`, side: 'sell', qty: '0.001', price: String(50_000 + ((index * 7_919) % 1_000)) })
    const restored = kernelStateFromBytes(kernelStateBytes(harness.state))
    const splice = Array.prototype.splice
    let splices = 0
    Array.prototype.splice = function (this: unknown[], ...args: Parameters<typeof splice>) {
      splices++
      return splice.apply(this, args)
    } as typeof splice
    let nearest: ReturnType<typeof nearestOwnOpposite>
    try {
      nearest = nearestOwnOpposite(restored, { accountId: ACCOUNT, instrumentKey: 'sim:BTC-USD', side: 'buy' })
    } finally {
      Array.prototype.splice = splice
    }
    expect(splices).toBeLessThan(10)
    expect(nearest?.price).toBe(d('50000'))
    expect(sorted(indexSides(restored))).toEqual(sorted(indexSides(harness.state)))
    expect(indexSides(restored).get(`${ACCOUNT} sim:BTC-USD sell`)?.length).toBe(count)
  })
})
