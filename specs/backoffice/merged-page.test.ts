/** mergedRows (src/backoffice/merged-page.ts): sources merged in order, whether more follow, and what a page reads. */

import { describe, expect, test } from 'bun:test'
import { mergedRows, pageAccounts, type RowSource } from '../../src/backoffice/merged-page.ts'

/** A source over sorted numbers, counting the rows it hands out. */
function source(values: readonly number[], read: { rows: number; calls: number }): RowSource<number> {
  return (after, rowsMax) => {
    const rows = values.filter((value) => after === undefined || value > after).slice(0, rowsMax)
    read.rows += rows.length
    read.calls++
    return rows
  }
}

const before = (a: number, b: number): boolean => a < b

describe('mergedRows', () => {
  test('merges in order and says whether more follow, at every page size', () => {
    const lists = [[1, 4, 7, 10, 13], [2, 3, 11], [], [5, 6, 8, 9, 12, 14, 15]]
    const all = lists.flat().sort((a, b) => a - b)
    for (let rowsMax = 1; rowsMax <= 16; rowsMax++) {
      const read = { rows: 0, calls: 0 }
      const page = mergedRows(lists.map((values) => source(values, read)), { rowsMax, before })
      expect({ rowsMax, page }).toEqual({ rowsMax, page: { rows: all.slice(0, rowsMax), more: rowsMax < all.length } })
    }
  })

  test('one source is read once, rowsMax + 1 rows', () => {
    const read = { rows: 0, calls: 0 }
    const values = Array.from({ length: 1000 }, (_, index) => index)
    expect(mergedRows([source(values, read)], { rowsMax: 100, before }).more).toBe(true)
    expect(read).toEqual({ rows: 101, calls: 1 })
  })

  test('many sources read at most rowsMax + 1 + sources × 16 rows, however their rows interleave', () => {
    const sources = 50
    const read = { rows: 0, calls: 0 }
    // Source 0 holds every row the page lists; the other 49 hold only later rows.
    const lists = Array.from({ length: sources }, (_, index) => Array.from({ length: 500 }, (_, row) => (index === 0 ? row : 10_000 + row * sources + index)))
    const page = mergedRows(lists.map((values) => source(values, read)), { rowsMax: 200, before })
    expect(page.rows).toEqual(Array.from({ length: 200 }, (_, index) => index))
    expect(page.more).toBe(true)
    expect(read.rows).toBeLessThanOrEqual(200 + 1 + sources * 16)
  })
})

describe('pageAccounts', () => {
  test('an every-account reader reads the list once; a scoped reader each of its accounts; an account filter only if readable', () => {
    expect(pageAccounts('every', undefined)).toEqual([undefined])
    expect(pageAccounts('every', 'a')).toEqual(['a'])
    expect(pageAccounts(['a', 'b'], undefined)).toEqual(['a', 'b'])
    expect(pageAccounts(['a', 'b'], 'b')).toEqual(['b'])
    expect(pageAccounts(['a'], 'b')).toEqual([])
    expect(pageAccounts([], undefined)).toEqual([])
  })
})
