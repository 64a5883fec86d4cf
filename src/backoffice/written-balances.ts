/**
 * The balances the query model holds, as the projector last wrote them, so that each flush writes only the rows that
 * changed. A flush (every 100 ms under load) compares every account × asset the ledger holds: it reads the ledger's
 * maps in place and builds a row only for a change, where building every row (balanceRowsOf) with a key and a value text
 * each to compare made ~700 objects a flush. The rows and their order are balanceRowsOf's, filtered to the changed ones.
 */

import type { Units } from '../domain/decimal.ts'
import { compareBalanceRows } from './balances.ts'
import { ACCOUNT_BOOK_PREFIX } from './books.ts'
import type { LedgerState } from './ledger-state.ts'
import type { BalanceRow } from './store.ts'

interface Written {
  total: Units
  reserved: Units
  /** The flush that last compared it (#flushes): a row the account books gave is not compared again from reserved. */
  comparedAt: number
}

export class WrittenBalances {
  /** Account → asset → as written. Bounded by the ledger's accounts × assets, as the balances table is. */
  readonly #written = new Map<string, Map<string, Written>>()
  #flushes = 0

  /** What the store holds now (at a start). */
  load(rows: readonly BalanceRow[]): void {
    for (const row of rows) this.#note(row.accountId, row.asset, row.total, row.reserved)
  }

  /**
   * The ledger's balance rows (balanceRowsOf) that differ from what was written, in balanceRowsOf's order; each is
   * taken as written from here on. Rows leave the ledger never (nor the table): a hold at zero reads as reserved 0.
   */
  changed(ledger: LedgerState): BalanceRow[] {
    const flush = ++this.#flushes
    const changed: BalanceRow[] = []
    // Keys and a get rather than entries: iterating a Map's entries makes an array per entry.
    for (const book of ledger.books.keys()) {
      if (!book.startsWith(ACCOUNT_BOOK_PREFIX)) continue
      const accountId = book.slice(ACCOUNT_BOOK_PREFIX.length)
      const totals = ledger.books.get(book) as Map<string, Units>
      const held = ledger.reserved.get(accountId)
      for (const asset of totals.keys()) {
        const row = this.#compare(flush, accountId, asset, totals.get(asset) as Units, held?.get(asset) ?? 0n)
        if (row !== null) changed.push(row)
      }
    }
    // What is held of an asset the account's book has no entry for: a total of 0.
    for (const accountId of ledger.reserved.keys()) {
      const held = ledger.reserved.get(accountId) as Map<string, Units>
      for (const asset of held.keys()) {
        if (this.#written.get(accountId)?.get(asset)?.comparedAt === flush) continue
        const row = this.#compare(flush, accountId, asset, 0n, held.get(asset) as Units)
        if (row !== null) changed.push(row)
      }
    }
    return changed.sort(compareBalanceRows)
  }

  /** Nothing taken as written: the next `changed` gives every row (a write that failed, rolled back, is redone whole). */
  forget(): void {
    this.#written.clear()
  }

  /** The row to write for `accountId` × `asset`, or null when the store holds these figures already. */
  #compare(flush: number, accountId: string, asset: string, total: Units, reserved: Units): BalanceRow | null {
    const written = this.#written.get(accountId)?.get(asset)
    if (written !== undefined) {
      written.comparedAt = flush
      if (written.total === total && written.reserved === reserved) return null
      written.total = total
      written.reserved = reserved
    } else this.#note(accountId, asset, total, reserved).comparedAt = flush
    return { accountId, asset, total, reserved }
  }

  #note(accountId: string, asset: string, total: Units, reserved: Units): Written {
    let assets = this.#written.get(accountId)
    if (assets === undefined) this.#written.set(accountId, (assets = new Map()))
    const written: Written = { total, reserved, comparedAt: 0 }
    assets.set(asset, written)
    return written
  }
}
