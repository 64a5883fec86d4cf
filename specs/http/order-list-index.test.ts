/**
 * GET /v1/orders pages from an index kept beside state.orders (src/http/order-list/) instead of walking the Map from
 * its start. Over seeded random histories — orders accepted, retired (deleted from the Map), re-set, their states
 * changed, between pages — every page is compared with a reference: the walk of the Map the route did before.
 *
 * - A page lists exactly the reference's next matches, in order; its cursor skips none and repeats none (the
 *   reference from the new cursor is the rest of the reference from the old), and is an order the reader may read.
 * - When the reads did not run out (examinedMax not reached by the old walk), the page and cursor are the old ones,
 *   to the byte.
 * - The index holds exactly the Map's orders, and fewer dead entries than live ones (retirement frees them).
 */

import { expect, test } from 'bun:test'
import { GenerationalMap } from '../../src/domain/generational-map.ts'
import type { Order } from '../../src/domain/orders.ts'
import type { OrderState } from '../../src/domain/states.ts'
import { OrderListIndex } from '../../src/http/order-list/index-of-orders.ts'
import { orderPage } from '../../src/http/order-list/page.ts'
import { prng } from '../wal/support.ts'

const ACCOUNTS = ['a1', 'a2', 'a3', 'a4', 'a5']
const SYMBOLS = ['BTC-USD', 'ETH-USD', 'SOL-USD']
const STATES: OrderState[] = ['Enqueued', 'AckedOpen', 'Filled', 'Canceled', 'Expired']

interface Reader {
  /** null: reads every account. */
  accounts: string[] | null
}

interface Query {
  reader: Reader
  account?: string
  state?: OrderState
  symbol?: string
  limit: number
  examinedMax: number
}

const readable = (reader: Reader, accountId: string): boolean => reader.accounts === null || reader.accounts.includes(accountId)

/** What the route did before: walk the Map from its start to the cursor, then on until the page and one more match. */
function referencePage(orders: Map<string, Order>, query: Query, cursor: string | null, limit: number): { ids: string[]; next: string | null; examined: number } {
  let started = cursor === null
  const ids: string[] = []
  let more = false
  let examined = 0
  for (const order of orders.values()) {
    if (!started) {
      started = order.orderId === cursor
      continue
    }
    if (!readable(query.reader, order.accountId)) continue
    if (query.account !== undefined && order.accountId !== query.account) continue
    examined++
    if (query.state !== undefined && order.status !== query.state) continue
    if (query.symbol !== undefined && order.symbol !== query.symbol) continue
    if (ids.length === limit) {
      more = true
      break
    }
    ids.push(order.orderId)
  }
  return { ids, next: more ? (ids.at(-1) as string) : null, examined }
}

function newPage(index: OrderListIndex, query: Query, cursor: string | null): { ids: string[]; next: string | null } {
  const after = cursor === null ? null : index.entryOf(cursor)
  if (after === undefined) throw new Error(`cursor ${cursor} is not held`)
  const accounts = query.account !== undefined ? [query.account] : query.reader.accounts === null ? 'all' : query.reader.accounts
  const page = orderPage(index, {
    accounts,
    ...(query.state === undefined ? {} : { state: query.state }),
    ...(query.symbol === undefined ? {} : { symbol: query.symbol }),
    limit: query.limit,
    afterSeq: after?.seq ?? 0,
    examinedMax: query.examinedMax,
  })
  return { ids: page.orders.map((order) => order.orderId), next: page.next?.order.orderId ?? null }
}

function order(orderId: string, accountId: string, symbol: string, status: OrderState, acceptedAtMs: number): Order {
  return { orderId, accountId, symbol, status, acceptedAtMs } as unknown as Order
}

function pick<T>(next: () => number, items: readonly T[]): T {
  return items[Math.floor(next() * items.length)] as T
}

function randomQuery(next: () => number): Query {
  const reader: Reader = next() < 0.3 ? { accounts: null } : { accounts: ACCOUNTS.filter(() => next() < 0.4) }
  const query: Query = { reader, limit: 1 + Math.floor(next() * 12), examinedMax: 0 }
  query.examinedMax = query.limit + 1 + Math.floor(next() * (next() < 0.5 ? 8 : 200))
  // An account filter only for an account the reader may read (the route answers FORBIDDEN otherwise).
  if (next() < 0.3) {
    const account = pick(next, ACCOUNTS)
    if (readable(reader, account)) query.account = account
  }
  if (next() < 0.35) query.state = pick(next, STATES)
  if (next() < 0.25) query.symbol = pick(next, SYMBOLS)
  return query
}

function checkPage(orders: Map<string, Order>, index: OrderListIndex, query: Query, cursor: string | null, seed: number): string | null {
  const context = `seed ${seed}, query ${JSON.stringify(query)}, cursor ${cursor}`
  const everything = referencePage(orders, query, cursor, Number.MAX_SAFE_INTEGER).ids
  const page = newPage(index, query, cursor)
  expect(page.ids.length, context).toBeLessThanOrEqual(query.limit)
  expect(page.ids, context).toEqual(everything.slice(0, page.ids.length))
  if (page.next === null) {
    expect(page.ids.length, context).toBe(everything.length)
  } else {
    const held = orders.get(page.next)
    expect(held !== undefined && readable(query.reader, held.accountId), context).toBe(true)
    if (query.account !== undefined) expect(held?.accountId, context).toBe(query.account)
    expect(referencePage(orders, query, page.next, Number.MAX_SAFE_INTEGER).ids, context).toEqual(everything.slice(page.ids.length))
    // It moved on: the cursor is after the one asked from.
    const ids = [...orders.keys()]
    expect(ids.indexOf(page.next), context).toBeGreaterThan(cursor === null ? -1 : ids.indexOf(cursor))
  }
  const old = referencePage(orders, query, cursor, query.limit)
  if (old.examined <= query.examinedMax) expect(page, context).toEqual({ ids: old.ids, next: old.next })
  return page.next
}

function checkIndexHoldsTheMap(orders: Map<string, Order>, index: OrderListIndex, seed: number): void {
  expect(index.size, `seed ${seed}`).toBe(orders.size)
  expect(index.deadHeld, `seed ${seed}`).toBeLessThanOrEqual(index.size)
}

test('pages from the index equal the walk of the Map, over random histories with retirements and orders added between pages', () => {
  for (let seed = 1; seed <= 60; seed++) {
    const next = prng(seed) // seeded (mulberry32), so a failure names its seed
    const orders = new GenerationalMap<string, Order>(null, { generationSizeMin: 8, generationsTarget: 4 })
    let made = 0
    const retired: Order[] = []
    // Acceptance times: mostly the same millisecond as the one before or later; now and then earlier (a restart or a
    // failover onto a clock behind), which the index must find orders across.
    let nowMs = 1_000
    const add = (): void => {
      const roll = next()
      nowMs = roll < 0.03 ? nowMs - Math.floor(next() * 50) : roll < 0.5 ? nowMs : nowMs + Math.floor(next() * 3)
      const id = `o${(made++).toString(36).padStart(6, '0')}`
      orders.set(id, order(id, pick(next, ACCOUNTS), pick(next, SYMBOLS), pick(next, STATES), nowMs))
    }
    // Some orders before the index is built (a restart), the rest while it follows the Map.
    for (let count = Math.floor(next() * 200); count > 0; count--) add()
    // The index rebuilds itself if it ever loses track of the Map; here it must never need to.
    const lostTrack: unknown[] = []
    const index = new OrderListIndex(orders, (error) => lostTrack.push(error))
    const cursors = new Map<Query, string | null>()
    for (let step = 0; step < 400; step++) {
      const roll = next()
      if (roll < 0.35) add()
      else if (roll < 0.55 && orders.size > 0) {
        // Retirement takes mostly old orders, sometimes any.
        const ids = [...orders.keys()]
        const id = ids[Math.floor(next() < 0.7 ? next() * Math.min(ids.length, 20) : next() * ids.length)] as string
        retired.push(orders.get(id) as Order)
        orders.delete(id)
      } else if (roll < 0.6 && retired.length > 0) {
        // A key deleted and set again goes last, in the Map and in the index.
        const again = retired.splice(Math.floor(next() * retired.length), 1)[0] as Order
        orders.set(again.orderId, order(again.orderId, again.accountId, again.symbol, pick(next, STATES), again.acceptedAtMs))
      } else if (roll < 0.68 && orders.size > 0) {
        const held = pick(next, [...orders.values()])
        held.status = pick(next, STATES)
      } else if (roll < 0.7 && orders.size > 0) {
        // Set again with a new value: it keeps its place.
        const held = pick(next, [...orders.values()])
        orders.set(held.orderId, order(held.orderId, held.accountId, held.symbol, pick(next, STATES), held.acceptedAtMs))
      } else {
        // A page: a new query, or the next page of one already being read (if its cursor is still held).
        const reading = [...cursors.entries()].filter(([, cursor]) => cursor !== null && orders.has(cursor))
        const [query, cursor] = reading.length > 0 && next() < 0.7 ? pick(next, reading) : [randomQuery(next), null]
        cursors.delete(query)
        const following = checkPage(orders, index, query, cursor, seed)
        if (following !== null) cursors.set(query, following)
      }
      checkIndexHoldsTheMap(orders, index, seed)
      expect(lostTrack, `seed ${seed}`).toEqual([])
      const gone = retired.at(-1)
      if (gone !== undefined && !orders.has(gone.orderId)) expect(index.entryOf(gone.orderId)).toBeUndefined()
    }
    expect(lostTrack, `seed ${seed}`).toEqual([])
    index.close()
  }
})

test('a retired order leaves the index (its memory freed once its chunk compacts), and a closed index no longer follows', () => {
  const orders = new GenerationalMap<string, Order>()
  const lostTrack: unknown[] = []
  const index = new OrderListIndex(orders, (error) => lostTrack.push(error))
  for (let made = 0; made < 5_000; made++) orders.set(`o${made}`, order(`o${made}`, ACCOUNTS[made % 5] as string, 'BTC-USD', 'Filled', made >> 3))
  for (let made = 0; made < 4_900; made++) orders.delete(`o${made}`)
  expect(index.size).toBe(100)
  expect(index.entryOf('o0')).toBeUndefined()
  expect(index.deadHeld).toBeLessThan(100)
  const page = orderPage(index, { accounts: 'all', limit: 1000, afterSeq: 0, examinedMax: 1001 })
  expect(page.orders.map((held) => held.orderId)).toEqual(Array.from({ length: 100 }, (_, offset) => `o${4_900 + offset}`))
  index.close()
  orders.set('later', order('later', 'a1', 'BTC-USD', 'Filled', 10_000))
  expect(index.size).toBe(100)
  expect(lostTrack).toEqual([])
})
