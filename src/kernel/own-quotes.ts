/**
 * The own-quotes index: per account and venue×symbol, the account's open orders on each side, nearest to the other
 * side first — what self-trade prevention (intake/self-trade.ts) reads to tell, in O(1), whether a new order or an
 * amend's new terms would cross one of the account's own orders. Keeping it beside the orders makes the check cost the
 * same whatever the number of orders the kernel holds (a scan of them would be O(orders) per order on the hot path).
 *
 * Derived, never stored (as the lanes' work index, work-index.ts): built from `state.orders` the first time a state is
 * asked, then kept in step by apply (noteOwnQuote, for every event about an order). It lives in a WeakMap keyed by
 * the state's orders map, so snapshots, clones and the log never see it: a restored state builds it again from its
 * orders, and a decision reads the same whether its state was replayed from genesis, restored from a snapshot or
 * followed live. Keyed by the orders map rather than the state: an OCO list's leg view (order-lists/leg-view.ts)
 * shares the state's orders, so it shares its index too, and adds its first leg through `withPendingLeg`.
 *
 * What an order quotes: nothing once it is terminal; otherwise its side and the most aggressive price it may trade at
 * — its limit, or while an amend is asked or at the venue the more aggressive of its limit and the amend's (the venue
 * may hold either), or, for a market order, any price (null). "Open" is every state that is not terminal: queued,
 * in flight, resting, with a cancel asked or pending, Unknown — each may still trade.
 *
 * Order within a side: a market order first, then the nearest price (a buy's highest, a sell's lowest), then the order
 * id — a total order that does not depend on when an order joined, so the nearest one (the one a refusal names) is the
 * same on every replay. Each side is an array kept sorted by binary search: insert and remove move at most the
 * account's open orders on that instrument (bounded by its policy's maxOpenOrders), the lookup is O(1). A build fills
 * each side unsorted and sorts it once (O(n log n) for the orders held, once per state).
 */

import { assert } from '../domain/assert.ts'
import type { Units } from '../domain/decimal.ts'
import type { Order, Side } from '../domain/orders.ts'
import { isTerminal } from '../domain/states.ts'
import { orderInstrumentKey } from './in-flight.ts'
import type { KernelState } from './state.ts'

/** One open order as the index holds it: price null is a market order (it trades at any price). */
export interface OwnQuote {
  readonly orderId: string
  readonly side: Side
  readonly price: Units | null
}

interface Book {
  readonly buy: OwnQuote[]
  readonly sell: OwnQuote[]
}

interface Held {
  readonly books: Map<string, Book>
  readonly key: string
  readonly book: Book
  readonly quote: OwnQuote
}

class OwnQuotes {
  /** account → instrument key → book. */
  private readonly byAccount = new Map<string, Map<string, Book>>()
  /** order id → where its quote is and what it is. */
  private readonly held = new Map<string, Held>()

  /**
   * Each side is filled in the orders' order and sorted once: inserted one by one at its place, a side of n orders
   * moved O(n²) entries — 100,000 open orders of one account on one side took 0.4 s, 300,000 took 1.9 s, in the
   * first decision after a restore, with the event loop held.
   */
  static build(orders: Iterable<Order>): OwnQuotes {
    const index = new OwnQuotes()
    for (const order of orders) {
      const price = isTerminal(order.status) ? undefined : quotedPrice(order)
      if (price !== undefined) index.add(order, price, false)
    }
    for (const books of index.byAccount.values()) {
      for (const book of books.values()) {
        book.buy.sort(compare)
        book.sell.sort(compare)
      }
    }
    return index
  }

  /** The order's quote as it is now: added, moved or removed (nothing when it did not change). */
  note(order: Order): void {
    const before = this.held.get(order.orderId)
    const price = isTerminal(order.status) ? undefined : quotedPrice(order)
    if (before !== undefined) {
      if (price !== undefined && before.quote.price === price) return
      this.remove(before)
    }
    if (price !== undefined) this.add(order, price, true)
  }

  /** Every non-empty side, keyed "account instrument side", nearest first (for the specs: ownQuoteSides). */
  sides(): Map<string, readonly OwnQuote[]> {
    const sides = new Map<string, readonly OwnQuote[]>()
    for (const [accountId, books] of this.byAccount) {
      for (const [key, book] of books) {
        for (const side of ['buy', 'sell'] as const) if (book[side].length > 0) sides.set(`${accountId} ${key} ${side}`, book[side])
      }
    }
    return sides
  }

  /** Adds the order's quote: at its place (`sorted`), or last (a build, which sorts each side once at the end). */
  private add(order: Order, price: Units | null, sorted: boolean): void {
    let books = this.byAccount.get(order.accountId)
    if (books === undefined) {
      books = new Map()
      this.byAccount.set(order.accountId, books)
    }
    const key = orderInstrumentKey(order)
    let book = books.get(key)
    if (book === undefined) {
      book = { buy: [], sell: [] }
      books.set(key, book)
    }
    const quote: OwnQuote = { orderId: order.orderId, side: order.side, price }
    const side = book[order.side]
    if (sorted) side.splice(positionOf(side, quote), 0, quote)
    else side.push(quote)
    this.held.set(order.orderId, { books, key, book, quote })
  }

  /** The account's open order on `side` of the instrument nearest to the other side, or null. */
  nearest(accountId: string, key: string, side: Side): OwnQuote | null {
    return this.byAccount.get(accountId)?.get(key)?.[side][0] ?? null
  }

  private remove(held: Held): void {
    const { quote, book } = held
    this.held.delete(quote.orderId)
    const side = book[quote.side]
    const at = positionOf(side, quote)
    if (side[at] !== quote) assert(false, `own-quotes index lost order ${quote.orderId}`)
    side.splice(at, 1)
    if (book.buy.length === 0 && book.sell.length === 0) held.books.delete(held.key)
  }
}

/** The most aggressive price the open order may trade at (see the file header); null for a market order. */
function quotedPrice(order: Order): Units | null {
  const price = order.price
  if (price === null) return null
  const amend = order.amend
  if (amend === null || amend.stage === 'failed' || amend.price === null) return price
  if (order.side === 'buy') return amend.price > price ? amend.price : price
  return amend.price < price ? amend.price : price
}

/** Negative when `a` comes first on its side: a market order, then the nearest price, then the lower order id. */
function compare(a: OwnQuote, b: OwnQuote): number {
  if (a.price !== b.price) {
    if (a.price === null) return -1
    if (b.price === null) return 1
    const nearer = a.side === 'buy' ? a.price > b.price : a.price < b.price
    return nearer ? -1 : 1
  }
  return a.orderId < b.orderId ? -1 : a.orderId > b.orderId ? 1 : 0
}

/** The first position whose quote does not come before `quote`. */
function positionOf(side: readonly OwnQuote[], quote: OwnQuote): number {
  let low = 0
  let high = side.length
  while (low < high) {
    const middle = (low + high) >>> 1
    if (compare(side[middle] as OwnQuote, quote) < 0) low = middle + 1
    else high = middle
  }
  return low
}

const indexes = new WeakMap<KernelState['orders'], OwnQuotes>()

function indexOf(state: KernelState): OwnQuotes {
  let index = indexes.get(state.orders)
  if (index === undefined) {
    index = OwnQuotes.build(state.orders.values())
    indexes.set(state.orders, index)
  }
  return index
}

/**
 * For the specs: every non-empty side the state's index holds, keyed "account instrument side", nearest first; null
 * when nothing has been decided on the state yet (no index built).
 */
export function ownQuoteSides(state: KernelState): Map<string, readonly OwnQuote[]> | null {
  return indexes.get(state.orders)?.sides() ?? null
}

/** apply: an order was accepted or an event about it applied (nothing to do for a state no one decided on yet). */
export function noteOwnQuote(state: KernelState, order: Order): void {
  indexes.get(state.orders)?.note(order)
}

/** A leg decided in the same decision but not applied (an OCO list's first leg, order-lists/leg-view.ts). */
export interface PendingLeg {
  readonly orderId: string
  readonly accountId: string
  readonly instrumentKey: string
  readonly side: Side
  readonly price: Units | null
}

const pendingLegs = new WeakMap<KernelState, PendingLeg>()

/** The leg view `view` holds `leg` as if it were accepted: self-trade prevention sees it as an open order. */
export function withPendingLeg(view: KernelState, leg: PendingLeg): KernelState {
  pendingLegs.set(view, leg)
  return view
}

/**
 * The account's open order on the side opposite `side` of the instrument nearest to crossing an order on `side`:
 * for a buy its lowest sell (a market sell first), for a sell its highest buy. Null when it has none.
 */
export function nearestOwnOpposite(state: KernelState, input: { accountId: string; instrumentKey: string; side: Side }): OwnQuote | null {
  const opposite: Side = input.side === 'buy' ? 'sell' : 'buy'
  const nearest = indexOf(state).nearest(input.accountId, input.instrumentKey, opposite)
  const leg = pendingLegs.get(state)
  if (leg === undefined || leg.accountId !== input.accountId || leg.instrumentKey !== input.instrumentKey || leg.side !== opposite) return nearest
  const legQuote: OwnQuote = { orderId: leg.orderId, side: leg.side, price: leg.price }
  return nearest === null || compare(legQuote, nearest) < 0 ? legQuote : nearest
}
