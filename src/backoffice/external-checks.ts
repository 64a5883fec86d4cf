/**
 * External reconciliation: the ledger against what a venue says through its adapter — balances, open orders and
 * trades, per account. A venue that cannot be asked (an adapter call that does not come back `ok`) skips the check
 * rather than inventing a difference; its breaks stay as they were.
 *
 * Balances are compared on one of two bases. `total`: the venue holds the whole account, so its balance must equal the
 * ledger's. `trading`: the venue knows only what traded there (the sim venue starts every account empty; paper
 * funding never reached it), so its balance must equal the ledger's movements from fills and fees on that venue.
 *
 * Each adapter call has a deadline on the back office's clock, as the executor's have (src/runtime/call-deadline.ts):
 * twice the adapter's own request timeout. A call still out at it is answered `unknown` and its check skipped for the
 * run, as for a venue that did not answer. Before, an adapter that never answered held the run and with it every later
 * one (each joined the run under way), the background fold and a stop (quiesce waits for the run), for good.
 */

import { formatDecimal, type Units } from '../domain/decimal.ts'
import { withinDeadline, type CallDeadlines, type DeadlinedCall } from '../runtime/call-deadline.ts'
import { unslicedWork, type WorkSlices } from '../runtime/work-slices.ts'
import type { VenueAdapter, VenueOrder, VenueOutcome, VenueTrade } from '../venues/adapter.ts'
import { boundedText, breakKey, type ReconcileCheck, venueBalanceKey } from './breaks.ts'
import { CoveredKeys } from './covered-keys.ts'
import { runWindows, type RunWindows } from './compared-window.ts'
import { heldOrderOf, indexEndedFills, indexOpenOrders, openOrdersOf } from './held-order-index.ts'
import { explainedByFills } from './in-flight-fills.ts'
import { diffAmounts, type Observation } from './internal-checks.ts'
import type { FillRecord, LedgerState } from './ledger-state.ts'
import type { TrackedOrder } from './orders.ts'
import { VENUE_REPORT_LAG_MS_MAX } from './venue-suspects.ts'
import { comparedFromMs, venueTrades } from './venue-trades.ts'

export type BalanceBasis = 'total' | 'trading'

export interface VenueSource {
  adapter: VenueAdapter
  balanceBasis: BalanceBasis
}

export interface ExternalResult {
  ran: ReconcileCheck[]
  skipped: { check: ReconcileCheck; detail: string }[]
  observations: Observation[]
  /**
   * For a check that compares a window (venue_trades), the break keys it looked at: only those of its open breaks may
   * be cleared by this run (venue-trades.ts). A check not listed looked at everything it could break on.
   */
  coveredKeys: Map<ReconcileCheck, CoveredKeys>
  /**
   * The keys of the observations whose account has venue trades the ledger lacks, every one of them made within
   * VENUE_REPORT_LAG_MS_MAX of when the trades check read them: fills whose reports may still be on their way
   * (venue-suspects.ts). Empty when the trades check did not run.
   */
  inFlight: Set<string>
  /** The keys among `inFlight` that those trades account for exactly (in-flight-fills.ts): not a known difference. */
  explained: Set<string>
  /** The account each observation was found for (every venue check runs per account): recorded with its break. */
  accountOf: Map<string, string>
}

/** An adapter call's answer, or `unknown` at its deadline (see the header). */
export type VenueAsk = <T>(answer: Promise<VenueOutcome<T>>, call: DeadlinedCall) => Promise<VenueOutcome<T>>

/** `adapter`'s calls under `deadlines`; with none (a spec driving the checks), as the adapter answers them. */
export function venueAsk(adapter: VenueAdapter, deadlines: CallDeadlines | undefined): VenueAsk {
  return (answer, call) => (deadlines === undefined ? answer : withinDeadline(answer, adapter, call, null, deadlines))
}

/** What a check records of an answer other than `ok`: its kind and why. */
export function notAnswered(answer: Exclude<VenueOutcome<unknown>, { kind: 'ok' }>): string {
  return `${answer.kind} (${answer.reason})`
}

/** States in which egress holds an order for open at the venue with nothing in flight about it. */
const SETTLED_OPEN = new Set(['AckedOpen', 'Partial'])
const TERMINAL = new Set(['Filled', 'Canceled', 'Rejected', 'Expired', 'Failed'])

/**
 * The query model's fills of an account on a venue: over an LSN range, a page at a time (`afterLsn`: past the last fill
 * of the previous page; a page shorter than `limit` is the last), or of one order (an indexed read). `storedThrough`
 * writes what the ledger folded and says whether the query model now holds every fill through `lsn`: it may not for a
 * moment (a committed batch not yet delivered to the ledger holds the write back, see BackOfficeProjector.flush).
 */
export interface FillReads {
  storedThrough(lsn: number): boolean
  /** Why the query model is written no further (LEDGER_INCOMPLETE: projector-start.ts), or null: it never stores them. */
  held: string | null
  from(accountId: string, venue: string, page: FillPage): FillRecord[]
  ofOrder(accountId: string, venue: string, orderId: string): FillRecord[]
}

export interface FillPage {
  fromLsn: number
  /** The last LSN read: the ledger's when the venue answered. */
  toLsn: number
  afterLsn?: number
  limit: number
}

/**
 * Every check for every account that ever placed an order on the venue (its orders may all be retired by now; its
 * balance there is still checked). No check walks every order the ledger holds (it keeps ended ones for an hour):
 * each account's checks start from its orders that are not done and, for the trades check, those that ended within
 * the venue's trade history (heldOrdersToCheck), and find any other held order by the client id the venue names
 * (held-order-index.ts). So a run costs in proportion to what the venue can still tell, not to the last hour's
 * traffic. `pause` (an event-loop turn) runs between two accounts' checks, so a venue that answers at once (the sim
 * venue) does not turn the whole run into one synchronous stretch. The walks inside one account's check are cut into
 * `slices` (src/runtime/work-slices.ts). `fillsOf` reads an account's fills on the venue: the trades check reads only
 * those of the orders it compares (venue-trades.ts). `openBreakKeys`: the open breaks when the run starts (the back
 * office's), so that whether the trades check covered an open break's order is answered as of the check
 * (compared-window.ts); without them it is answered when asked.
 */
export async function reconcileVenue(
  source: VenueSource,
  ledger: LedgerState,
  fillsOf: FillReads,
  options: { nowMs: () => number; pause?: () => Promise<void>; slices?: WorkSlices; openBreakKeys?: Iterable<string>; deadlines?: CallDeadlines },
): Promise<ExternalResult> {
  const pause = options.pause ?? (async () => undefined)
  const slices = options.slices ?? unslicedWork()
  const accounts = [...(ledger.venueAccounts.get(source.adapter.venue)?.keys() ?? [])].sort()
  const held = await heldOrdersToCheck(ledger, source.adapter, accounts, options.nowMs(), slices, options.openBreakKeys)
  try {
    return await checkAccounts(source, ledger, fillsOf, accounts, held, { pause, slices, nowMs: options.nowMs, ask: venueAsk(source.adapter, options.deadlines) })
  } finally {
    held.windows.close()
  }
}

/** The three checks for every account, from what the run started from (`held`). */
async function checkAccounts(
  source: VenueSource,
  ledger: LedgerState,
  fillsOf: FillReads,
  accounts: readonly string[],
  held: HeldToCheck,
  options: { pause: () => Promise<void>; slices: WorkSlices; nowMs: () => number; ask: VenueAsk },
): Promise<ExternalResult> {
  const venue = source.adapter.venue
  const { pause, slices, ask } = options
  const tradesCovered = new CoveredKeys()
  const result: ExternalResult = { ran: [], skipped: [], observations: [], coveredKeys: new Map([['venue_trades', tradesCovered]]), inFlight: new Set(), explained: new Set(), accountOf: new Map() }
  // Per account with venue trades the ledger lacks: whether every one of them is recent (within one report lag of the
  // check: in flight). One overdue makes the account's differences a divergence, whatever recent ones there are too.
  const lackingAllRecent = new Map<string, boolean>()
  const lackingTrades = new Map<string, VenueTrade[]>()
  const noteLacking = (accountId: string, trade: VenueTrade, nowMs: number): void => {
    const recent = trade.venueTimeMs >= nowMs - VENUE_REPORT_LAG_MS_MAX
    lackingAllRecent.set(accountId, recent && lackingAllRecent.get(accountId) !== false)
    let trades = lackingTrades.get(accountId)
    if (trades === undefined) lackingTrades.set(accountId, (trades = []))
    trades.push(trade)
  }
  const observationsOf = new Map<string, Observation[]>()
  const checks: [ReconcileCheck, (accountId: string) => Promise<Observation[] | string>][] = [
    ['venue_balances', (accountId) => balances(source, ledger, accountId, ask)],
    ['venue_open_orders', (accountId) => openOrders(source.adapter, ledger, held.open.get(accountId) ?? [], accountId, ask)],
    [
      'venue_trades',
      (accountId) => {
        const nowMs = options.nowMs()
        return venueTrades({
          adapter: source.adapter, ledger, accountId, orders: held.windows.windowOf(accountId), nowMs, covered: tradesCovered, slices, ask,
          fillsStoredThrough: (lsn) => fillsOf.storedThrough(lsn),
          fillsHeld: fillsOf.held,
          fillsFrom: (page) => fillsOf.from(accountId, venue, page),
          fillsOfOrder: (orderId) => fillsOf.ofOrder(accountId, venue, orderId),
          onLacking: (trade) => noteLacking(accountId, trade, nowMs),
        })
      },
    ],
  ]
  for (const [check, run] of checks) {
    const found: { accountId: string; observation: Observation }[] = []
    let failure: string | null = null
    for (const accountId of accounts) {
      await pause()
      slices.restarted()
      const outcome = await run(accountId)
      if (typeof outcome === 'string') {
        failure = `${venue}/${accountId}: ${outcome}`
        break
      }
      for (const observation of outcome) found.push({ accountId, observation })
    }
    if (failure === null) {
      result.ran.push(check)
      for (const { accountId, observation } of found) {
        result.observations.push(observation)
        result.accountOf.set(observation.key, accountId)
        let ofAccount = observationsOf.get(accountId)
        if (ofAccount === undefined) observationsOf.set(accountId, (ofAccount = []))
        ofAccount.push(observation)
      }
    } else {
      result.skipped.push({ check, detail: failure })
      if (check === 'venue_trades') lackingAllRecent.clear()
    }
  }
  for (const [accountId, allRecent] of lackingAllRecent) {
    if (!allRecent) continue
    const ofAccount = observationsOf.get(accountId) ?? []
    for (const observation of ofAccount) result.inFlight.add(observation.key)
    for (const key of explainedByFills(ledger, { venue, accountId, trades: lackingTrades.get(accountId) ?? [] }, ofAccount)) result.explained.add(key)
  }
  return result
}

interface HeldToCheck {
  /** Per account: its orders on the venue that were not done when the run started. */
  open: Map<string, TrackedOrder[]>
  /** The account's orders the trades check may compare: the open ones and those that ended within the trade history. */
  windows: RunWindows
}

/**
 * What the venue checks start from, taken once per run. The open orders are taken first and the ended ones after, so
 * an order that ends in between is in one or the other. One accepted later is in neither, and so is one that was done
 * when the run started and reopened during its pauses (its end was unlinked before the walk got to it): the next run
 * sees both. The ended ones are those with a fill (compared-window.ts), as the walk of every recent end was the cost.
 */
async function heldOrdersToCheck(ledger: LedgerState, adapter: VenueAdapter, accounts: readonly string[], nowMs: number, slices: WorkSlices, openBreakKeys: Iterable<string> | undefined): Promise<HeldToCheck> {
  await indexOpenOrders(ledger.orders, slices)
  const building = indexEndedFills(ledger, slices)
  if (building !== null) await building
  const open = new Map<string, TrackedOrder[]>()
  for (const accountId of accounts) open.set(accountId, [...openOrdersOf(ledger.orders, adapter.venue, accountId).values()])
  const windows = await runWindows(ledger, adapter.venue, comparedFromMs(adapter, nowMs), open, slices, openBreakKeys)
  return { open, windows }
}

async function balances(source: VenueSource, ledger: LedgerState, accountId: string, ask: VenueAsk): Promise<Observation[] | string> {
  const venue = source.adapter.venue
  const answer = await ask(source.adapter.balances(accountId), 'balances')
  if (answer.kind !== 'ok') return `balances: ${notAnswered(answer)}`
  // Read as asset → total, the last row of an asset won and a row's account was not read: an answer listing an asset
  // twice or naming another account was compared as if whole, and a difference could pass unseen. Refused instead.
  const atVenue = new Map<string, Units>()
  for (const balance of answer.value) {
    if (balance.account !== accountId) return `balances: the answer holds a row of another account (${boundedText(balance.account)})`
    if (atVenue.has(balance.asset)) return `balances: the answer lists ${boundedText(balance.asset)} twice`
    atVenue.set(balance.asset, balance.total)
  }
  const expected = source.balanceBasis === 'total' ? new Map(ledger.books.get(`acct:${accountId}`) ?? []) : tradingFlows(ledger, accountId, venue)
  return diffAmounts('venue_balances', expected, atVenue, (asset) => ({
    key: venueBalanceKey(venue, accountId, asset),
    what: `${source.balanceBasis === 'total' ? 'balance' : 'traded balance'} of ${accountId} in ${asset}: ledger vs ${venue}`,
  }))
}

/** What fills and fees on `venue` moved in the account, per asset (from its positions there). */
export function tradingFlows(ledger: LedgerState, accountId: string, venue: string): Map<string, Units> {
  const flows = new Map<string, Units>()
  const add = (asset: string, amount: Units): void => void flows.set(asset, (flows.get(asset) ?? 0n) + amount)
  for (const position of ledger.positions.values()) {
    if (position.accountId !== accountId || position.venue !== venue) continue
    add(position.baseAsset, position.netQty)
    // realized − costBasis is exactly the cash the fills moved (see positions.ts).
    add(position.quoteAsset, position.realizedPnl - position.costBasis)
    for (const [asset, fee] of position.fees) add(asset, -fee)
  }
  return flows
}

/**
 * `notDone`: the account's orders on this venue that were not done when the run started. From the venue's answer on,
 * the comparison runs at once, with nothing in between (a fill or an ack applied during a pause would otherwise be
 * compared with an answer older than itself); an order the venue names is looked up among all the held orders then.
 */
async function openOrders(adapter: VenueAdapter, ledger: LedgerState, notDone: readonly TrackedOrder[], accountId: string, ask: VenueAsk): Promise<Observation[] | string> {
  const venue = adapter.venue
  const answer = await ask(adapter.openOrders(accountId), 'openOrders')
  if (answer.kind !== 'ok') return `openOrders: ${notAnswered(answer)}`
  const found: Observation[] = []
  const seen = new Set<string>()
  for (const venueOrder of answer.value) {
    const order = heldOrderOf(ledger.orders, venue, accountId, venueOrder.clientOrderId)
    if (order === undefined) {
      // Keyed by the account too: a venue's client ids are unique per account only, and two accounts' orders under one
      // id were one break, shown to one account only, that the other's order kept open after the first's had gone.
      found.push(openBreak(venue, `${FOREIGN_ORDER_SEGMENT}:${accountId}:${venueOrder.clientOrderId}`, 'an order open at the venue that egress does not hold', 'absent', describe(venueOrder)))
      continue
    }
    seen.add(order.orderId)
    if (TERMINAL.has(order.status)) found.push(openBreak(venue, order.orderId, `order ${order.orderId} open at the venue, done in egress`, order.status, describe(venueOrder)))
    else if (venueOrder.cumQty !== order.cumQty) found.push(openBreak(venue, `${order.orderId}:cum_qty`, `filled quantity of ${order.orderId}`, formatDecimal(order.cumQty), formatDecimal(venueOrder.cumQty)))
  }
  for (const order of notDone) {
    if (seen.has(order.orderId) || !SETTLED_OPEN.has(order.status)) continue
    seen.add(order.orderId)
    found.push(openBreak(venue, order.orderId, `order ${order.orderId} open in egress, not open at the venue`, order.status, 'not open'))
  }
  return found
}

/** The key segment before an order egress does not hold (`:<account>:<client id>` follow): egress's ids are hex. */
export const FOREIGN_ORDER_SEGMENT = 'foreign'

function openBreak(venue: string, id: string, what: string, expected: string, actual: string): Observation {
  return { key: breakKey(`venue_open_orders:${venue}:${id}`), check: 'venue_open_orders', what, expected, actual }
}

function describe(order: VenueOrder): string {
  return `${order.status} ${order.side} ${formatDecimal(order.cumQty)}/${formatDecimal(order.qty)} as ${order.clientOrderId}`
}

