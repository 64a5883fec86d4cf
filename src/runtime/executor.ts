/**
 * The executor: takes work from the kernel's lanes (Lane0 first), runs the I-100 gate through a `send` decision,
 * waits until `send_requested` is durable, and only then calls the venue adapter — the outbox rule. The adapter's
 * answer goes back through the kernel as a result command. Unknown orders are reconciled by asking the venue (status
 * by client order id, trades) and handing the answer to the kernel.
 *
 * Ordered pipelining (§6): the kernel lets up to callsPerInstrumentMax calls be in flight per venue×symbol, one per
 * order. Every send decided in one pump joins the same group commit (one fsync for many send records), and places
 * and amends reach the adapter in decision order per venue×symbol: they wait in the instrument's FIFO and leave it
 * only from its head, once durable. Cancels go as soon as durable (never behind a held place).
 *
 * Lane3 gets a share of the picks (lane3-share.ts), so Unknown orders converge under sustained new-order load; and
 * read-backs hold at most half the call budget (readBacksHeld), so a venue that answers none does not stop the rest;
 * nor does a venue that answers nothing at all: one venue's calls hold at most a share of the budget (call-budget.ts).
 *
 * Places and amends are paced per venue×symbol by the instrument's request budget, rateLimitPerSecond (send-pacing.ts):
 * one whose budget is spent is not picked until it returns. Cancels spend it but are never held by it.
 *
 * Nothing else in egress calls an adapter's place/cancel: the executor is the single exit (venue-send.ts builds the
 * call from the send record; only venue-call.ts callVenue, run by the executor's dispatch, makes it).
 */

import { nextDueMs, nextWork, type WorkItem } from '../kernel/index.ts'
import type { Engine } from './engine.ts'
import type { Dispatch, ExecutorOptions, ExecutorStats } from './executor-options.ts'
import { DispatchQueues } from './dispatch-queues.ts'
import { HeldAnswers } from './held-answers.ts'
import { readBackItem } from './read-back-item.ts'
import { queryCallFor, type QueryPorts } from './query-call.ts'
import { READ_BACKS_BEFORE_START_MAX, ReadBacksBeforeStart } from './read-backs-before-start.ts'
import { ReconcileHolds } from './reconcile-holds.ts'
import { Lane3Share } from './lane3-share.ts'
import { isRefusedAtStop } from './stop-drain.ts'
import { SendDispatch, type SendOwner } from './send-dispatch.ts'
import { SendPacing } from './send-pacing.ts'
import { SendThrows } from './send-throws.ts'
import { WakeTimer } from './wake-timer.ts'
import { callVenue, holdCall, type VenueCallPorts } from './venue-call.ts'
import { callDeadlinesFor, type CallDeadlines } from './call-deadline.ts'
import { CallBudget } from './call-budget.ts'
import type { SendPorts, SendResultCommand } from './venue-send.ts'
import type { VenueOrder, VenueOutcome } from '../venues/adapter.ts'

export type { ExecutorOptions, ExecutorStats } from './executor-options.ts'

/** Why places and amends are held (Executor.holdPlaceSends): a promotion under way, or a fail_closed leader's standby gone. */
export type PlaceSendHold = 'promotion' | 'standby'

export class Executor {
  readonly stats: ExecutorStats = { sends: 0, cancels: 0, amends: 0, reconciles: 0, callsInFlight: 0, leaseRefusals: 0, gateHolds: 0, answersRefusedAtStop: 0, answersHeld: 0, callsHeld: 0, callsPastDeadline: 0, readBacksRefused: { unrecordable: 0, other_order: 0 } }
  private readonly options: ExecutorOptions
  /**
   * Orders with a send decided and its adapter call not yet answered (the kernel's in-flight slot also guards these),
   * each with the work item of the call that marked it: the mark's token. A call's answer frees the order before the
   * call's own dispatch ends, so the next call on it (a cancel) may already have marked it by then; a dispatch clears
   * only its own mark (`release`).
   */
  private readonly busy = new Map<string, WorkItem>()
  /** Reconcile items the pick passes over: a read-back in flight, or backing off (reconcile-holds.ts). */
  private readonly reconcileHolds: ReconcileHolds
  /** Reconcile items not picked: ReconcileHolds', and an order whose answer waits for the log (held-answers.ts holds). */
  private readonly reconcileHeld: Pick<ReadonlySet<string>, 'has'> = {
    has: (orderId) => this.reconcileHolds.held.has(orderId) || this.heldAnswers.holds(orderId),
  }
  /** Per venue×symbol, places and amends decided and not yet handed to the adapter, in decision order. */
  private readonly dispatchQueues = new DispatchQueues()
  /** The venue's answers on their way to the kernel, held while the log has no room (held-answers.ts). */
  private readonly heldAnswers: HeldAnswers
  /** Orders whose send decision threw, each held until its back-off ends (send-throws.ts; nextWork's sendHeldUntilMs). */
  private readonly sendThrows: SendThrows
  /** Pending releases of sends the log refused (releaseLater): cancelled by stop(). */
  private readonly refusedRetries = new Set<() => void>()
  /** When Lane3 is looked at before Lanes 1–2 (ExecutorOptions.lane3Every). */
  private readonly lane3Share: Lane3Share
  /** The venues' request budgets per venue×symbol (ExecutorOptions.rateLimits): places and amends wait for them. */
  readonly pacing: SendPacing
  /** nextWork's instrumentPaced: the pacing's, or none when no instrument is paced (the pick asks nothing). */
  private readonly instrumentPaced: ((instrumentKey: string) => boolean) | undefined
  /** The calls in flight, per venue, against callsInFlightMax and each venue's share of it (call-budget.ts). */
  private readonly budget: CallBudget
  /** nextWork's venueHeld: the budget's, or none with a single venue (its share is the whole budget). */
  private readonly venueHeld: ((venue: string) => boolean) | undefined
  private pumpQueued = false
  /** Wakes the pump when an item set aside becomes due (armTimer). */
  private readonly timer: WakeTimer
  private stopped = true
  /** Why no place or amend is picked now (holdPlaceSends); none: they are. */
  private readonly placeSendHolds = new Set<PlaceSendHold>()
  /** Whether start() or stop() ran once: a read-back asked for before either waits for the start (readBacksBeforeStart). */
  private started = false
  private readonly readBacksBeforeStart: ReadBacksBeforeStart
  /** Every venue call's deadline (call-deadline.ts): one object for all of them. */
  private readonly deadlines: CallDeadlines
  /** What the queries are handed (query-call.ts). */
  private readonly queryPorts: QueryPorts
  /** What every send's venue call is handed (venue-send.ts): one object for all of them. */
  private readonly sendPorts: SendPorts
  /** Where every send's decision is told (SendDispatch): one object for all of them. */
  private readonly sendOwner: SendOwner
  /** What every durable send's venue call is handed (venue-call.ts): one object for all of them. */
  private readonly callPorts: VenueCallPorts

  constructor(options: ExecutorOptions) {
    this.options = options
    this.timer = new WakeTimer(options.clock, () => this.wake())
    this.lane3Share = new Lane3Share(options.lane3Every)
    this.pacing = new SendPacing(options.clock, options.rateLimits ?? [])
    this.instrumentPaced = this.pacing.active ? this.pacing.spent : undefined
    const budget = (this.budget = new CallBudget(options.callsInFlightMax, options.adapters.size, this.stats))
    this.venueHeld = budget.venueShare >= options.callsInFlightMax ? undefined : (venue) => budget.venueHeld(venue)
    // A deadline passing after the stop is no news: the call's answer is refused at the stop as any late one is.
    this.deadlines = callDeadlinesFor({ clock: options.clock, onError: (error, context) => void (this.stopped || options.onError(error, context)) }, this.stats)
    this.queryPorts = { onQuery: options.onQuery, clock: options.clock, deadlines: this.deadlines }
    this.sendPorts = { clock: options.clock, submit: (command) => this.submitResult(command.orderId, command), observe: options.onCall, deadlines: this.deadlines }
    this.sendOwner = {
      decided: (dispatch) => this.sendDecided(dispatch),
      onError: (error, dispatch) => this.options.onError(error, `send of ${dispatch.item.orderId}`),
    }
    this.callPorts = { options, stats: this.stats, send: this.sendPorts, stop: () => this.stop() }
    this.reconcileHolds = new ReconcileHolds(options)
    this.sendThrows = new SendThrows({ engine: options.engine, clock: options.clock, report: (error, context) => this.options.onError(error, context) })
    this.heldAnswers = new HeldAnswers({ engine: options.engine, clock: options.clock, onHeld: () => this.stats.answersHeld++ })
    this.readBacksBeforeStart = new ReadBacksBeforeStart((orderId) =>
      options.onError(new Error(`${READ_BACKS_BEFORE_START_MAX} read-backs wait for the executor's start already; ${orderId} (and any further) is not read back`), 'read-back before start'),
    )
  }

  start(): void {
    this.stopped = false
    this.started = true
    this.heldAnswers.start()
    this.wake()
    void this.readBacksBeforeStart.release((orderId) => this.reconcileOrder(orderId)).catch((error: unknown) => this.options.onError(error, 'read-backs asked for before the start'))
  }

  stop(): void {
    this.stopped = true
    // A stop ends the wait too (a start that failed before the executor's): later requests are skipped, as after any stop.
    this.started = true
    this.readBacksBeforeStart.drop()
    this.heldAnswers.stop()
    this.timer.cancel()
    for (const cancel of this.refusedRetries) cancel()
    this.refusedRetries.clear()
  }

  /**
   * Picks no place or amend until releasePlaceSends (cancels and read-backs go on): an HA node taking the lead holds
   * them until the whole promotion has succeeded (ha/leading.ts). Bootstrap ran the executor before the later start
   * steps; a promotion that then failed had placed orders recorded only in its own log, which no other node could
   * see (a promoting node serves no replication): the next leader placed them again under the same client ids, and
   * this node's records were set aside when it followed again (review: a double send under sync `off`).
   */
  holdPlaceSends(why: PlaceSendHold = 'promotion'): void {
    this.placeSendHolds.add(why)
  }

  /** Ends the hold `why`; `standby`: a fail_closed leader's standby is back in sync (ha/leader-sync.ts holdSends). */
  releasePlaceSends(why: PlaceSendHold = 'promotion'): void {
    this.placeSendHolds.delete(why)
    this.wake()
  }

  /** Asks for a pump soon (coalesced): after any state change that may have made work due. */
  wake(): void {
    if (this.pumpQueued || this.stopped) return
    this.pumpQueued = true
    queueMicrotask(this.pumpQueuedNow)
  }

  /** wake()'s microtask (one function for every wake, not one per call). */
  private readonly pumpQueuedNow = (): void => {
    this.pumpQueued = false
    this.pump()
  }

  private pump(): void {
    if (this.stopped) return
    const { engine, clock } = this.options
    // Answers first: each frees its order's call slot, which the work picked below may need.
    this.heldAnswers.resume()
    this.reconcileHolds.dropExpired()
    this.pacing.pumpAt(clock.nowMs())
    this.sendThrows.forgetEnded(clock.nowMs())
    for (let guard = 0; guard < 10_000; guard++) {
      // The bound holds Lanes 1–3 only (see ExecutorOptions.callsInFlightMax): nextWork answers Lane0 first, so an item
      // of another lane means no Lane0 work can start now.
      const budgetLeft = this.callsBudgetLeft
      const nowMs = this.reconcileHolds.pickAt(clock.nowMs())
      this.pacing.pickAt(nowMs)
      const lane3First = this.lane3Share.due
      const sendHeldUntilMs = this.sendThrows.size === 0 ? undefined : this.sendThrows.heldUntilMs
      const item = nextWork(engine.state, { nowMs, busy: this.busy, sendHeldUntilMs, reconcileHeld: this.reconcileHeld, reconcileHeldUntilMs: this.reconcileHolds.heldUntilMs, placeSendsHeld: this.placeSendHolds.size > 0, lane3First, readBacksHeld: this.budget.readBacksHeld(this.reconcileHolds.reconciling.size), instrumentPaced: this.instrumentPaced, venueHeld: this.venueHeld })
      if (item === null || (item.lane !== 0 && budgetLeft < this.budget.callsNeeded(item.kind))) break
      this.lane3Share.picked(item, lane3First, engine.state.orders.get(item.orderId))
      if (item.kind === 'reconcile') {
        this.reconcileHolds.reconciling.add(item.orderId)
        void this.reconcile(item)
      } else {
        // Spent at the pick, before the decision: a send that then makes no call (a gate block) wastes a token, never
        // lets the venue be sent more than its budget.
        if (this.instrumentPaced !== undefined) this.pacing.took(item.venue, item.symbol)
        this.busy.set(item.orderId, item)
        this.send(item)
      }
    }
    this.armTimer()
  }

  /** Schedules a pump at the earliest time a backing-off item becomes due, or a spent request budget returns. */
  private armTimer(): void {
    // nextDueMs covers the items nextWork set aside as not due, or held by a send decision that threw (see there); the
    // others wait behind something whose end wakes the executor (an answer, a log record).
    this.timer.armAt(this.pacing.dueMsBefore(this.reconcileHolds.dueMsBefore(nextDueMs(this.options.engine.state))))
  }

  private send(item: WorkItem): void {
    const { engine, clock } = this.options
    if (item.kind === 'reconcile') return
    const action = item.kind
    // Places and amends keep decision order per venue×symbol; a cancel goes as soon as its record is durable (its
    // order's previous call is answered already, and a place held back — by the HA send gate, say — must not hold
    // back a risk-reducing cancel).
    const queue = action === 'cancel' ? null : this.dispatchQueues.queueFor(item.venue, item.symbol)
    const dispatch = new SendDispatch(this.sendOwner, item, queue)
    try {
      // A cancel faces no data health (send.ts): its send reads no price.
      const market = action === 'cancel' ? null : this.options.market(item.venue, item.symbol)
      // The dispatch is the decision's sink: told from the log's batch answer, never from inside submitTo.
      engine.submitTo({ kind: 'send', nowMs: clock.nowMs(), orderId: item.orderId, action, facts: this.options.gateFacts(), market }, dispatch)
    } catch (error) {
      // Held, backing off (send-throws.ts): released at once, the item was the next pick again, thrown again, up to the
      // pump's guard — every pump — and no item behind it in its lane, or in a later lane, was ever sent.
      this.release(item)
      // Its wake is armed even when the report throws (a logger that failed), which escapes the pump before the pick
      // that sets the order aside: its own wait's end, O(1) (a whole armTimer per throw cost O(wave) each).
      try {
        this.sendThrows.thrown(item, error)
      } finally {
        this.timer.armAt(this.sendThrows.waitEndMs(item.orderId))
      }
      return
    }
    this.sendThrows.decided(item.orderId)
    this.budget.started(item.venue)
    if (queue !== null) queue.push(dispatch)
  }

  /** A send's decision is durable, or failed (SendDispatch): its call goes, in decision order per venue×symbol. */
  private sendDecided(dispatch: SendDispatch): void {
    const queue = dispatch.queue
    if (queue === null) void this.dispatch(dispatch)
    else this.dispatchQueues.dispatchDurable(queue, this.dispatchNow)
  }

  private readonly dispatchNow = (head: Dispatch): void => {
    void this.dispatch(head)
  }

  /** Makes the call a durable send asks for (none for a failed one), then frees its order and its call budget. */
  private async dispatch({ item, events, held, failed }: Dispatch): Promise<void> {
    // The budget is freed in `finally`: an onError that throws escapes (unhandled, as from the old chain's catch)
    // but must not keep the call counted in flight for good.
    try {
      const call = events === null ? undefined : held !== null ? holdCall(item, events, held, this.callPorts) : callVenue(item, events, this.callPorts)
      if (call !== undefined) await call
    } catch (error) {
      this.reportUnlessStopping(error, `send of ${item.orderId}`)
    } finally {
      this.budget.ended(item.venue)
      if (failed) this.releaseLater(item)
      else {
        this.release(item)
        this.wake()
      }
    }
  }

  /**
   * A send the log refused to record (its queue full, or the log dead) is picked again only after SEND_REFUSED_RETRY_MS
   * (one whose decision threw backs off: send-throws.ts). The refusal comes back within microtasks: picked again at
   * once, the order looped from pump to refusal and back without the event loop ever running — and the event loop is
   * what drains the log's queue, or lets a process whose log died exit (a serve spun at full CPU, its error log
   * growing by gigabytes).
   */
  private releaseLater(item: WorkItem): void {
    const cancel = this.options.clock.schedule(SEND_REFUSED_RETRY_MS, () => {
      this.refusedRetries.delete(cancel)
      this.release(item)
      this.wake()
    })
    this.refusedRetries.add(cancel)
  }

  /** An answer the stopping engine refused is expected (counted; the next start reads its order back); anything else is an error. */
  private reportUnlessStopping(error: unknown, context: string): void {
    if (this.stopped && isRefusedAtStop(error)) this.stats.answersRefusedAtStop++
    else this.options.onError(error, context)
  }

  /** Clears the order's busy mark if `item`'s call made it (a later call's mark stays: see `busy`). */
  private release(item: WorkItem): void {
    if (this.busy.get(item.orderId) === item) this.busy.delete(item.orderId)
  }

  /**
   * Hands an adapter answer to the kernel. The order is freed first, so work that became due while the call was out
   * (a cancel requested meanwhile) is picked in priority order by the pump that this decision wakes.
   */
  private submitResult(orderId: string, command: SendResultCommand): Promise<unknown> {
    this.busy.delete(orderId)
    const committed = this.heldAnswers.submit(command)
    this.wake()
    return committed
  }

  /**
   * Asks the venue about one order and hands the answer to the kernel, whatever the order's state: bootstrap uses it
   * for every open order (reports may have been missed while egress was down), and the periodic sweep likewise.
   * Resolves when the answer is durable (or the venue did not answer): true when the venue was asked, false when not
   * (the executor is stopped, the order unknown, or a call of the executor's for it is under way: a send, a cancel,
   * another read-back, whose answer brings its venue state). Asked for before the executor's first start (a report
   * refused while venue sessions log on ahead of bootstrap), it waits for the start: bootstrap reads back only the
   * orders open at the venue, and this one may be any (read-backs-before-start.ts).
   */
  async reconcileOrder(orderId: string): Promise<boolean> {
    if (!this.started) return this.readBacksBeforeStart.wait(orderId)
    return (await this.readBackOrder(orderId)) !== 'not_asked'
  }

  /**
   * reconcileOrder once started, saying how it went: 'answered' (the venue's answer is durable), 'unanswered' (asked,
   * and no answer could be taken: a timeout, an error, an answer refused) or 'not_asked' (as reconcileOrder's false).
   */
  async readBackOrder(orderId: string): Promise<'answered' | 'unanswered' | 'not_asked'> {
    const order = this.options.engine.state.orders.get(orderId)
    // A stopped executor (shutdown, a lost lease, a crash in the simulation) asks no venue anything.
    // An answer held for the log's room (held-answers.ts) is the order's news still to be decided: read back after it.
    if (!this.started || this.stopped || order === undefined || this.busy.has(orderId) || this.reconcileHolds.reconciling.has(orderId) || this.heldAnswers.holds(orderId)) {
      return 'not_asked'
    }
    this.reconcileHolds.reconciling.add(orderId)
    return (await this.reconcile({ lane: 3, kind: 'reconcile', orderId, venue: order.venue, symbol: order.symbol })) ? 'answered' : 'unanswered'
  }

  /**
   * The orders a venue lists as open, every account's (one call, counted like a read-back), for the sweep and
   * bootstrap (open-order-listing.ts); null when not asked: the executor is stopped, no call may start (the venue's
   * calls at its share included), or the venue is not attached.
   */
  async listOpenOrders(venue: string): Promise<VenueOutcome<VenueOrder[]> | null> {
    const adapter = this.options.adapters.get(venue)
    if (this.stopped || adapter === undefined || this.callsBudgetLeft === 0 || this.venueHeld?.(venue) === true) return null
    try {
      return await queryCallFor(this.budget, this.queryPorts, venue, adapter, 'openOrders')(() => adapter.openOrders())
    } finally {
      this.wake()
    }
  }

  /** The venues attached (their adapters), by name. */
  get venues(): string[] {
    return [...this.options.adapters.keys()]
  }

  /** Calls that may still start under callsInFlightMax (the bound on Lanes 1–3), each venue's counted up to its share. */
  get callsBudgetLeft(): number {
    return this.budget.left
  }

  /**
   * Calls that may still start to `venue`: none while it holds its share (its calls past the share count in no budget,
   * so a read-back asked outside the pick — sweep, fill gap, report — gated on callsBudgetLeft alone went past it).
   */
  callsLeftFor(venue: string): number {
    return this.venueHeld?.(venue) === true ? 0 : this.budget.left
  }

  /** Calls in flight to `venue`, every lane's (specs, metrics). */
  callsTo(venue: string): number {
    return this.budget.callsTo(venue)
  }

  private reconcile(item: WorkItem): Promise<boolean> {
    return readBackItem(item, {
      ...this.options,
      holds: this.reconcileHolds,
      stats: this.stats,
      queryCall: (venue, adapter) => queryCallFor(this.budget, this.queryPorts, venue, adapter, 'query'),
      report: (error, context) => this.reportUnlessStopping(error, context),
      done: () => this.wake(),
    })
  }
}

/** How long a send the log refused waits before it is picked again (see Executor.releaseLater). */
export const SEND_REFUSED_RETRY_MS = 100

