/**
 * The sim venue's matching engine and ledger: orders, fills, trades and balances, with no notion of latency or
 * faults (the transport in `venue.ts` adds those). Every operation runs at one instant and returns its answer; the
 * execution reports it caused go, in order, onto the array its caller passes (`caused`, book-result.ts).
 *
 * Orders never match each other: each one trades against the reference price, as if the venue had deep outside
 * liquidity at exactly that price (matching.ts). Marketable orders take at the reference price (market orders with
 * slippage); resting orders are made at their limit when the reference price touches it. Balances: balances.ts.
 *
 * Client order ids are the account's own, as at real venues (order-store.ts): two accounts may use one id, and a
 * duplicate is refused within an account only. A DAY order past its time is expired by whatever touches it first — a
 * price step, a cancel or amend, or a read (status, open orders) — so no read ever shows it open after its time.
 */

import type { Units } from '../../domain/decimal.ts'
import type {
  AmendRequest,
  CancelRequest,
  ExecutionReport,
  ExecutionReportKind,
  Liquidity,
  PlaceAck,
  PlaceRequest,
  VenueBalance,
  VenueOrder,
  VenueOutcome,
  VenueTrade,
} from '../adapter.ts'
import type { BookOptions, SimInstrument } from './options.ts'
import type { PriceProcess } from './prices.ts'
import type { Xoshiro128ss } from './prng.ts'
import { SimBalances } from './balances.ts'
import { isMarketable, SimLiquidity } from './matching.ts'
import { heldOrdersOf, mergedByTime, type SimMemory } from './memory.ts'
import { ok, rejected, unknown, type CausedReports } from './book-result.ts'
import { placeProblem } from './place-check.ts'
import { duplicatePlaceAnswer } from './duplicate-place.ts'
import { reduceOnlyExceeds } from './reduce-only.ts'
import { sizeProblem } from './size-check.ts'
import { SimReason } from './reasons.ts'
import { bookView, isOpen, neverRests, placedOrder, renameOrder, venueOrder, type SimOrder, type SimOrderView } from './order.ts'
import { SimOrderStore } from './order-store.ts'
import { stepOrders, type SteppedBook } from './book-step.ts'

export class SimBook {
  readonly #options: BookOptions
  readonly #prices: PriceProcess
  readonly #liquidity: SimLiquidity
  readonly #instruments = new Map<string, SimInstrument>()
  /** The orders and trades the venue holds: open ones, and ended ones for a while (order-store.ts). */
  readonly #store: SimOrderStore
  readonly #balances: SimBalances
  /** What each account holds besides its trades (SimVenueOptions.deposits; a resume may replace them: memory.ts). */
  #deposits: Record<string, Record<string, Units>>
  #orderSequence = 0
  #execSequence = 0
  /** Leads every id the venue issues: `<venue>-`, or `<venue>-<session>-` once resumed (memory.ts). */
  #idPrefix: string
  duplicatePlaceCount = 0
  /** Orders a price step failed on (step), told once each: a step fails on them again every priceStepMs. */
  readonly #stepFailed = new WeakSet<SimOrder>()
  /** What a price step needs of the book (book-step.ts): made once, not per step. */
  readonly #stepped: SteppedBook = {
    expireIfDue: (order, nowMs, caused) => this.#expireIfDue(order, nowMs, caused),
    reference: (symbol, nowMs) => this.#prices.reference(symbol, nowMs)?.price,
    reduceOnlyExceeds: (order, qty) => this.#reduceOnlyExceeds(order, qty),
    expire: (order, reason, nowMs, caused) => {
      order.status = 'expired'
      caused.push({ ...this.#report(order, 'expired', nowMs), reason })
    },
    make: (order, nowMs, caused) => this.#make(order, nowMs, caused),
    settle: (order, nowMs) => this.#store.settle(order, nowMs),
  }

  constructor(options: BookOptions, prices: PriceProcess, rng: Xoshiro128ss) {
    this.#options = options
    this.#prices = prices
    this.#liquidity = new SimLiquidity(options, rng)
    this.#idPrefix = `${options.venue}-`
    this.#store = new SimOrderStore({ ordersMax: options.ordersMax, endedOrderRetentionMs: options.endedOrderRetentionMs })
    for (const instrument of options.instruments) this.#instruments.set(instrument.symbol, instrument)
    this.#balances = new SimBalances(options.balances)
    this.#deposits = options.deposits
  }

  /**
   * Takes up where the venue left off before a restart: the resting orders back on the book, the recently ended ones
   * and their trades in its history, the balances, and ids under a new session so none is issued twice. Only on an
   * empty book (a resume is the first thing a venue does).
   */
  resume(memory: SimMemory): void {
    if (this.#orderSequence !== 0 || this.#execSequence !== 0) throw new Error('a sim venue resumes only before its first order')
    this.#idPrefix = `${this.#options.venue}-${memory.session}-`
    const held = heldOrdersOf(memory, this.#options.dayOrderTtlMs)
    this.#orderSequence = held.length
    for (const { order } of held) this.#store.add(order)
    // Filed in end order, the order its history forgets them in (resting ones, 0, first: they are not in that queue).
    for (const { order, endedAtMs } of held.toSorted((a, b) => a.endedAtMs - b.endedAtMs)) this.#store.settle(order, endedAtMs)
    // The unreported trades get ids of this session's, x1 on (memory.ts), and join the history in execution order.
    const named = memory.unreported.map((trade) => ({ ...trade, execId: `${this.#idPrefix}x${++this.#execSequence}` }))
    for (const trade of mergedByTime(memory.trades, named)) this.#store.addTrade({ ...trade })
    this.#balances.replaceWith(memory.balances)
    if (memory.deposits !== undefined) this.#deposits = memory.deposits
  }

  get openCount(): number {
    return this.#store.openCount
  }

  /** Orders held now (open, and ended within the retention) and ended orders forgotten so far. */
  get heldCounts(): { held: number; forgotten: number } {
    return { held: this.#store.heldCount, forgotten: this.#store.forgottenCount }
  }

  /** Forgets every held ended order now, whatever its retention (order-store.ts forgetEnded; for probes). */
  forgetEndedOrders(): number {
    return this.#store.forgetEnded()
  }

  place(request: PlaceRequest, nowMs: number, caused: CausedReports): VenueOutcome<PlaceAck> {
    // Client order ids are the account's own (order-store.ts): another account's order under this id is no duplicate.
    const known = this.#store.byClientId(request.clientOrderId, request.account)
    if (known !== undefined) {
      this.duplicatePlaceCount++
      return duplicatePlaceAnswer(known, this.#options.duplicateClientOrderId)
    }
    if (!this.#store.hasRoom(nowMs)) return rejected(SimReason.venueOrderLimit)
    const order = this.#create(request, nowMs)
    const invalid = placeProblem(request, this.#instruments.get(request.symbol))
    if (invalid !== null) return this.#reject(order, invalid, nowMs, caused)
    const instrument = this.#instrument(order.symbol)
    const reference = this.#reference(order.symbol, nowMs)
    // A market order's notional at the price it would trade at (size-check.ts).
    const size = sizeProblem(order.qty, order.price ?? reference, instrument)
    if (size !== null) return this.#reject(order, size, nowMs, caused)
    const marketable = isMarketable(order, reference)
    if (order.postOnly && marketable) return this.#reject(order, SimReason.postOnlyWouldCross, nowMs, caused)
    if (this.#reduceOnlyExceeds(order, order.qty)) return this.#reject(order, SimReason.reduceOnlyWouldIncrease, nowMs, caused)
    order.status = 'open'
    caused.push(this.#report(order, 'new', nowMs))
    if (marketable) this.#take(order, instrument, reference, nowMs, caused)
    if (isOpen(order) && neverRests(order)) {
      order.status = 'expired'
      caused.push(this.#report(order, 'expired', nowMs))
    }
    this.#store.settle(order, nowMs)
    return ok({ venueOrderId: order.venueOrderId })
  }

  cancel(request: CancelRequest, nowMs: number, caused: CausedReports): VenueOutcome<{ accepted: true }> {
    const order = this.#find(request.origClientOrderId, request.account)
    if (order === null) return rejected(SimReason.unknownOrder)
    this.#expireIfDue(order, nowMs, caused)
    if (!isOpen(order)) return this.#refuse(order, request, SimReason.tooLateToCancel, nowMs, caused)
    order.status = 'canceled'
    this.#store.settle(order, nowMs)
    const report = this.#report(order, 'canceled', nowMs)
    caused.push({ ...report, clientOrderId: request.clientOrderId, origClientOrderId: request.origClientOrderId })
    return ok({ accepted: true })
  }

  amend(request: AmendRequest, nowMs: number, caused: CausedReports): VenueOutcome<{ accepted: true }> {
    const order = this.#find(request.origClientOrderId, request.account)
    if (order === null) return rejected(SimReason.unknownOrder)
    const renamed = request.clientOrderId !== request.origClientOrderId
    if (renamed && this.#store.hasClientId(request.clientOrderId, request.account)) return rejected(SimReason.duplicateClientOrderId)
    // An expiry's report goes first; every refusal after it adds a cancel_rejected (#refuse).
    this.#expireIfDue(order, nowMs, caused)
    if (!isOpen(order)) return this.#refuse(order, request, SimReason.tooLateToAmend, nowMs, caused)
    // None for a symbol the venue stopped trading (a restart on a config that dropped it): refused, as a place is.
    const instrument = this.#instruments.get(order.symbol)
    if (instrument === undefined) return this.#refuse(order, request, SimReason.unknownSymbol, nowMs, caused)
    const price = request.price ?? order.price
    if (request.qty <= order.cumQty || request.qty % instrument.lot !== 0n) return this.#refuse(order, request, SimReason.invalidQuantity, nowMs, caused)
    if (price === undefined || price <= 0n || price % instrument.tick !== 0n) return this.#refuse(order, request, SimReason.invalidPrice, nowMs, caused)
    const size = sizeProblem(request.qty, price, instrument)
    if (size !== null) return this.#refuse(order, request, size, nowMs, caused)
    const reference = this.#reference(order.symbol, nowMs)
    const marketable = isMarketable({ ...order, price }, reference)
    if (order.postOnly && marketable) return this.#refuse(order, request, SimReason.postOnlyWouldCross, nowMs, caused)
    if (this.#reduceOnlyExceeds(order, request.qty - order.cumQty)) return this.#refuse(order, request, SimReason.reduceOnlyWouldIncrease, nowMs, caused)
    const origClientOrderId = order.clientOrderId
    order.qty = request.qty
    order.price = price
    if (renamed) {
      renameOrder(order, request.clientOrderId)
      this.#store.alias(request.clientOrderId, order)
    }
    caused.push({ ...this.#report(order, 'replaced', nowMs), origClientOrderId })
    if (marketable) this.#take(order, instrument, reference, nowMs, caused)
    this.#store.settle(order, nowMs)
    return ok({ accepted: true })
  }

  /**
   * One price step: expire the orders that are due, then fill resting orders the price has reached (book-step.ts). An
   * error on an order (a bug) skips it and goes on with the others: `failed` is told, the first time only for that order.
   */
  step(nowMs: number, caused: CausedReports, failed: (message: string) => void): void {
    stepOrders(this.#stepped, this.#store.openOrders(), { nowMs, caused, failed, stepFailed: this.#stepFailed })
  }

  /**
   * The order under `clientOrderId`, as of `nowMs`: a DAY order past its time reads expired (and is, with its report),
   * not open until the next price step. The adapter's status query names no account, and client order ids are unique
   * per account only: an id two accounts hold answers `unknown` (client_order_id_ambiguous) rather than either's order.
   */
  status(clientOrderId: string, nowMs: number, caused: CausedReports): VenueOutcome<VenueOrder | null> {
    const holders = this.#store.holdersOf(clientOrderId)
    if (holders.length > 1) return unknown(SimReason.clientOrderIdAmbiguous)
    const order = holders[0]
    if (order === undefined) return ok(null)
    this.#expireIfDue(order, nowMs, caused)
    return ok(venueOrder(order))
  }

  /** The open orders (of `account`, when given) as of `nowMs`: DAY orders past their time are expired first. */
  openOrders(account: string | undefined, nowMs: number, caused: CausedReports): VenueOutcome<VenueOrder[]> {
    const open: VenueOrder[] = []
    for (const order of this.#store.openOrders()) {
      if (account !== undefined && order.account !== account) continue
      this.#expireIfDue(order, nowMs, caused)
      if (isOpen(order)) open.push(venueOrder(order))
    }
    return ok(open)
  }

  /** Trades, of `account` and of the order under `clientOrderId` when given (every account's order under it, without one). */
  trades(filter: { account?: string; clientOrderId?: string }): VenueTrade[] {
    const { account, clientOrderId } = filter
    const orders = clientOrderId === undefined ? undefined : this.#store.holdersOf(clientOrderId).filter((order) => account === undefined || order.account === account)
    if (orders !== undefined && orders.length === 0) return []
    const venueOrderIds = orders === undefined ? undefined : new Set(orders.map((order) => order.venueOrderId))
    return this.#store
      .trades()
      .filter((trade) => account === undefined || trade.account === account)
      .filter((trade) => venueOrderIds === undefined || venueOrderIds.has(trade.venueOrderId))
      .map((trade) => ({ ...trade }))
  }

  balances(account: string): VenueBalance[] {
    return this.#balances.of(account)
  }

  ordersView(): SimOrderView[] {
    return this.#store.heldOrders().map(bookView)
  }

  tradesView(): VenueTrade[] {
    return this.#store.trades().map((trade) => ({ ...trade }))
  }

  #create(request: PlaceRequest, nowMs: number): SimOrder {
    const sequence = ++this.#orderSequence
    const expireAtMs = request.tif === 'DAY' ? nowMs + this.#options.dayOrderTtlMs : undefined
    const order = placedOrder(request, `${this.#idPrefix}o${sequence}`, sequence, nowMs, expireAtMs)
    this.#store.add(order)
    return order
  }

  /**
   * Expires an open DAY order whose time has come, and settles it. Price steps expire them too, but only at step
   * boundaries: a cancel or amend arriving between the expiry and the next step must find the order expired, or an
   * amend into a cross would fill it after its time. Its report goes onto `caused`; true when it expired it. One that
   * never rests (market, IOC, FOK) yet is open — a resumed memory's, or one a book error left so — is due at once.
   */
  #expireIfDue(order: SimOrder, nowMs: number, caused: CausedReports): boolean {
    if (!isOpen(order) || (!neverRests(order) && (order.expireAtMs === undefined || nowMs < order.expireAtMs))) return false
    order.status = 'expired'
    this.#store.settle(order, nowMs)
    caused.push(this.#report(order, 'expired', nowMs))
    return true
  }

  /** Whether reduce-only `order` trading `qty` more would open, increase or pass its position (reduce-only.ts). */
  #reduceOnlyExceeds(order: SimOrder, qty: Units): boolean {
    if (!order.reduceOnly) return false
    const asset = this.#instrument(order.symbol).baseAsset
    const held = this.#balances.holding(order.account, asset) + (this.#deposits[order.account]?.[asset] ?? 0n)
    return reduceOnlyExceeds(order.side, qty, held)
  }

  #reject(order: SimOrder, reason: string, nowMs: number, caused: CausedReports): VenueOutcome<PlaceAck> {
    order.status = 'rejected'
    order.rejectReason = reason
    this.#store.settle(order, nowMs)
    caused.push({ ...this.#report(order, 'rejected', nowMs), reason })
    return rejected(reason)
  }

  /** A cancel or amend refused for `reason` once it reached the order: a cancel_rejected report, and the refusal. */
  #refuse(order: SimOrder, request: CancelRequest | AmendRequest, reason: string, nowMs: number, caused: CausedReports): VenueOutcome<{ accepted: true }> {
    caused.push(this.#cancelReject(order, request, reason, nowMs))
    return rejected(reason)
  }

  /** Taker match at placement or amend. FOK takes everything or nothing; the rest of a short fill stays open. */
  #take(order: SimOrder, instrument: SimInstrument, reference: Units, nowMs: number, reports: ExecutionReport[]): void {
    const remaining = order.qty - order.cumQty
    const available = this.#liquidity.available(remaining, instrument.lot)
    if (order.tif === 'FOK' && available < remaining) return
    const price = order.type === 'market' ? this.#liquidity.slipped(order.side, instrument, reference) : reference
    this.#fillInPieces(order, available, price, 'taker', nowMs, reports)
  }

  /** Maker match of a resting order that the price has reached: it fills at its own limit. */
  #make(order: SimOrder, nowMs: number, reports: ExecutionReport[]): void {
    const instrument = this.#instrument(order.symbol)
    const available = this.#liquidity.available(order.qty - order.cumQty, instrument.lot)
    const price = order.price
    if (price === undefined) throw new Error(`resting order ${order.venueOrderId} has no price`)
    this.#fillInPieces(order, available, price, 'maker', nowMs, reports)
  }

  #fillInPieces(order: SimOrder, qty: Units, price: Units, liquidity: Liquidity, nowMs: number, reports: ExecutionReport[]): void {
    for (const piece of this.#liquidity.pieces(qty, this.#instrument(order.symbol).lot)) this.#fill(order, piece, price, liquidity, nowMs, reports)
  }

  #fill(order: SimOrder, qty: Units, price: Units, liquidity: Liquidity, nowMs: number, reports: ExecutionReport[]) {
    const instrument = this.#instrument(order.symbol)
    // Checked before anything changes, so an error leaves no fill on the book without its report (venue.ts #arrive).
    if (order.cumQty + qty > order.qty) throw new Error(`overfill of ${order.venueOrderId}: a matching bug`)
    const { cash, fee } = this.#liquidity.charges(order.side, qty, price, liquidity)
    order.cumQty += qty
    order.status = order.cumQty === order.qty ? 'filled' : 'partially_filled'
    const sign = order.side === 'buy' ? 1n : -1n
    this.#balances.credit(order.account, instrument.baseAsset, sign * qty)
    this.#balances.credit(order.account, instrument.quoteAsset, -sign * cash - fee)
    const report = this.#report(order, 'fill', nowMs)
    const fill = { lastQty: qty, lastPrice: price, fee, feeAsset: instrument.quoteAsset, liquidity }
    reports.push({ ...report, ...fill })
    this.#store.addTrade({
      execId: report.execId,
      clientOrderId: order.clientOrderId,
      venueOrderId: order.venueOrderId,
      account: order.account,
      symbol: order.symbol,
      side: order.side,
      qty,
      price,
      fee,
      feeAsset: instrument.quoteAsset,
      liquidity,
      venueTimeMs: nowMs,
    })
  }

  #report(order: SimOrder, kind: ExecutionReportKind, nowMs: number): ExecutionReport {
    return {
      venue: this.#options.venue,
      execId: `${this.#idPrefix}x${++this.#execSequence}`,
      kind,
      clientOrderId: order.clientOrderId,
      venueOrderId: order.venueOrderId,
      account: order.account,
      symbol: order.symbol,
      side: order.side,
      cumQty: order.cumQty,
      venueTimeMs: nowMs,
    }
  }

  #cancelReject(order: SimOrder, request: CancelRequest | AmendRequest, reason: string, nowMs: number) {
    const report = this.#report(order, 'cancel_rejected', nowMs)
    return { ...report, clientOrderId: request.clientOrderId, origClientOrderId: request.origClientOrderId, reason }
  }

  #find(clientOrderId: string, account: string): SimOrder | null {
    // Another account's order is invisible, exactly as if it did not exist.
    return this.#store.byClientId(clientOrderId, account) ?? null
  }

  #instrument(symbol: string): SimInstrument {
    const instrument = this.#instruments.get(symbol)
    if (instrument === undefined) throw new Error(`no instrument ${symbol} on an accepted order`)
    return instrument
  }

  #reference(symbol: string, nowMs: number): Units {
    const reference = this.#prices.reference(symbol, nowMs)
    if (reference === null) throw new Error(`no reference price for ${symbol}`)
    return reference.price
  }
}
