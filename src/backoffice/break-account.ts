/**
 * Which trading account a reconcile break is about. A break record names no account (breaks.ts), so it is read from
 * the break's check and key, by the key's structure (internal-checks.ts, external-checks.ts, venue-trades.ts):
 *
 *   ledger_vs_kernel:<balance|reserved>:<account>:<asset>
 *   ledger_vs_store / ledger_vs_replay:<balance|reserved>:<account>:<asset>
 *                                      position:<account>:<venue>:<symbol>:<figure>
 *                                      book:acct:<account>:<asset>          (other books: no account)
 *   ledger_balanced:<asset>                                                 (no account)
 *   venue_balances:<venue>:<account>:<asset>
 *   venue_open_orders:<venue>:<order id>[:cum_qty]
 *   venue_open_orders:<venue>:foreign:<account>:<venue's client order id>  (an older build's: <venue's client order id>)
 *   venue_trades:<venue>:order:<order id>
 *   venue_trades:<venue>:<exec id>                                          (no account in the key)
 *
 * A venue check's key longer than a record holds is cut and ends in a digest of the whole (breaks.ts breakKey).
 *
 * The account and asset segments are keySegment-encoded (breaks.ts: ':' and '%' escaped), venues and symbols are
 * config ids that hold no ':', so the account is what lies between the fixed leading and trailing segments, decoded.
 * A key written before the escape had the raw id there, a ':' in it included, and is still read whole (an asset
 * holding ':' then shifted it: the reason for the escape). A key that names an order is the account of that
 * order, when the back office still knows it (`orderAccount`). A break with no account found is for readers of every
 * account only: never shown to a scoped reader on a guess.
 *
 * A venue check's break records the account it was found for (`accountId`, break_opened v2): that is its account,
 * whatever the key says. Before, a venue_trades break keyed by an exec id (a trade egress holds no order for, a fill
 * booked with no trade at the venue, one that differs from it) named no account and was never shown to the account's
 * own readers while its other breaks were. Such a break opened by an older build still names none.
 */

import { keySegmentText } from './breaks.ts'

/** The account of an order egress placed, or undefined when it is not known (never held, or retired without fills). */
export type OrderAccount = (orderId: string) => string | undefined

const CUM_QTY_SUFFIX = ':cum_qty'

export function breakAccountOf(item: { check: string; key: string; accountId?: string | undefined }, orderAccount: OrderAccount): string | null {
  if (item.accountId !== undefined) return item.accountId
  const parts = item.key.split(':')
  if (parts[0] !== item.check) return null
  switch (item.check) {
    case 'ledger_vs_kernel':
      return parts[1] === 'balance' || parts[1] === 'reserved' ? between(parts, 2, 1) : null
    case 'ledger_vs_store':
    case 'ledger_vs_replay':
      if (parts[1] === 'balance' || parts[1] === 'reserved') return between(parts, 2, 1)
      if (parts[1] === 'position') return between(parts, 2, 3)
      if (parts[1] === 'book' && parts[2] === 'acct') return between(parts, 3, 1)
      return null
    case 'venue_balances':
      return between(parts, 2, 1)
    case 'venue_open_orders': {
      const id = parts.slice(2).join(':')
      if (id === '') return null
      const orderId = id.endsWith(CUM_QTY_SUFFIX) && orderAccount(id) === undefined ? id.slice(0, -CUM_QTY_SUFFIX.length) : id
      return orderAccount(orderId) ?? null
    }
    case 'venue_trades':
      return parts[2] === 'order' && parts.length > 3 ? (orderAccount(parts.slice(3).join(':')) ?? null) : null
    default:
      return null
  }
}

/**
 * The segments between `head` leading and `tail` trailing ones, joined back and decoded (keySegmentText); null when
 * there are none. A key written since the escape has one there; one written before, the raw id's pieces.
 */
function between(parts: readonly string[], head: number, tail: number): string | null {
  if (parts.length < head + tail + 1) return null
  return keySegmentText(parts.slice(head, parts.length - tail).join(':'))
}
