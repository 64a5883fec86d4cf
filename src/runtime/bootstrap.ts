/**
 * Bootstrap, on every start (§10, DESIGN §6): after the log has been replayed — record the configuration (a no-op if
 * its digest is unchanged), fund paper accounts that have never been funded, mark every call that was in flight
 * when the process stopped as Unknown, end the places still waiting from before the stop that are older than the
 * resend window (not sent this late: kernel/stale-at-start.ts), let the executor reconcile the Unknown orders with
 * their venues, resend what the venues proved they never received, and only then report ready so intake can open.
 * Which orders may be resent is in the log (kernel/bootstrap-suspects.ts), so a crash at any point of this leaves the
 * next start to finish it.
 */

import { buildMemberOf } from './build-member.ts'
import type { Principal } from '../domain/accounts.ts'
import type { Units } from '../domain/decimal.ts'
import type { Clock } from '../domain/clock.ts'
import type { KernelConfig } from '../domain/kernel-config.ts'
import type { MarketSnapshot } from '../domain/market.ts'
import type { Mode } from '../domain/modes.ts'
import { resendable, type KernelState } from '../kernel/index.ts'
import { staleAt } from '../kernel/stale-at-start.ts'
import { isUnheld, UNHELD_ALERTS_MAX } from '../kernel/unheld-venue-orders.ts'
import type { Engine } from './engine.ts'
import { decisionOrdersMax } from './decision-parts.ts'
import type { Order } from '../domain/orders.ts'
import type { Executor } from './executor.ts'
import { LIST_THROTTLED, listedAsHeld, openOrderListOf } from './open-order-listing.ts'
import { READ_BACK_CALLS } from './read-back.ts'
import { venueOrderProblem } from './read-back-check.ts'
import { startModeNote, startModeOf, type StartMode } from './start-mode.ts'
import { isRefusedAtStop } from './stop-drain.ts'

export interface Funding {
  accountId: string
  asset: string
  amount: Units
}

export interface BootstrapOptions {
  engine: Engine
  executor: Executor
  clock: Clock
  kernelConfig: KernelConfig
  fundings: Funding[]
  /**
   * The mode the start is asked for (the config's); null: the log's. It applies as start-mode.ts rules: on a log never
   * started, or when it reaches less than the log's; an escalation beyond the log's mode is held (it takes an admin).
   */
  mode: Mode | null
  /** Give up waiting for Unknown orders to converge after this long; they stay Unknown (worst case reserved). */
  convergeWaitMsMax: number
  /**
   * Orders older than this are not resent automatically after a crash (their moment has passed), and a place still
   * waiting to be sent when the process stopped ends at the start instead of going out (STALE_AT_START).
   */
  resendAgeMsMax: number
  /** The reference price of an instrument as the runtime observes it now (null: none): a resend is guarded at it. */
  market: (venue: string, symbol: string) => MarketSnapshot | null
  /** Where an error of work the start leaves running goes (the listing of venues egress holds no open order at). */
  onError?: (error: unknown, context: string) => void
  /**
   * Called once the start's configuration, fundings and mode are recorded, before anything is marked Unknown: venue
   * reports held until then may go in (the gateway opens its report intake).
   */
  onConfigured?: () => void
}

export interface BootstrapReport {
  /** The mode this start runs in, the config's and the log's, and which rule chose it (start-mode.ts). */
  mode: StartMode
  /** Orders whose venue call was in flight when the process stopped, now Unknown. */
  inFlightMarkedUnknown: number
  /** Open orders their venue's list showed as egress holds them (open-order-listing.ts): nothing missed. */
  openOrdersConfirmed: number
  /** Open orders whose venue state was re-read (reports may have been missed while egress was down): answered. */
  openOrdersReconciled: number
  /** Open orders asked about whose venue gave no answer that could be taken (a timeout, an error): the sweep asks again. */
  openOrdersUnanswered: number
  /**
   * Open orders not re-read because a call of the executor's for them was under way (a cancel picked from Lane0 as it
   * started): that call's answer brings their venue state.
   */
  openOrdersInCall: number
  /** Open orders not re-read by the converge deadline (convergeWaitMsMax): the open-order sweep reads them. */
  openOrdersLeftToSweep: number
  /**
   * Orders the venues egress holds open orders at list as open under egress's client ids that egress does not hold
   * (placed past the end of the log replayed, or retired): each raised as a REPORT_ORPHANED alert, nothing else done
   * (unheld-venue-orders.ts). The other venues are listed once the start is under way, without holding it: theirs are
   * alerted the same, and not counted here.
   */
  unheldVenueOrders: number
  unknownAfterWait: number
  resent: string[]
  /**
   * Orders whose place still waited in a lane from before the stop, accepted longer ago than resendAgeMsMax: ended
   * before the executor started (STALE_AT_START, kernel/stale-at-start.ts), never sent by this start. A count: the
   * orders' own events name them.
   */
  staleEnded: number
  /** Amends still waiting in Lane2 from before the stop, requested longer ago than resendAgeMsMax: failed, not sent. */
  staleAmendsFailed: number
  waitedMs: number
}

/** States in which the venue holds a live order that may have changed while egress was not listening. */
export const OPEN_AT_VENUE: ReadonlySet<string> = new Set(['AckedOpen', 'Partial', 'CancelRequested', 'CancelPending'])

/**
 * The identity bootstrap acts as when it sets the start's mode and resends: recorded in the log like any principal.
 * Admin, because setting the mode is the admin's alone (src/kernel/permissions.ts mayChangeMode); ops for the rest.
 */
export const BOOTSTRAP_PRINCIPAL: Principal = { id: 'egress-bootstrap', roles: ['ops', 'admin'], accounts: [], liveAllowed: true }

/**
 * Whether bootstrap records `funding` on a log holding `state`: only an account's asset it holds no balance of (a log
 * never started, an account or asset new to the config). A config's opening balance is funded once: changed later, it
 * is not funded again, and the account holds what the log funded (src/runtime/paper.ts simDepositsAtRestart).
 */
export function fundsAtStart(state: KernelState, funding: Funding): boolean {
  return !(state.accounts.get(funding.accountId)?.balances.has(funding.asset) ?? false)
}

export async function bootstrap(options: BootstrapOptions): Promise<BootstrapReport> {
  const { engine, clock } = options
  // A log with no configuration recorded was never started: no operator has chosen a mode in it yet.
  const mode = startModeOf({ asked: options.mode, logged: engine.state.mode, neverStarted: engine.state.config === null })
  await engine.submit({ kind: 'configure', nowMs: clock.nowMs(), config: options.kernelConfig })
  for (const funding of options.fundings) {
    if (!fundsAtStart(engine.state, funding)) continue
    await engine.submit({
      kind: 'fund',
      nowMs: clock.nowMs(),
      principalId: BOOTSTRAP_PRINCIPAL.id,
      accountId: funding.accountId,
      asset: funding.asset,
      amount: funding.amount,
      reference: `config:${funding.accountId}:${funding.asset}`,
      ...buildMemberOf(engine),
    })
  }
  // The start's mode is in force before the executor starts: a send decided in the log's mode (paper, say, when this
  // start was asked for shadow) would reach the venue before the mode could change. It never reaches further than the
  // log's (start-mode.ts): after a failover, a live config must not undo an operator's switch to shadow.
  const note = startModeNote(mode)
  if (note !== null) {
    await engine.submit({ kind: 'set_mode', nowMs: clock.nowMs(), principal: BOOTSTRAP_PRINCIPAL, mode: mode.effective, note, ...buildMemberOf(engine) })
  }
  options.onConfigured?.()
  const marked = await engine.submit({ kind: 'bootstrap', nowMs: clock.nowMs() })
  const markedUnknown = new Set(
    marked.decision.events.filter((event) => event.type === 'order.unknown').map((event) => (event as { orderId: string }).orderId),
  )
  // The suspects are in the state, from the log: this start's Unknown orders and those a start that did not finish
  // left marked — some of them already proven absent (Failed), waiting for the resend that start did not record.
  await engine.submit({ kind: 'mark_suspects', nowMs: clock.nowMs() })
  const suspects = new Set<string>()
  for (const order of engine.state.orders.values()) if (order.bootstrapSuspect) suspects.add(order.orderId)
  // Before the executor may pick anything: a place still waiting from before the stop, accepted longer ago than the
  // resend window, would go out now at a price decided for a market long gone. It ends instead (STALE_AT_START), and
  // so does an amend waiting from before the stop, requested longer ago than the window. In parts sized to the log's
  // queue (one decision ending more than it takes was refused OVERLOADED, failing every start), each judged at the same
  // time; what a part ends is no longer waiting, so the parts end once one ends none.
  const staleAtMs = clock.nowMs()
  const ordersMax = decisionOrdersMax(engine.wal.options.queueRecordsMax)
  let staleEnded = 0
  let staleAmendsFailed = 0
  for (;;) {
    const expired = await engine.submit({ kind: 'expire_stale', nowMs: staleAtMs, principal: BOOTSTRAP_PRINCIPAL, ageMsMax: options.resendAgeMsMax, ordersMax, ...buildMemberOf(engine) })
    const ended = expired.decision.events.filter(
      (event) => (event.type === 'order.canceled' || event.type === 'order.cancel_requested') && event.reason === 'STALE_AT_START',
    ).length
    const amendsFailed = expired.decision.events.filter((event) => event.type === 'order.amend_failed' && event.reason === 'STALE_AT_START').length
    if (ended === 0 && amendsFailed === 0) break
    staleEnded += ended
    staleAmendsFailed += amendsFailed
  }
  options.executor.start()
  const started = clock.nowMs()
  // Orders the venue acknowledged may have filled or been canceled while egress was down: each venue's list of open
  // orders confirms those that did not change; the others are read back, a bounded number at a time.
  const open = [...engine.state.orders.values()].filter((order) => OPEN_AT_VENUE.has(order.status))
  const heldAt = new Set(open.map((order) => order.venue))
  const lists = await openOrderLists(options.executor, [...heldAt])
  const toRead = unconfirmedByLists(open, lists)
  // Each list also shows the open orders egress does not hold (past the end of a restored log): alerted now, not at
  // their first fill (src/kernel/unheld-venue-orders.ts). The other attached venues are listed for them too, without
  // holding the start: a venue slow to answer, where egress holds nothing, must not keep intake closed.
  const unheld = await alertUnheld(engine, lists, clock)
  const elsewhere = options.executor.venues.filter((venue) => !heldAt.has(venue))
  if (elsewhere.length > 0) {
    void openOrderLists(options.executor, elsewhere)
      .then((later) => alertUnheld(engine, later, clock))
      .catch((error: unknown) => {
        if (!isRefusedAtStop(error)) options.onError?.(error, 'listing the open orders of venues egress holds none at')
      })
  }
  // Bounded in time too: what is not read back by the converge deadline is left to the sweep, which runs from the start.
  const reads = await readBackBounded(toRead, options.executor, () => clock.nowMs() - started < options.convergeWaitMsMax)
  while (countUnknown(engine, suspects) > 0 && clock.nowMs() - started < options.convergeWaitMsMax) {
    await sleep(clock, 10)
  }
  const resent: string[] = []
  for (const orderId of suspects) {
    const order = engine.state.orders.get(orderId)
    if (order === undefined || !resendable(order) || staleAt(order, clock.nowMs(), options.resendAgeMsMax)) continue
    const market = options.market(order.venue, order.symbol)
    const committed = await engine.submit({ kind: 'resend', nowMs: clock.nowMs(), principal: BOOTSTRAP_PRINCIPAL, orderId, market, ...buildMemberOf(engine) })
    // A refused resend writes a record too (order.resend_refused, with its reason): only a `done` reply resent it.
    if (committed.decision.reply.kind === 'done') resent.push(orderId)
  }
  // What was not resent (still Unknown, too old, refused) is no longer this start's to resend: proven absent later,
  // while running, it stays Failed like any order proven absent while running.
  await engine.submit({ kind: 'clear_suspects', nowMs: clock.nowMs() })
  options.executor.wake()
  return {
    mode,
    inFlightMarkedUnknown: markedUnknown.size,
    openOrdersConfirmed: open.length - toRead.length,
    openOrdersReconciled: reads.readCount,
    openOrdersUnanswered: reads.unansweredCount,
    openOrdersInCall: reads.inCallCount,
    openOrdersLeftToSweep: toRead.length - reads.readCount - reads.unansweredCount - reads.inCallCount,
    unheldVenueOrders: unheld,
    unknownAfterWait: countUnknown(engine, suspects),
    resent,
    staleEnded,
    staleAmendsFailed,
    waitedMs: clock.nowMs() - started,
  }
}

type ListAnswer = Awaited<ReturnType<typeof openOrderListOf>>

/** The venues' lists of open orders, asked at once. */
async function openOrderLists(executor: Executor, venues: readonly string[]): Promise<Map<string, ListAnswer>> {
  const lists = await Promise.all(venues.map((venue) => openOrderListOf(venue, (name) => executor.listOpenOrders(name))))
  return new Map(venues.map((venue, index) => [venue, lists[index] ?? null]))
}

/** The open orders their venue's list does not show as egress holds them (all of a venue's when it cannot list). */
function unconfirmedByLists(open: readonly Order[], lists: ReadonlyMap<string, ListAnswer>): string[] {
  return open
    .filter((order) => {
      // A venue that asked for time is read order by order all the same: bootstrap must know, and reads are bounded.
      const list = lists.get(order.venue) ?? null
      return list === null || list === LIST_THROTTLED || !listedAsHeld(order, list)
    })
    .map((order) => order.orderId)
}

/**
 * Raises an alert for each listed order egress does not hold (src/kernel/unheld-venue-orders.ts); how many. Only an
 * order whose ids and amounts a record can hold, as a read-back's must (read-back-check.ts), is named: the list is the
 * venue's text, unchecked, and one id of a megabyte made the alert a record the log refuses, failing the start. The
 * others are counted.
 */
async function alertUnheld(engine: Engine, lists: ReadonlyMap<string, ListAnswer>, clock: Clock): Promise<number> {
  let count = 0
  for (const [venue, list] of lists) {
    if (list === null || list === LIST_THROTTLED) continue
    const unheld = [...list.values()].filter((venueOrder) => isUnheld(engine.state.orders, venueOrder))
    if (unheld.length === 0) continue
    count += unheld.length
    const orders = unheld.filter((venueOrder) => venueOrderProblem(venueOrder) === null).slice(0, UNHELD_ALERTS_MAX)
    await engine.submit({ kind: 'unheld_venue_orders', nowMs: clock.nowMs(), venue, orders, moreCount: unheld.length - orders.length })
  }
  return count
}

interface ReadBackCounts {
  readCount: number
  unansweredCount: number
  inCallCount: number
}

/**
 * Reads the orders back, at most half the executor's free call budget at a time (READ_BACK_CALLS calls each; at least
 * one read-back), while `inTime`: a book of thousands of open orders must not become thousands of calls at once (a
 * venue's rate limit, every one timing out), nor hold intake closed for as many rounds of venue timeouts. Resolves
 * with how many were read back (answered), asked without an answer, and not asked because a call was under way
 * (Executor.readBackOrder), once the reads have ended.
 */
async function readBackBounded(orderIds: readonly string[], executor: Executor, inTime: () => boolean): Promise<ReadBackCounts> {
  const inFlightMax = Math.max(1, Math.floor(executor.callsBudgetLeft / 2 / READ_BACK_CALLS))
  const counts = { readCount: 0, unansweredCount: 0, inCallCount: 0 }
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < orderIds.length && inTime()) {
      const outcome = await executor.readBackOrder(orderIds[next++] as string)
      if (outcome === 'answered') counts.readCount++
      else if (outcome === 'unanswered') counts.unansweredCount++
      else counts.inCallCount++
    }
  }
  await Promise.all(Array.from({ length: Math.min(inFlightMax, orderIds.length) }, worker))
  return counts
}

function countUnknown(engine: Engine, orderIds: Set<string>): number {
  let count = 0
  for (const orderId of orderIds) if (engine.state.orders.get(orderId)?.status === 'Unknown') count++
  return count
}

function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.schedule(ms, resolve))
}
