/**
 * One page of `GET /v1/orders` from the order list index (index-of-orders.ts): the orders after the cursor, in the
 * Map's order, of the accounts the reader sees, matching the filters. What a page costs is bounded by the entries it
 * may read (`examinedMax`), not by the orders held: it walks one account's list, a merge of the reader's accounts'
 * lists, or (for a reader of every account without an account filter) the whole list, from the cursor on.
 *
 * Where the next page starts (`next`, which the route hands out as next_cursor, cursor.ts): the last order returned
 * when another match follows it (as before); null once the walk reached the end; and, when the reads ran out first
 * (a state or symbol filter that matches little), the last order read — so a short page, even an empty one, may say
 * to read on (the back-office lists filter in SQL and read only the reader's accounts, so theirs never do). Every order a walk reads is of an account the reader may read, so a
 * cursor never names an order the reader could not be shown. A page starts after a seq, not after an order: the
 * order the previous page stopped at may have retired since, and its seq still says where it stood.
 */

import type { OrderState } from '../../domain/states.ts'
import type { Order } from '../../domain/orders.ts'
import { MinHeap } from '../../kernel/min-heap.ts'
import type { OrderEntry, OrderListIndex } from './index-of-orders.ts'
import type { SeqWalk } from './seq-list.ts'

export interface OrderPageQuery {
  /** Whose orders: every account's, or these (the ones the reader may read, the filter applied). */
  accounts: 'all' | readonly string[]
  state?: OrderState
  symbol?: string
  limit: number
  /** The seq the walk starts after (the cursor's position, already checked readable); 0 from the start. */
  afterSeq: number
  /** Orders read at most, matching or not (at least limit + 1). */
  examinedMax: number
}

export interface OrderPage {
  orders: Order[]
  /** The entry the next page starts after, or null at the end. */
  next: OrderEntry | null
}

export function orderPage(index: OrderListIndex, query: OrderPageQuery): OrderPage {
  const next = entrySource(index, query.accounts, query.afterSeq)
  const page: Order[] = []
  let examined = 0
  let last: OrderEntry | null = null
  let lastReturned: OrderEntry | null = null
  for (;;) {
    const entry = next()
    if (entry === null) return { orders: page, next: null }
    // Out of reads: the cursor is the last order read. A list that ends right there still ends (null), as before.
    if (examined === query.examinedMax) return { orders: page, next: last }
    examined++
    const order = entry.order
    if (query.state !== undefined && order.status !== query.state) {
      last = entry
      continue
    }
    if (query.symbol !== undefined && order.symbol !== query.symbol) {
      last = entry
      continue
    }
    if (page.length === query.limit) return { orders: page, next: lastReturned }
    page.push(order)
    last = entry
    lastReturned = entry
  }
}

type EntrySource = () => OrderEntry | null

const NONE: EntrySource = () => null

function entrySource(index: OrderListIndex, accounts: 'all' | readonly string[], afterSeq: number): EntrySource {
  if (accounts === 'all') return walkSource(index.walkAll(afterSeq))
  const walks: SeqWalk<OrderEntry>[] = []
  for (const accountId of new Set(accounts)) {
    const walk = index.walkAccount(accountId, afterSeq)
    if (walk !== null) walks.push(walk)
  }
  if (walks.length === 0) return NONE
  if (walks.length === 1) return walkSource(walks[0] as SeqWalk<OrderEntry>)
  return mergeSource(walks)
}

function walkSource(walk: SeqWalk<OrderEntry>): EntrySource {
  return () => walk.next()
}

/** The accounts' walks merged by seq (one account's orders never share a seq with another's). */
function mergeSource(walks: SeqWalk<OrderEntry>[]): EntrySource {
  const heads = new MinHeap<{ entry: OrderEntry; walk: SeqWalk<OrderEntry> }>()
  for (const walk of walks) {
    const entry = walk.next()
    if (entry !== null) heads.push(entry.seq, { entry, walk })
  }
  return () => {
    const head = heads.pop()
    if (head === undefined) return null
    const following = head.walk.next()
    if (following !== null) heads.push(following.seq, { entry: following, walk: head.walk })
    return head.entry
  }
}
