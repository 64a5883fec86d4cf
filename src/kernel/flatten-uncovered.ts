/**
 * What a flatten cannot close for want of an instrument: a position in an asset no configured instrument trades as its
 * base — the instrument was taken out of the config (or the account was funded in an asset no instrument trades) while
 * the account still holds it. decideFlatten closes per base asset over the configured instruments (flatten.ts
 * closingInstruments), so such a holding was skipped without a word, and the caller took the account for flat. The
 * flatten's answer names these (routes/admin.ts `not_closed`); nothing is decided or recorded for them: a close needs
 * an instrument to trade on, and the log's records stay as they are. Close them at the venue, or put the instrument
 * back and flatten again.
 *
 * An asset some configured instrument quotes in is cash, not a position: never named (USD under BTC-USD).
 */

import type { Units } from '../domain/decimal.ts'
import type { KernelState } from './state.ts'

/** A holding a flatten of the account leaves open: no configured instrument has `asset` as its base. */
export interface FlattenUncovered {
  asset: string
  /** The account's balance of the asset. */
  qty: Units
}

/** The account's positive holdings no configured instrument trades as its base and none quotes in, by asset. */
export function flattenUncovered(state: Pick<KernelState, 'accounts' | 'instruments'>, accountId: string): FlattenUncovered[] {
  const ledger = state.accounts.get(accountId)
  if (ledger === undefined) return []
  const traded = new Set<string>()
  for (const instrument of state.instruments.values()) {
    traded.add(instrument.baseAsset)
    traded.add(instrument.quoteAsset)
  }
  const uncovered: FlattenUncovered[] = []
  for (const [asset, qty] of ledger.balances) {
    if (qty > 0n && !traded.has(asset)) uncovered.push({ asset, qty })
  }
  return uncovered.sort((a, b) => (a.asset < b.asset ? -1 : 1))
}
