/** The sim venue's balances: per account, per asset, moved by fills (book.ts) and restored on a resume (memory.ts). */

import type { Units } from '../../domain/decimal.ts'
import type { VenueBalance } from '../adapter.ts'

export class SimBalances {
  readonly #accounts = new Map<string, Map<string, Units>>()

  constructor(initial: Readonly<Record<string, Readonly<Record<string, Units>>>>) {
    for (const [account, assets] of Object.entries(initial)) this.#accounts.set(account, new Map(Object.entries(assets)))
  }

  /** Adds `amount` (negative: takes it) to the account's asset. */
  credit(account: string, asset: string, amount: Units): void {
    let assets = this.#accounts.get(account)
    if (assets === undefined) {
      assets = new Map()
      this.#accounts.set(account, assets)
    }
    assets.set(asset, (assets.get(asset) ?? 0n) + amount)
  }

  /** What the account holds of `asset` (negative: owes it, a short position). */
  holding(account: string, asset: string): Units {
    return this.#accounts.get(account)?.get(asset) ?? 0n
  }

  /** The account's balances, by asset name. */
  of(account: string): VenueBalance[] {
    const assets = this.#accounts.get(account) ?? new Map<string, Units>()
    return [...assets.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([asset, total]) => ({ account, asset, total }))
  }

  /** Every balance replaced by `accounts`' (a resume). */
  replaceWith(accounts: ReadonlyMap<string, ReadonlyMap<string, Units>>): void {
    this.#accounts.clear()
    for (const [account, assets] of accounts) this.#accounts.set(account, new Map(assets))
  }
}
