/**
 * The GET /v1/orders cursor (src/http/order-list/cursor.ts) over seeded random histories: orders accepted and retired
 * (deleted from the Map, the cursor's own order among them), states changed, readers of every account or of some,
 * account/state/symbol filters and few reads per page. The reference is a list of every order ever accepted, in
 * order: a page from a cursor lists the held orders after the one the cursor stopped at, whether or not that one
 * is still held.
 *
 * - Each page lists exactly the reference's next matches; its cursor skips none and repeats none (the reference from
 *   the new cursor is the rest of the reference from the old one) and stops at an order the reader may read.
 * - A walk without a state or symbol filter visits every order held from its start to its end exactly once, in order.
 * - A cursor passed to a reader of another account answers 400 VALIDATION_FAILED; made-up ones (a seal that does not
 *   verify) too, whatever order they name — never 410.
 * - After the index is rebuilt (it lost track of the Map) or the process restarts (a new index, the same secret): a
 *   cursor whose order is held goes on after it exactly; one whose order retired answers 410 CURSOR_NOT_RETAINED (400
 *   for a reader who may not read it, or when the log does not know the order).
 */

import { expect, test } from 'bun:test'
import { GenerationalMap } from '../../src/domain/generational-map.ts'
import type { Order } from '../../src/domain/orders.ts'
import type { OrderState } from '../../src/domain/states.ts'
import { ApiError } from '../../src/http/errors.ts'
import { OrderCursors, type CursorReader } from '../../src/http/order-list/cursor.ts'
import { OrderListIndex } from '../../src/http/order-list/index-of-orders.ts'
import { orderPage } from '../../src/http/order-list/page.ts'
import { prng } from '../wal/support.ts'

/** The gateway's cursor secret: kept across restarts (the data dir's auth/cursor.secret), so one for every index here. */
const CURSOR_SECRET = 'order-list-cursor-spec-secret'

const ACCOUNTS = ['a1', 'a2', 'a3', 'a4', 'a5']
const SYMBOLS = ['BTC-USD', 'ETH-USD', 'SOL-USD']
const STATES: OrderState[] = ['Enqueued', 'AckedOpen', 'Filled', 'Canceled', 'Expired']

function pick<T>(next: () => number, items: readonly T[]): T {
  return items[Math.floor(next() * items.length)] as T
}

interface Query {
  reader: CursorReader
  account?: string
  state?: OrderState
  symbol?: string
  limit: number
  examinedMax: number
}

interface Walk {
  query: Query
  cursor: string
  /** Orders held when the walk started, and what it visited so far. */
  heldAtStart: Set<string>
  visited: string[]
}

const reads = (reader: CursorReader, accountId: string): boolean => reader.readsEvery || reader.accounts.includes(accountId)

function randomQuery(next: () => number): Query {
  const readsEvery = next() < 0.3
  const reader: CursorReader = { readsEvery, accounts: readsEvery ? [] : ACCOUNTS.filter(() => next() < 0.4) }
  const query: Query = { reader, limit: 1 + Math.floor(next() * 6), examinedMax: 0 }
  query.examinedMax = query.limit + 1 + Math.floor(next() * (next() < 0.5 ? 6 : 60))
  if (next() < 0.3) {
    const account = pick(next, ACCOUNTS)
    if (reads(reader, account)) query.account = account
  }
  if (next() < 0.2) query.state = pick(next, STATES)
  if (next() < 0.15) query.symbol = pick(next, SYMBOLS)
  return query
}

function sees(query: Query, order: Order): boolean {
  if (!reads(query.reader, order.accountId)) return false
  return query.account === undefined || order.accountId === query.account
}

function matches(query: Query, order: Order): boolean {
  return sees(query, order) && (query.state === undefined || order.status === query.state) && (query.symbol === undefined || order.symbol === query.symbol)
}

function order(orderId: string, accountId: string, symbol: string, status: OrderState, acceptedAtMs: number): Order {
  return { orderId, accountId, symbol, status, acceptedAtMs } as unknown as Order
}

class History {
  readonly orders = new GenerationalMap<string, Order>(null, { generationSizeMin: 8, generationsTarget: 4 })
  /** Every order ever accepted, in acceptance order (the Map's order), held or retired. */
  readonly accepted: Order[] = []
  private readonly positions = new Map<string, number>()
  private nowMs = 1_000
  private made = 0

  constructor(private readonly next: () => number) {}

  add(): void {
    const roll = this.next()
    // Mostly the same millisecond as the order before or later; now and then earlier (a failover onto a clock behind).
    this.nowMs = roll < 0.03 ? this.nowMs - Math.floor(this.next() * 50) : roll < 0.5 ? this.nowMs : this.nowMs + Math.floor(this.next() * 3)
    const id = `o${(this.made++).toString(36).padStart(6, '0')}`
    const added = order(id, pick(this.next, ACCOUNTS), pick(this.next, SYMBOLS), pick(this.next, STATES), this.nowMs)
    this.positions.set(id, this.accepted.length)
    this.accepted.push(added)
    this.orders.set(id, added)
  }

  positionOf(orderId: string): number {
    const position = this.positions.get(orderId)
    if (position === undefined) throw new Error(`${orderId} was never accepted`)
    return position
  }

  /** The account the log would give for an order no longer held (null for one never accepted). */
  accountOf(orderId: string): string | null {
    const position = this.positions.get(orderId)
    return position === undefined ? null : (this.accepted[position] as Order).accountId
  }

  /** What a walk lists after `position` (-1: from the start): the held orders after it that match. */
  reference(query: Query, position: number): string[] {
    return this.accepted
      .slice(position + 1)
      .filter((held) => this.orders.has(held.orderId) && matches(query, held))
      .map((held) => held.orderId)
  }
}

function pageOf(index: OrderListIndex, cursors: OrderCursors, history: History, query: Query, cursor: string | null): { ids: string[]; next: string | null } {
  const afterSeq = cursor === null ? 0 : cursors.afterSeqOf(cursor, query.reader, (orderId) => history.accountOf(orderId))
  const accounts = query.account !== undefined ? [query.account] : query.reader.readsEvery ? 'all' : query.reader.accounts
  const page = orderPage(index, {
    accounts,
    ...(query.state === undefined ? {} : { state: query.state }),
    ...(query.symbol === undefined ? {} : { symbol: query.symbol }),
    limit: query.limit,
    afterSeq,
    examinedMax: query.examinedMax,
  })
  return { ids: page.orders.map((held) => held.orderId), next: page.next === null ? null : cursors.cursorOf(page.next) }
}

const namedBy = (cursor: string): string => cursor.slice(cursor.lastIndexOf('.') + 1)

function errorOf(run: () => unknown): string | null {
  try {
    run()
    return null
  } catch (error) {
    if (error instanceof ApiError) return error.code
    throw error
  }
}

/** One page from `cursor` (null: the first) checked against the reference. */
function checkPage(history: History, index: OrderListIndex, cursors: OrderCursors, query: Query, cursor: string | null, context: string): { ids: string[]; next: string | null } {
  const position = cursor === null ? -1 : history.positionOf(namedBy(cursor))
  const everything = history.reference(query, position)
  const page = pageOf(index, cursors, history, query, cursor)
  expect(page.ids.length, context).toBeLessThanOrEqual(query.limit)
  expect(page.ids, context).toEqual(everything.slice(0, page.ids.length))
  if (page.next === null) {
    expect(page.ids.length, context).toBe(everything.length)
    return page
  }
  const named = namedBy(page.next)
  const held = history.orders.get(named)
  expect(held !== undefined && sees(query, held), context).toBe(true)
  expect(history.positionOf(named), context).toBeGreaterThan(position)
  expect(history.reference(query, history.positionOf(named)), context).toEqual(everything.slice(page.ids.length))
  return page
}

/** The next page of `walk`: the walk with its new cursor, or null once it is over (then checked whole). */
function stepWalk(history: History, index: OrderListIndex, cursors: OrderCursors, walk: Walk, context: string): Walk | null {
  const page = checkPage(history, index, cursors, walk.query, walk.cursor === '' ? null : walk.cursor, `${context}, walk ${JSON.stringify(walk.query)} from ${walk.cursor}`)
  walk.visited.push(...page.ids)
  if (page.next !== null) return { ...walk, cursor: page.next }
  checkWalk(history, walk, context)
  return null
}

/** Walks checked whole, over all seeds. */
let wholeWalksChecked = 0

/** A walk without a state or symbol filter is over: it visited every order held throughout that it sees, once, in order. */
function checkWalk(history: History, walk: Walk, context: string): void {
  if (walk.query.state !== undefined || walk.query.symbol !== undefined) return
  wholeWalksChecked++
  expect(new Set(walk.visited).size, context).toBe(walk.visited.length)
  const positions = walk.visited.map((orderId) => history.positionOf(orderId))
  expect(positions, context).toEqual([...positions].sort((left, right) => left - right))
  const heldThroughout = history.accepted.filter((held) => walk.heldAtStart.has(held.orderId) && history.orders.has(held.orderId) && sees(walk.query, held))
  expect(walk.visited.filter((orderId) => walk.heldAtStart.has(orderId) && history.orders.has(orderId)), context).toEqual(heldThroughout.map((held) => held.orderId))
}

// 60 seeds of 500 steps: about 3.5 s alone, past bun's default 5 s timeout on a loaded machine, hence its own.
test('walks from a cursor list every held order after it once, whatever retired in between, over random histories', () => {
  let pagesAfterRetiredCursor = 0
  let lostAfterRestart = 0
  let heldAfterRestart = 0
  for (let seed = 1; seed <= 60; seed++) {
    const next = prng(seed) // seeded (mulberry32), so a failure names its seed
    const history = new History(next)
    for (let count = Math.floor(next() * 150); count > 0; count--) history.add()
    const lostTrack: unknown[] = []
    let index = new OrderListIndex(history.orders, (error) => lostTrack.push(error))
    let cursors = new OrderCursors(index, CURSOR_SECRET)
    let walks: Walk[] = []
    for (let step = 0; step < 500; step++) {
      const context = `seed ${seed}, step ${step}`
      const roll = next()
      if (roll < 0.3) history.add()
      else if (roll < 0.5 && history.orders.size > 0) {
        // Retirement takes mostly old orders, sometimes any, and often one a walk's cursor stopped at.
        const ids = [...history.orders.keys()]
        const named = walks.map((walk) => namedBy(walk.cursor)).filter((orderId) => history.orders.has(orderId))
        const id = next() < 0.4 && named.length > 0 ? pick(next, named) : (ids[Math.floor(next() < 0.7 ? next() * Math.min(ids.length, 20) : next() * ids.length)] as string)
        history.orders.delete(id)
      } else if (roll < 0.55 && history.orders.size > 0) {
        const held = pick(next, [...history.orders.values()])
        held.status = pick(next, STATES)
      } else if (roll < 0.565) {
        // A restart (a new index and sealer, the data dir's secret) or a rebuild of the index (same key, a new generation): the seals handed
        // out name no position any more; each walk goes on from its order if held, or is told to start again.
        if (next() < 0.5) {
          index.close()
          index = new OrderListIndex(history.orders, (error) => lostTrack.push(error))
          cursors = new OrderCursors(index, CURSOR_SECRET)
        } else {
          const generation = index.generation
          ;(index as unknown as { markStale(error: unknown): void }).markStale(new Error('spec: lost track'))
          expect(index.generation, context).toBe(generation + 1)
        }
        const kept: Walk[] = []
        for (const walk of walks) {
          if (history.orders.has(namedBy(walk.cursor))) {
            const following = stepWalk(history, index, cursors, walk, `${context}, after a restart`)
            if (following !== null) kept.push(following)
            heldAfterRestart++
          } else {
            expect(errorOf(() => pageOf(index, cursors, history, walk.query, walk.cursor)), context).toBe('CURSOR_NOT_RETAINED')
            lostAfterRestart++
          }
        }
        walks = kept
      } else if (roll < 0.62 && walks.length > 0) {
        // A cursor passed to another reader, or made up: usable only by a reader of the order's account.
        const walk = pick(next, walks)
        const other = randomQuery(next)
        const named = namedBy(walk.cursor)
        const account = history.accountOf(named) as string
        const forged = next() >= 0.5
        const made = !forged ? walk.cursor : walk.cursor.replace(/^v2\.[\w-]{70}/, `v2.${Buffer.from(Array.from({ length: 52 }, () => Math.floor(next() * 256))).toString('base64url')}`)
        expect(made !== walk.cursor, context).toBe(forged)
        // A seal that does not verify is made up, whatever order it names: 400, never 410.
        const expected = made !== walk.cursor || !reads(other.reader, account) ? 'VALIDATION_FAILED' : null
        expect(errorOf(() => pageOf(index, cursors, history, other, made)), `${context}, ${made} for ${JSON.stringify(other.reader)}`).toBe(expected)
        expect(errorOf(() => pageOf(index, cursors, history, other, `v1.${'A'.repeat(22)}.zz${named}`)), context).toBe('VALIDATION_FAILED')
        // The format before, whose seal nothing can check: read as its order id, after it while held and readable, else 400.
        const old = `v1.${'A'.repeat(22)}.${named}`
        expect(errorOf(() => pageOf(index, cursors, history, other, old)), context).toBe(history.orders.has(named) && reads(other.reader, account) ? null : 'VALIDATION_FAILED')
      } else {
        // A page: the next one of a walk, or the first of a new one.
        const resumed = walks.length > 0 && next() < 0.75
        const walk = resumed ? (walks.splice(Math.floor(next() * walks.length), 1)[0] as Walk) : { query: randomQuery(next), cursor: '', heldAtStart: new Set(history.orders.keys()), visited: [] }
        if (resumed && !history.orders.has(namedBy(walk.cursor))) pagesAfterRetiredCursor++
        const following = stepWalk(history, index, cursors, walk, context)
        if (following !== null) walks.push(following)
      }
      expect(index.size, context).toBe(history.orders.size)
    }
    // The index lost track of the Map only when the spec said so.
    expect(lostTrack.filter((error) => !(error instanceof Error && error.message === 'spec: lost track')), `seed ${seed}`).toEqual([])
    index.close()
  }
  // The histories did what they are for.
  expect(pagesAfterRetiredCursor).toBeGreaterThan(500)
  expect(lostAfterRestart).toBeGreaterThan(10)
  expect(heldAfterRestart).toBeGreaterThan(10)
  expect(wholeWalksChecked).toBeGreaterThan(100)
}, 60_000)
