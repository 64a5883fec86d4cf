/**
 * The ledger's state (LedgerState), the records it books (postings, fill records) and what folding one event books
 * (Booked), with the empty ledger a fold starts from. The fold is ledger.ts; the chart of books and how an entry is
 * booked to them, books.ts.
 */

import type { Units } from '../domain/decimal.ts'
import { GenerationalMap } from '../domain/generational-map.ts'
import type { TrackedOrder } from './orders.ts'
import type { Position } from './positions.ts'
import type { LedgerRetention } from './retention.ts'
import type { TrueUpFill } from './true-up-fills.ts'

export type PostingKind = 'funding' | 'trade_base' | 'trade_quote' | 'fee'

export interface Posting {
  /** The record the posting came from: its entry id. */
  lsn: number
  /** Position within the entry (0, 1, …): `lsn.seq` orders postings totally. */
  seq: number
  book: string
  /** The trading account a posting concerns (on either side), for filtering. */
  accountId: string
  asset: string
  /** Signed: positive adds to the book's holding of `asset`. */
  amount: Units
  kind: PostingKind
  /** What caused it: the fill's execution id or the funding reference. */
  ref: string
  atMs: number
}

export type Liquidity = 'maker' | 'taker'

export interface FillRecord {
  lsn: number
  execId: string
  orderId: string
  accountId: string
  venue: string
  symbol: string
  side: 'buy' | 'sell'
  qty: Units
  price: Units
  fee: Units
  feeAsset: string
  liquidity: Liquidity | null
  synthetic: boolean
  /** The cash the account paid (negative) or received (positive), in the quote asset, as booked. */
  cash: Units
  venueTimeMs: number
  atMs: number
}

export interface LedgerCounters {
  entries: number
  postings: number
  fills: number
  fundings: number
  /** Ended orders retired from `orders` (retention.ts). */
  retiredOrders: number
  /** Fills of an order the ledger had already retired: counted, not booked (retention.ts says when that can happen). */
  unbookedFills: number
}

export interface LedgerState {
  /** The LSN of the last event applied (0 before any). */
  lastLsn: number
  /** Book → asset → balance. Across all books, every asset sums to zero. */
  books: Map<string, Map<string, Units>>
  positions: Map<string, Position>
  /** Open orders, and ended ones until retention.ts retires them. */
  orders: Map<string, TrackedOrder>
  /** The held orders that ended, in the order they ended: order id → atMs of the event that ended it. */
  endedOrders: Map<string, number>
  /** How many ended orders are kept and for how long (from the recorded kernel configuration; null: all of them). */
  retention: LedgerRetention | null
  /**
   * The recorded kernel configuration's takerFeeBps: what a sell's synthetic fill holds for its fee
   * (synthetic-fee-hold.ts); null before a kernel.configured. A section written before it was kept reads the running
   * kernel's (section.ts).
   */
  takerFeeBps: number | null
  /**
   * The hold rule the log adopted (kernel.hold_rule_adopted, src/kernel/reservations.ts HOLD_RULE_SYNTHETIC), null
   * before any: only a synthetic fill applied after it holds for its true-up, as in the kernel. A section written
   * before it was kept has none (section.ts).
   */
  holdRule: number | null
  /** The latest end time among the orders retired (0 before any). */
  retiredThroughAtMs: number
  /** Venue → every account that placed an order there → how many (reconcile checks each, retired orders or not). */
  venueAccounts: Map<string, Map<string, number>>
  /** Account → asset → held by open orders (from the back office's own reservation rules). */
  reserved: Map<string, Map<string, Units>>
  /** Liquidity flags of fill reports seen but not yet booked, by execution id (bounded). */
  pendingLiquidity: Map<string, Liquidity>
  /**
   * Synthetic quantity booked through this LSN has no lot (positions.ts splits its true-up by the rule before lots):
   * the LSN of the version 1 or 2 back-office section this ledger continues (section.ts), or of the store it keeps
   * when a build before lots wrote it that far (projector-start.ts, Store.lotsUntrackedThroughLsn); 0 for a ledger
   * that kept lots from genesis. A fold from genesis repeats that build exactly when it starts with the same value: applyEvent
   * notes no lot for `order.synthetic_pending` at or below it (projector.ts replayBaseLedger, genesisLedger).
   */
  lotsUntrackedThroughLsn: number
  counters: LedgerCounters
}

export interface Booked {
  postings: Posting[]
  fill: FillRecord | null
  /** The position an entry without a fill record changed (a true-up); a fill's is found from its record. */
  position?: Position
  /** A true-up's real execution, as the query model lists it (true-up-fills.ts). */
  trueUpFill?: TrueUpFill
}

export function initialLedger(): LedgerState {
  return {
    lastLsn: 0,
    books: new Map(),
    positions: new Map(),
    orders: new GenerationalMap(),
    endedOrders: new GenerationalMap(),
    retention: null,
    takerFeeBps: null,
    holdRule: null,
    retiredThroughAtMs: 0,
    venueAccounts: new Map(),
    reserved: new Map(),
    pendingLiquidity: new Map(),
    lotsUntrackedThroughLsn: 0,
    counters: { entries: 0, postings: 0, fills: 0, fundings: 0, retiredOrders: 0, unbookedFills: 0 },
  }
}

/**
 * The ledger before the log's first record, for a fold meant to repeat a ledger that continues a section written
 * before synthetic lots: no lot for synthetic quantity booked through `lotsUntrackedThroughLsn` (0: lots throughout).
 */
export function genesisLedger(lotsUntrackedThroughLsn: number): LedgerState {
  return { ...initialLedger(), lotsUntrackedThroughLsn }
}
