/**
 * The ledger's chart of books, and booking one journal entry to them.
 *
 * Books (the "accounts" of the chart, named so they never clash with trading account ids):
 *   `acct:<accountId>`  what a trading account holds, per asset (cash in quote assets, positions in base assets)
 *   `venue:<venue>`     the counterparty of every trade on that venue
 *   `fees:<venue>`      fees the venue charged (negative: rebates it paid)
 *   `equity:funding`    where paper funding comes from and withdrawals go
 *
 * Every entry is one event (its LSN); per asset its postings sum to zero. That is asserted on every entry, not
 * assumed.
 */

import { assert } from '../domain/assert.ts'
import type { Units } from '../domain/decimal.ts'
import type { Booked, FillRecord, LedgerState, Posting } from './ledger-state.ts'

export const FUNDING_BOOK = 'equity:funding'

/** What an account's book is named by: the prefix, then the account id. */
export const ACCOUNT_BOOK_PREFIX = 'acct:'

export function accountBook(accountId: string): string {
  return `${ACCOUNT_BOOK_PREFIX}${accountId}`
}

export function venueBook(venue: string): string {
  return `venue:${venue}`
}

export function feeBook(venue: string): string {
  return `fees:${venue}`
}

/** Checks the entry balances per asset, then applies its postings to the books. */
export function bookEntry(state: LedgerState, postings: Posting[], fill: FillRecord | null): Booked {
  assertBalanced(postings)
  for (const posting of postings) {
    let assets = state.books.get(posting.book)
    if (assets === undefined) {
      assets = new Map()
      state.books.set(posting.book, assets)
    }
    assets.set(posting.asset, (assets.get(posting.asset) ?? 0n) + posting.amount)
  }
  state.counters.entries += 1
  state.counters.postings += postings.length
  return { postings, fill }
}

/** An entry whose postings do not sum to zero per asset is a bug in the ledger: it must never be booked. */
export function assertBalanced(postings: readonly Posting[]): void {
  // Per asset, summed where the asset first occurs (an entry has a handful of postings): no map per entry.
  for (let first = 0; first < postings.length; first++) {
    const asset = (postings[first] as Posting).asset
    let seenBefore = false
    for (let earlier = 0; earlier < first && !seenBefore; earlier++) seenBefore = (postings[earlier] as Posting).asset === asset
    if (seenBefore) continue
    let sum = 0n
    for (let index = first; index < postings.length; index++) {
      const posting = postings[index] as Posting
      if (posting.asset === asset) sum += posting.amount
    }
    assert(sum === 0n, () => `ledger entry at LSN ${postings[0]?.lsn} does not balance in ${asset}: off by ${sum}`)
  }
}

/** Per asset, the sum over every book (zero for every asset in a sound ledger). */
export function trialBalance(state: LedgerState): Map<string, Units> {
  const sums = new Map<string, Units>()
  for (const assets of state.books.values()) {
    for (const [asset, amount] of assets) sums.set(asset, (sums.get(asset) ?? 0n) + amount)
  }
  return sums
}

/** What the ledger says an account holds of an asset. */
export function bookBalance(state: LedgerState, book: string, asset: string): Units {
  return state.books.get(book)?.get(asset) ?? 0n
}
