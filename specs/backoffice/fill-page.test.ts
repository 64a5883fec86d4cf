/**
 * A page of `GET /v1/fills` (src/backoffice/fill-list.ts fillPage) reads which synthetic fills were superseded once for
 * the whole page, in one statement over every order on it, and only for the rows the reader may see: not two indexed
 * queries per order per read, nor any for the rows the permission filter drops. Counted as the statements the store
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
      const page = fillPage(store, { limit: 100 }, { visible: () => true, readsMax: 64 })
      // One read of the rows (all 40 fit), one of what superseded the synthetic fills of the 20 orders.
      expect(counted.count).toBe(2)
      expect(page).toEqual({ fills: expected, nextAfterLsn: null })
      expect(page.fills.filter((fill) => fill.synthetic).map((fill) => fill.supersededQty)).toEqual(Array.from({ length: ORDERS }, () => d('0.01')))
    } finally {
      store.close()
    }
  })

  test('reads nothing of what superseded the rows a reader may not see, and one statement for those it may, however many reads the page takes', () => {
    const store = storeOfOrders()
    try {
      let counted = countStatements()
      const none = fillPage(store, { limit: 5 }, { visible: () => false, readsMax: 64 })
      expect(none).toEqual({ fills: [], nextAfterLsn: null })
      // 40 rows, read 6 at a time: 7 reads, nothing else.
      expect(counted.count).toBe(7)
      statements?.mockRestore()

      // Account a1's rows only (every other order), 5 to a page: 2 reads of 6 rows find 6 of them, then one statement.
      counted = countStatements()
      const page = fillPage(store, { limit: 5 }, { visible: (accountId) => accountId === 'a1', readsMax: 64 })
      expect(counted.count).toBe(3)
      expect(page.nextAfterLsn).toBe(page.fills.at(-1)?.lsn ?? -1)
      expect(page.fills.map((fill) => [fill.orderId, fill.synthetic, fill.supersededQty])).toEqual([
        ['o1', true, d('0.01')],
        ['o1', false, 0n],
        ['o3', true, d('0.01')],
        ['o3', false, 0n],
        ['o5', true, d('0.01')],
      ])
      // The next page starts after its last row and carries on.
      const next = fillPage(store, { limit: 5, afterLsn: page.nextAfterLsn ?? 0 }, { visible: (accountId) => accountId === 'a1', readsMax: 64 })
      expect(next.fills[0]).toMatchObject({ orderId: 'o5', synthetic: false })
    } finally {
      store.close()
    }
  })

  test('a page whose reads run out before it fills (rows the reader may not see) still says where to read on, and paging on lists every visible row', () => {
    const store = storeOfOrders()
    try {
      // Account a1's rows only (orders o1, o3, …); 2 rows a read and 1 read a page: the first page reads o0's two rows.
      const visible = (accountId: string): boolean => accountId === 'a1'
      const all = fillList(store, { limit: 100 }).filter((fill) => visible(fill.accountId))
      expect(all.length).toBeGreaterThan(0)
      const first = fillPage(store, { limit: 1 }, { visible, readsMax: 1 })
      expect(first.fills).toEqual([])
      // Before: null, and the reader took the list for ended with every visible row unread.
      expect(first.nextAfterLsn).not.toBeNull()
      const listed = []
      let afterLsn: number | null = null
      for (let pages = 0; pages < 100; pages++) {
        const page = fillPage(store, { limit: 1, ...(afterLsn === null ? {} : { afterLsn }) }, { visible, readsMax: 1 })
        listed.push(...page.fills)
        afterLsn = page.nextAfterLsn
        if (afterLsn === null) break
      }
      expect(afterLsn).toBeNull()
      expect(listed).toEqual(all)
    } finally {
      store.close()
    }
  })
})
