/** Balances as a ledger holds them: per account × asset, total (its `acct:` book) and reserved (held by open orders). */

import { ACCOUNT_BOOK_PREFIX } from './books.ts'
import type { LedgerState } from './ledger-state.ts'
import type { BalanceRow } from './store.ts'

export function balanceRowsOf(ledger: LedgerState): BalanceRow[] {
  const rows = new Map<string, BalanceRow>()
  const row = (accountId: string, asset: string): BalanceRow => {
    const key = `${accountId}\n${asset}`
    let found = rows.get(key)
    if (found === undefined) {
      found = { accountId, asset, total: 0n, reserved: 0n }
      rows.set(key, found)
    }
    return found
  }
  for (const [book, assets] of ledger.books) {
    if (!book.startsWith(ACCOUNT_BOOK_PREFIX)) continue
    for (const [asset, total] of assets) row(book.slice(ACCOUNT_BOOK_PREFIX.length), asset).total = total
  }
  for (const [accountId, assets] of ledger.reserved) for (const [asset, held] of assets) row(accountId, asset).reserved = held
  return [...rows.values()].sort(compareBalanceRows)
}

/** Balance rows by account, then asset (the order they are listed and written in). */
export function compareBalanceRows(a: BalanceRow, b: BalanceRow): number {
  return a.accountId === b.accountId ? compare(a.asset, b.asset) : compare(a.accountId, b.accountId)
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
