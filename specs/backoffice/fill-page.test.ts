/**
 * A page of `GET /v1/fills` (src/backoffice/fill-list.ts fillPage) reads which synthetic fills were superseded once for
 * the whole page, in one statement over every order on it: not two indexed queries per order per read. And a page reads
 * the rows of the accounts its reader may read only, so nothing about it (its cursor, whether it has one) tells of
 * other accounts' rows. Counted as the statements the store
 * prepares (bun:sqlite `Database.query`) while the page is read.
 */
import { afterEach, describe, expect, spyOn, test } from 'bun:test'
import { Database } from 'bun:sqlite'
import { fillList, fillPage } from '../../src/backoffice/fill-list.ts'
import type { FillRecord } from '../../src/backoffice/ledger-state.ts'
import { Store } from '../../src/backoffice/store.ts'
import { parseDecimal } from '../../src/domain/decimal.ts'

const d = parseDecimal
const ORDERS = 20

/** Per order (accounts a0 and a1 in turn): a synthetic fill of 0.02 at 120, then a real execution repricing 0.01 of it. */
function storeOfOrders(): Store {
  const fills: FillRecord[] = []
  const trueUpFills: Omit<FillRecord, 'synthetic'>[] = []
  for (let index = 0; index < ORDERS; index++) {
    const orderId = `o${index}`
    const at = { orderId, accountId: `a${index % 2}`, venue: 'sim', symbol: 'BTC-USD', side: 'buy' as const, fee: 0n, feeAsset: 'USD', liquidity: null, venueTimeMs: 1, atMs: 1 }
    fills.push({ ...at, lsn: 2 * index + 1, execId: `reconcile:${orderId}:0.02`, qty: d('0.02'), price: d('120'), cash: -d('2.4'), synthetic: true })
    trueUpFills.push({ ...at, lsn: 2 * index + 2, execId: `${orderId}-p0`, qty: d('0.01'), price: d('100'), cash: -d('1'), liquidity: 'taker' })
  }
  const store = Store.open(':memory:')
  store.write({ lastLsn: 2 * ORDERS, lastHash: 'aa', postings: [], fills, trueUpFills, positions: [], balances: [], lotsUntrackedThroughLsn: 0 })
  return store
}

let statements: ReturnType<typeof spyOn> | null = null
afterEach(() => {
  statements?.mockRestore()
  statements = null
})

/** Counts the statements prepared from here on. */
function countStatements(): { readonly count: number } {
  const spy = spyOn(Database.prototype, 'query')
  statements = spy
  return {
    get count() {
      return spy.mock.calls.length
    },
  }
}

describe('a page of the fill list', () => {
  test('marks the synthetic fills of every order on it with one statement, besides the reads of its rows', () => {
    const store = storeOfOrders()
    try {
      const expected = fillList(store, { limit: 100 })
      const counted = countStatements()
      const page = fillPage(store, { limit: 100 }, 'every')
      // One read of the rows (all 40 fit), one of what superseded the synthetic fills of the 20 orders.
      expect(counted.count).toBe(2)
      expect(page).toEqual({ fills: expected, nextAfterLsn: null })
      expect(page.fills.filter((fill) => fill.synthetic).map((fill) => fill.supersededQty)).toEqual(Array.from({ length: ORDERS }, () => d('0.01')))
    } finally {
      store.close()
    }
  })

  test('reads only the rows of the accounts the reader may read: one read, and one statement for what superseded them', () => {
    const store = storeOfOrders()
    try {
      let counted = countStatements()
      const none = fillPage(store, { limit: 5 }, [])
      expect(none).toEqual({ fills: [], nextAfterLsn: null })
      expect(counted.count).toBe(0)
      statements?.mockRestore()

      // Account a1's rows only (every other order), 5 to a page: one read of 6 of them, then one statement.
      counted = countStatements()
      const page = fillPage(store, { limit: 5 }, ['a1'])
      expect(counted.count).toBe(2)
      expect(page.nextAfterLsn).toBe(page.fills.at(-1)?.lsn ?? -1)
      expect(page.fills.map((fill) => [fill.orderId, fill.synthetic, fill.supersededQty])).toEqual([
        ['o1', true, d('0.01')],
        ['o1', false, 0n],
        ['o3', true, d('0.01')],
        ['o3', false, 0n],
        ['o5', true, d('0.01')],
      ])
      // The next page starts after its last row and carries on.
      const next = fillPage(store, { limit: 5, afterLsn: page.nextAfterLsn ?? 0 }, ['a1'])
      expect(next.fills[0]).toMatchObject({ orderId: 'o5', synthetic: false })
    } finally {
      store.close()
    }
  })

  test('a cursor is always the LSN of a row the reader was given, and paging on lists every row it may read', () => {
    const store = storeOfOrders()
    try {
      const mine = fillList(store, { limit: 100 }).filter((fill) => fill.accountId === 'a1')
      const myLsns = new Set(mine.map((fill) => fill.lsn))
      const listed = []
      const cursors: number[] = []
      let afterLsn: number | null = null
      for (let pages = 0; pages < 100; pages++) {
        const page = fillPage(store, { limit: 1, ...(afterLsn === null ? {} : { afterLsn }) }, ['a1'])
        listed.push(...page.fills)
        afterLsn = page.nextAfterLsn
        if (afterLsn === null) break
        cursors.push(afterLsn)
      }
      expect(afterLsn).toBeNull()
      expect(listed).toEqual(mine)
      // Before: the page read a0's rows too, and one whose reads ran out handed out the LSN of an a0 row.
      expect(cursors.filter((lsn) => !myLsns.has(lsn))).toEqual([])
    } finally {
      store.close()
    }
  })

  test("whether a page has a cursor says nothing of other accounts' rows: a range holding none of the reader's is empty and ended", () => {
    const store = storeOfOrders()
    try {
      // LSNs 1–2 and 5–6 are a0's; a1 reads a range holding only those. Before, with reads of 2 rows and 1 read a page,
      // the page came back empty with a cursor (there were rows of a0 there) — and, moving the bounds, where.
      for (const [fromLsn, toLsn] of [[1, 2], [5, 6], [1, 1]] as const) {
        expect(fillPage(store, { limit: 1, fromLsn, toLsn }, ['a1'])).toEqual({ fills: [], nextAfterLsn: null })
      }
    } finally {
      store.close()
    }
  })

  test('a reader of several accounts gets their rows merged in log order, as an every-account reader sees them', () => {
    const store = storeOfOrders()
    try {
      const all = fillList(store, { limit: 100 })
      for (const limit of [1, 3, 7, 100]) {
        const listed = []
        let afterLsn: number | null = null
        for (let pages = 0; pages < 100; pages++) {
          const page = fillPage(store, { limit, ...(afterLsn === null ? {} : { afterLsn }) }, ['a1', 'a0', 'nobody'])
          listed.push(...page.fills)
          expect(page.fills.length === limit || page.nextAfterLsn === null).toBe(true)
          afterLsn = page.nextAfterLsn
          if (afterLsn === null) break
        }
        expect({ limit, lsns: listed.map((fill) => fill.lsn) }).toEqual({ limit, lsns: all.map((fill) => fill.lsn) })
      }
    } finally {
      store.close()
    }
  })
})
