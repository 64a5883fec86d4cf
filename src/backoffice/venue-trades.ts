/**
 * The venue_trades check for one account: the venue's trades against the fills the ledger booked, over a window.
 *
 * Neither side keeps everything, so each side is compared only as far back as the other still holds it:
 *  - a venue forgets old trades (the sim venue forgets an ended order, with its trades, once it is `tradeHistoryMs`
 *    old and it needs the room): a held order that ended before that horizon is not compared, as its booked fills
 *    may have no trade left to match;
 *  - the ledger retires ended orders (retention.ts): a venue trade that matches no held order and happened before the
 *    latest end among the retired ones may be one of theirs, and is not compared.
 * Both horizons get a tolerance (the venue's clock may run ahead of egress's, and egress notes an end when the report
 * arrives, after the venue's own time), and the venue's is worked out when the account is checked (a run over many
 * accounts takes a while).
 *
 * An order with no fill booked and no trade at the venue is in the window (its breaks are covered) but has nothing to
 * compare: at bench:http's rates most orders end unfilled, and reading and sorting them all was most of a run's cost.
 * The ledger's fills of the other compared orders are read from the query model in one range (the account's fills
 * from the earliest acceptance among them on), except for the oldest few when reading those by order id moves the
 * range's start far forward (splitFillReads): one order resting for days would otherwise make every run read every
 * fill of the account since it was placed.
 *
 * The walks over the compared orders, their fills (read a page at a time) and the venue's trades are cut into `slices`
 * (src/runtime/work-slices.ts), so an account with many held orders does not hold the event loop for their whole sum.
 *
 * A venue trade is compared with egress's record of it: the fill record of its execId or, for a fill a synthetic fill
 * had booked in whole or in part, the covered part plus any rest booked as that fill record (covered-fills.ts). A
 * synthetic fill has no venue trade of its own: it counts only in its order's filled quantity, and a venue trade egress
 * has no record of yet may be one it stands for. Such a trade is a difference of its own (its price and fee are what
 * the books lack until its report trues the synthetic fill up) and is passed to `onLacking` like a trade whose report
 * is late: in flight while young, a break once overdue. Before, it was passed over whenever the order's quantity
 * matched, so a real report lost for good left only an account's balance difference, naming no trade
 * (specs/backoffice/synthetic-report-lost.test.ts).
 *
 * `covered` collects the break keys the check looked at. Reconcile clears an open venue_trades break only if its key
 * is among them: a break whose trade or order left the window was not seen because it was not looked at, not because
 * it was mended, and stays open.
 */

import { formatDecimal, type Units } from '../domain/decimal.ts'
import type { WorkSlices } from '../runtime/work-slices.ts'
import type { VenueAdapter, VenueTrade } from '../venues/adapter.ts'
import { breakKey } from './breaks.ts'
import { addCoveredFills, type RecordedTrade } from './covered-fills.ts'
import type { CoveredKeys } from './covered-keys.ts'
import { notAnswered, type FillPage, type VenueAsk } from './external-checks.ts'
import { listedWindow, type AccountWindow } from './compared-window.ts'
import { heldOrderOf } from './held-order-index.ts'
import { diffAmounts, type Observation } from './internal-checks.ts'
import type { FillRecord, LedgerState } from './ledger-state.ts'
import type { TrackedOrder } from './orders.ts'

/** How much later than a horizon an order must have ended, or a trade have happened, to be compared. */
export const VENUE_CLOCK_TOLERANCE_MS = 5_000

/**
 * The cost of reading one order's fills by its id (an index lookup), in log records' worth of an account's fills read
 * by range: an order accepted more than this many records before the next compared one is cheaper to read alone.
 */
export const ORDER_READ_COST_RECORDS = 1_000
/** At most this many of the oldest compared orders are read by id; the range read covers the rest. */
export const ORDER_READS_MAX = 64
/** Fills read from the query model per page of the range read (a pause may follow each page). */
export const FILL_PAGE_ROWS = 1_000
/** Pauses the check waits, at most, for the query model to hold every fill through the ledger's LSN before it skips. */
export const STORE_WAITS_MAX = 8

export interface VenueTradesInput {
  adapter: VenueAdapter
  ledger: LedgerState
  accountId: string
  /**
   * The account's held orders on the venue that may be compared: those not done and those that ended within the venue's
   * trade history, as a list or as the run's window of the account (reconcileVenue passes one, compared-window.ts). Each
   * is compared unless it ended before this check's own horizon or was retired meanwhile. A trade of any held order is
   * known, compared or not.
   */
  orders: readonly TrackedOrder[] | AccountWindow
  nowMs: number
  /** Whether the query model holds every fill through `lsn` (after writing what the ledger folded). */
  fillsStoredThrough: (lsn: number) => boolean
  /** Why the query model is written no further, or null (FillReads.held): past its LSN it never holds the fills. */
  fillsHeld?: string | null
  /** The account's fills on the venue from an LSN on (the first acceptance the range read covers), a page at a time. */
  fillsFrom: (page: FillPage) => FillRecord[]
  /** One order's fills (an indexed read): for the oldest compared orders (splitFillReads). */
  fillsOfOrder: (orderId: string) => FillRecord[]
  /** Receives the key of every break this check could have raised for what it compared. */
  covered: CoveredKeys
  /** Where the walks pause (see the header). */
  slices: WorkSlices
  /**
   * Receives each venue trade of a compared order that the ledger lacks (no fill record of its execId) while the
   * venue's trades of that order add up to more than the ledger booked: a fill whose report may still be in flight
   * (venue-suspects.ts weighs it by its venue time).
   */
  onLacking?: (trade: VenueTrade) => void
  /** How the venue is asked: with the back office's deadline (external-checks.ts); none, as the adapter answers. */
  ask?: VenueAsk
}

/** The breaks found, or why the check could not run (the venue did not answer). */
export async function venueTrades(input: VenueTradesInput): Promise<Observation[] | string> {
  const { adapter, ledger, covered, slices } = input
  const venue = adapter.venue
  const asked = adapter.trades({ account: input.accountId })
  const answer = await (input.ask === undefined ? asked : input.ask(asked, 'trades'))
  if (answer.kind !== 'ok') return `trades: ${notAnswered(answer)}`
  slices.restarted()
  // Fills are read as the ledger stood when the answer came: one booked during a pause below is not compared.
  const toLsn = ledger.lastLsn
  const ordersFromMs = comparedFromMs(adapter, input.nowMs)
  // The held orders the venue names in its trades: those are compared whether or not the ledger booked a fill.
  const traded = new Map<string, TrackedOrder>()
  for (const trade of answer.value) {
    if (slices.spent()) await slices.rest()
    const order = heldOrderOf(ledger.orders, venue, input.accountId, trade.clientOrderId)
    if (order !== undefined) traded.set(order.orderId, order)
  }
  // `compared`: the orders in the window; `withFills`: those with anything to compare. An order with no fill booked
  // (cumQty 0: every fill, synthetic too, adds a positive quantity) and no venue trade has nothing that could differ,
  // and need not be among the window's candidates: its key is covered all the same (coverRest).
  const window = isWindow(input.orders) ? input.orders : listedWindow(ledger, input.orders)
  const listed = window.candidates(traded, slices)
  const candidates = listed instanceof Promise ? await listed : listed
  const compared = new Set<string>()
  const withFills: TrackedOrder[] = []
  for (const order of candidates) {
    if (slices.spent()) await slices.rest()
    if (compared.has(order.orderId) || !window.startedIn(order) || !window.inWindowNow(order, ordersFromMs)) continue
    compared.add(order.orderId)
    if (order.cumQty !== 0n || traded.has(order.orderId)) withFills.push(order)
  }
  covered.addEach(orderKey(venue, ''), compared)
  window.coverRest(covered, orderKey(venue, ''), ordersFromMs, compared)
  // Read only once the query model holds every fill through toLsn: one missing there would be a false break. A held
  // one never will: said as such, not waited on.
  if ((input.fillsHeld ?? null) !== null && !input.fillsStoredThrough(toLsn)) return `trades: ${input.fillsHeld}`
  if (!(await storedThrough(toLsn, input))) return `trades: the query model did not store the fills through LSN ${toLsn} within ${STORE_WAITS_MAX} pauses`
  const fills = await bookedFills(withFills, compared, toLsn, input)
  const booked = new Map<string, RecordedTrade>()
  for (const fill of fills) {
    if (slices.spent()) await slices.rest()
    booked.set(fill.execId, fill)
    covered.add(execKey(venue, fill.execId))
  }
  for (const order of withFills) {
    if (slices.spent()) await slices.rest()
    for (const execId of addCoveredFills(booked, order, toLsn)) covered.add(execKey(venue, execId))
  }
  const found: Observation[] = []
  const tradeBreak = (execId: string, what: string, expected: string, actual: string): void =>
    void found.push({ key: execKey(venue, execId), check: 'venue_trades', what, expected, actual })
  const venueQty = new Map<string, Units>()
  const lacking = new Map<string, VenueTrade[]>()
  for (const trade of answer.value) {
    if (slices.spent()) await slices.rest()
    const order = heldOrderOf(ledger.orders, venue, input.accountId, trade.clientOrderId)
    if (order === undefined) {
      if (mayBeOfRetired(ledger, trade)) continue
      covered.add(execKey(venue, trade.execId))
      tradeBreak(trade.execId, `venue trade ${trade.execId} for an order egress does not hold`, 'absent', tradeText(trade))
      continue
    }
    const orderId = order.orderId
    if (!compared.has(orderId)) continue
    covered.add(execKey(venue, trade.execId))
    venueQty.set(orderId, (venueQty.get(orderId) ?? 0n) + trade.qty)
    const fill = booked.get(trade.execId)
    if (fill === undefined) {
      // A synthetic fill may stand for it; the per-order total below decides.
      let ofOrder = lacking.get(orderId)
      if (ofOrder === undefined) lacking.set(orderId, (ofOrder = []))
      ofOrder.push(trade)
      continue
    }
    booked.delete(trade.execId)
    // The side too: a venue trade of the other side under the fill's exec id matched before, though it moved the
    // account's assets the other way (the order's filled quantity agrees either way, so nothing else named it).
    if (fill.side !== trade.side || fill.qty !== trade.qty || fill.price !== trade.price || fill.fee !== trade.fee || fill.feeAsset !== trade.feeAsset) tradeBreak(trade.execId, `fill ${trade.execId} differs from the venue's trade`, fillText(fill), tradeText(trade))
  }
  for (const fill of booked.values()) if (!fill.synthetic) tradeBreak(fill.execId, `fill ${fill.execId} booked, no such trade at the venue`, fillText(fill), 'absent')
  const bookedQty = new Map<string, Units>()
  const withSynthetic = new Set<string>()
  for (const fill of fills) {
    bookedQty.set(fill.orderId, (bookedQty.get(fill.orderId) ?? 0n) + fill.qty)
    if (fill.synthetic) withSynthetic.add(fill.orderId)
  }
  for (const [orderId, trades] of lacking) {
    if ((venueQty.get(orderId) ?? 0n) > (bookedQty.get(orderId) ?? 0n)) for (const trade of trades) input.onLacking?.(trade)
    else if (withSynthetic.has(orderId)) {
      // A synthetic fill stands for it: the quantity is booked, at a guessed price with no fee, until its report comes.
      for (const trade of trades) {
        tradeBreak(trade.execId, `venue trade ${trade.execId} a synthetic fill stands for: egress has no record of its price and fee`, 'absent', tradeText(trade))
        input.onLacking?.(trade)
      }
    }
  }
  found.push(...diffAmounts('venue_trades', bookedQty, venueQty, (orderId) => ({ key: orderKey(venue, orderId), what: `filled quantity of ${orderId}: ledger vs ${venue} trades` })))
  return found
}

function isWindow(orders: readonly TrackedOrder[] | AccountWindow): orders is AccountWindow {
  return !Array.isArray(orders)
}

/**
 * The end time from which a held order is compared with the venue's trades: one that ended before may have had its
 * trades forgotten by the venue. Minus infinity for a venue that keeps every trade (or has not said how long).
 */
export function comparedFromMs(adapter: VenueAdapter, nowMs: number): number {
  return adapter.tradeHistoryMs === undefined ? Number.NEGATIVE_INFINITY : nowMs - adapter.tradeHistoryMs + VENUE_CLOCK_TOLERANCE_MS
}

/**
 * Whether a trade that matches no held order may be one of an order the ledger retired: one from before the latest
 * retired end, read now (an order retired while this check paused counts), has no order left to match.
 */
function mayBeOfRetired(ledger: LedgerState, trade: VenueTrade): boolean {
  return ledger.retiredThroughAtMs !== 0 && trade.venueTimeMs < ledger.retiredThroughAtMs + VENUE_CLOCK_TOLERANCE_MS
}

/** Whether the query model holds every fill through `toLsn`, after at most STORE_WAITS_MAX pauses waiting for it. */
async function storedThrough(toLsn: number, input: VenueTradesInput): Promise<boolean> {
  for (let waits = 0; !input.fillsStoredThrough(toLsn); waits++) {
    if (waits === STORE_WAITS_MAX) return false
    await input.slices.rest()
  }
  return true
}

/** The booked fills of the compared orders: the oldest few read by order id, the others in one range (by pages). */
async function bookedFills(orders: TrackedOrder[], compared: ReadonlySet<string>, toLsn: number, input: VenueTradesInput): Promise<FillRecord[]> {
  if (orders.length === 0) return []
  const byAcceptance = orders.sort((a, b) => a.acceptedLsn - b.acceptedLsn)
  const alone = splitFillReads(byAcceptance.map((order) => order.acceptedLsn))
  const fills: FillRecord[] = []
  const readAlone = new Set<string>()
  for (const order of byAcceptance.slice(0, alone)) {
    readAlone.add(order.orderId)
    for (const fill of input.fillsOfOrder(order.orderId)) if (fill.lsn <= toLsn) fills.push(fill)
  }
  // The range also returns later fills of the orders read alone: those are already in.
  const fromLsn = byAcceptance[alone]!.acceptedLsn
  for (let afterLsn: number | undefined, pageRows = FILL_PAGE_ROWS; pageRows === FILL_PAGE_ROWS; ) {
    const page = input.fillsFrom(afterLsn === undefined ? { fromLsn, toLsn, limit: FILL_PAGE_ROWS } : { fromLsn, toLsn, afterLsn, limit: FILL_PAGE_ROWS })
    for (const fill of page) if (compared.has(fill.orderId) && !readAlone.has(fill.orderId)) fills.push(fill)
    pageRows = page.length
    afterLsn = page.at(-1)?.lsn
    if (pageRows === FILL_PAGE_ROWS) await input.slices.rest()
  }
  return fills
}

/**
 * How many of the oldest orders (acceptance LSNs ascending, at least one) to read by id: the count, at most
 * ORDER_READS_MAX and leaving one for the range read, that minimises reads × ORDER_READ_COST_RECORDS plus the
 * records the range spans from its first acceptance on.
 */
export function splitFillReads(acceptedLsns: readonly number[]): number {
  let best = 0
  let bestGain = 0
  const last = Math.min(ORDER_READS_MAX, acceptedLsns.length - 1)
  for (let alone = 1; alone <= last; alone++) {
    const gain = acceptedLsns[alone]! - acceptedLsns[0]! - alone * ORDER_READ_COST_RECORDS
    if (gain > bestGain) {
      best = alone
      bestGain = gain
    }
  }
  return best
}

function execKey(venue: string, execId: string): string {
  return breakKey(`venue_trades:${venue}:${execId}`)
}

function orderKey(venue: string, orderId: string): string {
  return `venue_trades:${venue}:order:${orderId}`
}

function tradeText(trade: VenueTrade): string {
  return `${trade.side} ${formatDecimal(trade.qty)} @ ${formatDecimal(trade.price)} fee ${formatDecimal(trade.fee)} ${trade.feeAsset}`
}

function fillText(fill: RecordedTrade): string {
  return `${fill.side} ${formatDecimal(fill.qty)} @ ${formatDecimal(fill.price)} fee ${formatDecimal(fill.fee)} ${fill.feeAsset}`
}
