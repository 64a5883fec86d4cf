/**
 * The simulated venue: a `VenueAdapter` over the sim book, with latency and fault injection, driven entirely by the
 * injected Clock and one seed. With a SimClock, the same seed and the same sequence of calls give the same answers,
 * the same reports in the same order at the same simulated times.
 *
 * A call's fate is decided when it is made, in this order: outage → 429 burst → dropped request → applied. An applied
 * request reaches the book after one latency draw and its answer comes back after another, unless the answer is lost
 * (timeout after apply, lost cancel ack). Promises always resolve from a Clock callback, never inside the call, and
 * never reject.
 *
 * Ordering (the adapter contract in ../adapter.ts): order entry (place, cancel, amend) travels one ordered link — a
 * call reaches the book one latency draw after it was made, but never before the order-entry call made before it, and
 * the clock runs callbacks due at the same time in the order they were scheduled — so calls reach the book in the
 * order issued whatever the latency range. Queries (status, trades, balances) keep independent delays.
 */

import type { Clock } from '../../domain/clock.ts'
import type { Units } from '../../domain/decimal.ts'
import type {
  AmendRequest,
  CancelRequest,
  ExecutionReport,
  PlaceAck,
  PlaceRequest,
  VenueAdapter,
  VenueBalance,
  VenueOrder,
  VenueOutcome,
  VenueTrade,
} from '../adapter.ts'
import { SimBook } from './book.ts'
import { ok, type CausedReports } from './book-result.ts'
import type { SimMemory } from './memory.ts'
import { resolveFaults, resolveSimOptions, type ResolvedSimOptions, type SimFaults, type SimOutage, type SimVenueOptions } from './options.ts'
import type { SimOrderView } from './order.ts'
import { PriceProcess, type ReferencePrice } from './prices.ts'
import { deriveSeed, Xoshiro128ss } from './prng.ts'
import { SimReason } from './reasons.ts'
import { ReportStream, type ReportCounters } from './reports.ts'

type Operation = 'place' | 'cancel' | 'amend' | 'orderStatus' | 'openOrders' | 'trades' | 'balances'

export interface RequestCounters {
  /** Calls made, by operation. */
  calls: Record<Operation, number>
  /** Requests that reached the book (whatever the caller was told). */
  applied: number
  droppedRequests: number
  timedOutAfterApply: number
  cancelAcksLost: number
  throttled: number
  outageAnswers: number
  duplicatePlaces: number
}

/** A read-only look at the venue's own ledger and counters, for tests and invariant checks. */
export interface SimInspection {
  venue: string
  nowMs: number
  /**
   * Every order the venue holds (accepted or rejected; open, or ended within endedOrderRetentionMs), in creation order,
   * with its client-id chain.
   */
  orders: readonly SimOrderView[]
  /** Ended orders forgotten to make room (options ordersMax, endedOrderRetentionMs), with their trades. */
  ordersForgotten: number
  trades: readonly VenueTrade[]
  requests: RequestCounters
  reports: ReportCounters
  /**
   * Reports emitted and still on their way to subscribers: until they land, what the venue holds is ahead of what it
   * has told (an order it just expired on its own clock, for one).
   */
  reportsInFlight: number
}

export class SimVenue implements VenueAdapter {
  readonly venue: string
  /** An ended order, with its trades, is kept at least endedOrderRetentionMs (order-store.ts). */
  readonly tradeHistoryMs: number
  /** Every call is answered within it: a lost request or answer, and an outage's call, at it (the executor's deadline). */
  readonly requestTimeoutMs: number
  readonly #options: ResolvedSimOptions
  readonly #clock: Clock
  readonly #prices: PriceProcess
  readonly #book: SimBook
  readonly #reports: ReportStream
  readonly #faultRng: Xoshiro128ss
  readonly #latencyRng: Xoshiro128ss
  /** When the last order-entry call reaches the book (see #arrivalDelayMs). */
  #orderEntryArrivedAtMs = Number.NEGATIVE_INFINITY
  #faults: SimFaults
  #throttledUntilMs = Number.NEGATIVE_INFINITY
  #stepScheduled = false
  /**
   * Where each operation on the book puts the reports it causes (book-result.ts), emitted and emptied right after: one
   * array for the venue's life rather than one per call. The reports leave it by the clock, never while it is filled.
   */
  readonly #caused: CausedReports = []
  readonly #counters: RequestCounters = {
    calls: { place: 0, cancel: 0, amend: 0, orderStatus: 0, openOrders: 0, trades: 0, balances: 0 },
    applied: 0,
    droppedRequests: 0,
    timedOutAfterApply: 0,
    cancelAcksLost: 0,
    throttled: 0,
    outageAnswers: 0,
    duplicatePlaces: 0,
  }

  constructor(options: SimVenueOptions) {
    this.#options = resolveSimOptions(options)
    const { seed, clock } = this.#options
    this.venue = this.#options.venue
    this.tradeHistoryMs = this.#options.endedOrderRetentionMs
    this.requestTimeoutMs = this.#options.requestTimeoutMs
    this.#clock = clock
    this.#faults = this.#options.faults
    this.#faultRng = Xoshiro128ss.fromSeed(deriveSeed(seed, 'faults'))
    this.#latencyRng = Xoshiro128ss.fromSeed(deriveSeed(seed, 'latency'))
    this.#prices = new PriceProcess(this.#options.instruments, {
      seed,
      epochMs: clock.nowMs(),
      stepMs: this.#options.priceStepMs,
      stepTicksMax: this.#options.priceStepTicksMax,
      touchLotsMin: this.#options.touchLotsMin,
      touchLotsMax: this.#options.touchLotsMax,
      stalls: () => this.#faults.priceStalls,
    })
    this.#book = new SimBook(this.#options, this.#prices, Xoshiro128ss.fromSeed(deriveSeed(seed, 'fills')))
    this.#reports = new ReportStream({
      clock,
      rng: Xoshiro128ss.fromSeed(deriveSeed(seed, 'reports')),
      latency: () => this.#latency(),
      faults: () => this.#faults,
      outageAt: (nowMs) => this.#outageAt(nowMs),
      inFlightMax: this.#options.reportsInFlightMax,
    })
  }

  // Each operation names a module-level function and its argument rather than a closure over them: a call costs one
  // closure fewer (the place of every order).
  place(request: PlaceRequest): Promise<VenueOutcome<PlaceAck>> {
    return this.#call('place', placeOn, request)
  }

  cancel(request: CancelRequest): Promise<VenueOutcome<{ accepted: true }>> {
    return this.#call('cancel', cancelOn, request)
  }

  amend(request: AmendRequest): Promise<VenueOutcome<{ accepted: true }>> {
    return this.#call('amend', amendOn, request)
  }

  orderStatus(clientOrderId: string): Promise<VenueOutcome<VenueOrder | null>> {
    return this.#call('orderStatus', statusOn, clientOrderId)
  }

  openOrders(account?: string): Promise<VenueOutcome<VenueOrder[]>> {
    return this.#call('openOrders', openOrdersOn, account)
  }

  trades(options: { account?: string; clientOrderId?: string }): Promise<VenueOutcome<VenueTrade[]>> {
    return this.#call('trades', tradesOn, options)
  }

  balances(account: string): Promise<VenueOutcome<VenueBalance[]>> {
    return this.#call('balances', balancesOn, account)
  }

  onReport(handler: (report: ExecutionReport) => void): () => void {
    return this.#reports.subscribe(handler)
  }

  /** The reference price now (what the data-health guard reads), or null for a symbol the venue does not trade. */
  referencePrice(symbol: string): ReferencePrice | null {
    return this.#prices.reference(symbol, this.#clock.nowMs())
  }

  /** Takes up where the venue left off before a restart (memory.ts): before its first order, never after. */
  resume(memory: SimMemory): void {
    this.#book.resume(memory)
    this.#ensureStepping()
  }

  /** Moves a price by hand (a jump) and matches resting orders against it at once; for tests. */
  setReferencePrice(symbol: string, price: Units): void {
    this.#prices.set(symbol, price, this.#clock.nowMs())
    this.#step()
  }

  /** Replaces the fault configuration; fields left out are off. `setFaults({})` makes the venue reliable again. */
  setFaults(faults: Partial<SimFaults>): void {
    this.#faults = resolveFaults(faults)
    this.#throttledUntilMs = Number.NEGATIVE_INFINITY
  }

  /**
   * Forgets every ended order it holds now, with their trades, whatever endedOrderRetentionMs says; returns how many.
   * For probes that measure what held orders cost (scripts/probe-heap-per-order.ts), never for a running gateway: an
   * order forgotten within a resend window reads as never received.
   */
  forgetEndedOrders(): number {
    return this.#book.forgetEndedOrders()
  }

  faults(): Readonly<SimFaults> {
    return this.#faults
  }

  inspect(): SimInspection {
    return {
      venue: this.venue,
      nowMs: this.#clock.nowMs(),
      orders: this.#book.ordersView(),
      ordersForgotten: this.#book.heldCounts.forgotten,
      trades: this.#book.tradesView(),
      requests: { ...this.#counters, calls: { ...this.#counters.calls }, duplicatePlaces: this.#book.duplicatePlaceCount },
      reports: { ...this.#reports.counters },
      reportsInFlight: this.#reports.inFlight,
    }
  }

  /** `apply` runs against the book when the request arrives, with `argument` and the time then. */
  #call<A, T>(operation: Operation, apply: BookOperation<A, T>, argument: A): Promise<VenueOutcome<T>> {
    this.#counters.calls[operation]++
    const nowMs = this.#clock.nowMs()
    const faults = this.#faults
    // Every call draws the same values whatever its fate, so one fault does not reshuffle every later decision.
    const startsThrottle = this.#faultRng.chance(faults.throttleBurstProbability)
    const drop = this.#faultRng.chance(faults.dropRequestProbability)
    const answerLost = this.#faultRng.chance(faults.timeoutAfterApplyProbability)
    const cancelAckLost = this.#faultRng.chance(faults.cancelAckLostProbability)
    const { promise, resolve } = Promise.withResolvers<VenueOutcome<T>>()
    const outage = this.#outageAt(nowMs)
    if (outage !== null) {
      this.#counters.outageAnswers++
      if (outage.calls === 'retryable') {
        const retryAfterMs = outage.endMs - nowMs
        this.#answer(this.#latency(), resolve, { kind: 'retryable', reason: SimReason.venueUnavailable, retryAfterMs })
      } else {
        this.#answer(this.#options.requestTimeoutMs, resolve, { kind: 'unknown', reason: SimReason.timeout })
      }
      return promise
    }
    if (nowMs >= this.#throttledUntilMs && startsThrottle) this.#throttledUntilMs = nowMs + faults.throttleBurstMs
    if (nowMs < this.#throttledUntilMs) {
      this.#counters.throttled++
      const retryAfterMs = this.#throttledUntilMs - nowMs
      this.#answer(this.#latency(), resolve, { kind: 'retryable', reason: SimReason.rateLimited, retryAfterMs })
      return promise
    }
    if (drop) {
      this.#counters.droppedRequests++
      this.#answer(this.#options.requestTimeoutMs, resolve, { kind: 'unknown', reason: SimReason.timeout })
      return promise
    }
    const arriveMs = this.#arrivalDelayMs(operation, nowMs)
    const returnMs = this.#latency()
    const lost = answerLost || (operation === 'cancel' && cancelAckLost)
    this.#clock.after(arriveMs, this.#arriveBound, new CallInFlight(apply, argument, resolve, arriveMs, returnMs, lost, answerLost))
    return promise
  }

  /** #arrive for the clock: made once, where a closure per call over its fields cost a function and its scope. */
  readonly #arriveBound = <A, T>(call: CallInFlight<A, T>): void => this.#arrive(call)

  /** A call reaches the book: applied there, its reports emitted, and its answer sent back (or lost). */
  #arrive<A, T>(call: CallInFlight<A, T>): void {
    this.#counters.applied++
    const caused = this.#caused
    caused.length = 0
    let outcome: VenueOutcome<T>
    try {
      outcome = call.apply(this.#book, call.argument, this.#clock.nowMs(), caused)
    } catch (error) {
      // A book bug: the call is answered `unknown` (it may have been applied in part; the caller reconciles) rather
      // than left pending. The reports it caused before it threw are emitted: each tells of a change already made on
      // the book (a fill's, of a trade the venue now holds). Dropped, as before, such a trade was never reported, and
      // its order, taken and filled in part, was open at the venue unannounced.
      outcome = { kind: 'unknown', reason: `${SimReason.venueError}: ${error instanceof Error ? error.message : String(error)}` }
    }
    this.#emitCaused()
    this.#ensureStepping()
    if (!call.lost) return this.#answer(call.returnMs, call.resolve, outcome)
    if (call.answerLost) this.#counters.timedOutAfterApply++
    else this.#counters.cancelAcksLost++
    // A lost answer looks like a timeout from the caller's side: the wait runs from the moment of the call.
    const waitMs = call.answerLost ? Math.max(call.returnMs, this.#options.requestTimeoutMs - call.arriveMs) : call.returnMs
    this.#answer(waitMs, call.resolve, { kind: 'unknown', reason: SimReason.timeout })
  }

  #answer<T>(delayMs: number, resolve: (outcome: VenueOutcome<T>) => void, outcome: VenueOutcome<T>): void {
    this.#clock.after(delayMs, resolve, outcome)
  }

  /** Price steps are scheduled only while orders rest, so an idle venue leaves the clock idle. */
  #ensureStepping(): void {
    if (this.#stepScheduled || this.#book.openCount === 0) return
    this.#stepScheduled = true
    const nowMs = this.#clock.nowMs()
    this.#clock.schedule(this.#prices.nextStepMs(nowMs) - nowMs, () => {
      this.#stepScheduled = false
      this.#step()
      this.#ensureStepping()
    })
  }

  /** One price step of the book now, its reports emitted. */
  #step(): void {
    this.#caused.length = 0
    this.#book.step(this.#clock.nowMs(), this.#caused, this.#options.onBookError)
    this.#emitCaused()
  }

  /** Emits the reports the last operation on the book caused, in order, and empties the array for the next. */
  #emitCaused(): void {
    this.#reports.emit(this.#caused)
    this.#caused.length = 0
  }

  /**
   * Order entry (place, cancel, amend) travels one ordered link, like a single session: a call arrives one latency
   * draw after it was made but never before the order-entry call made before it (the clock runs callbacks due at the
   * same time in the order they were scheduled). So calls reach the book in the order issued (the adapter contract),
   * whatever the latency range. Queries keep independent delays.
   */
  #arrivalDelayMs(operation: Operation, nowMs: number): number {
    const drawnMs = this.#latency()
    if (operation !== 'place' && operation !== 'cancel' && operation !== 'amend') return drawnMs
    const arriveAtMs = Math.max(nowMs + drawnMs, this.#orderEntryArrivedAtMs)
    this.#orderEntryArrivedAtMs = arriveAtMs
    return arriveAtMs - nowMs
  }

  #latency(): number {
    return this.#latencyRng.nextInt(this.#options.latencyMsMin, this.#options.latencyMsMax)
  }

  /** Asked for every call and every report delivered: a loop, since a callback capturing `nowMs` costs a closure each time. */
  #outageAt(nowMs: number): SimOutage | null {
    for (const outage of this.#faults.outages) if (nowMs >= outage.startMs && nowMs < outage.endMs) return outage
    return null
  }
}

type BookOperation<A, T> = (book: SimBook, argument: A, nowMs: number, caused: CausedReports) => VenueOutcome<T>

/** A call on its way to the book (#call): what to apply there, when it left and how its answer goes back. */
class CallInFlight<A, T> {
  constructor(
    readonly apply: BookOperation<A, T>,
    readonly argument: A,
    readonly resolve: (outcome: VenueOutcome<T>) => void,
    /** Its delay to the book, from the call. */
    readonly arriveMs: number,
    /** Its answer's delay back, from its arrival. */
    readonly returnMs: number,
    /** The answer never comes back (a timeout after apply, or a lost cancel ack). */
    readonly lost: boolean,
    readonly answerLost: boolean,
  ) {}
}

const placeOn: BookOperation<PlaceRequest, PlaceAck> = (book, request, nowMs, caused) => book.place(request, nowMs, caused)
const cancelOn: BookOperation<CancelRequest, { accepted: true }> = (book, request, nowMs, caused) => book.cancel(request, nowMs, caused)
const amendOn: BookOperation<AmendRequest, { accepted: true }> = (book, request, nowMs, caused) => book.amend(request, nowMs, caused)
const statusOn: BookOperation<string, VenueOrder | null> = (book, clientOrderId, nowMs, caused) => book.status(clientOrderId, nowMs, caused)
const openOrdersOn: BookOperation<string | undefined, VenueOrder[]> = (book, account, nowMs, caused) => book.openOrders(account, nowMs, caused)
const tradesOn: BookOperation<{ account?: string; clientOrderId?: string }, VenueTrade[]> = (book, options) => ok(book.trades(options))
const balancesOn: BookOperation<string, VenueBalance[]> = (book, account) => ok(book.balances(account))
