/**
 * Internal reconciliation: the ledger against the three other places the same truth lives — the kernel's balances
 * and reservations, the SQLite query model, and a ledger replayed from scratch out of the log — and against itself
 * (every asset sums to zero across the books). Each function returns the differences it found; none writes anything.
 */

import { formatDecimal, type Units } from '../domain/decimal.ts'
import { isTerminal } from '../domain/states.ts'
import type { KernelState } from '../kernel/state.ts'
import { breakKey, keySegment, type ReconcileCheck } from './breaks.ts'
import { trialBalance } from './books.ts'
import type { LedgerState } from './ledger-state.ts'
import type { Position } from './positions.ts'
import type { BalanceRow, Store } from './store.ts'

/** One difference a reconcile found. `key` is stable across runs so a later run can clear it. */
export interface Observation {
  key: string
  check: ReconcileCheck
  what: string
  expected: string
  actual: string
}

type Amounts = Map<string, Units>

/** Compares two amount maps key by key (missing = 0); `describe` names each difference. */
export function diffAmounts(
  check: ReconcileCheck,
  expected: Amounts,
  actual: Amounts,
  describe: (key: string) => { key: string; what: string },
): Observation[] {
  const found: Observation[] = []
  for (const key of new Set([...expected.keys(), ...actual.keys()])) {
    const want = expected.get(key) ?? 0n
    const got = actual.get(key) ?? 0n
    if (want === got) continue
    found.push({ check, ...describe(key), expected: formatDecimal(want), actual: formatDecimal(got) })
  }
  return found
}

/**
 * Ledger balances and reservations (expected) against the kernel's (actual), per account × asset. An ended order the
 * kernel has retired while the ledger still holds it (the ledger keeps ended orders up to RETIRE_MARGIN_MS longer,
 * retention.ts) is released in the kernel already: what the ledger's copy still holds (a buy's synthetic quantity
 * pending a true-up, orders.ts syntheticHeld; a sell's fee allowance, synthetic-fee-hold.ts) is left out of the ledger's side, as the ledger leaves it at its own
 * retirement. `ledger`: its ended orders are looked at (only an ended one is left out, and they are bounded by the
 * retention where all the orders held are not: the check runs on the event loop).
 */
export function ledgerVsKernel(rows: readonly BalanceRow[], kernel: KernelState, ledger?: Pick<LedgerState, 'orders' | 'endedOrders'>): Observation[] {
  const ledgerTotals: Amounts = new Map()
  const ledgerReserved: Amounts = new Map()
  for (const row of rows) {
    ledgerTotals.set(`${row.accountId}\n${row.asset}`, row.total)
    ledgerReserved.set(`${row.accountId}\n${row.asset}`, row.reserved)
  }
  const leaveOut = (accountId: string, asset: string, amount: Units): void => {
    const key = `${accountId}\n${asset}`
    ledgerReserved.set(key, (ledgerReserved.get(key) ?? 0n) - amount)
  }
  for (const orderId of ledger?.endedOrders.keys() ?? []) {
    const order = ledger?.orders.get(orderId)
    if (order?.syntheticPendingQty === undefined || !isTerminal(order.status) || kernel.orders.has(orderId)) continue
    if (order.held !== 0n) leaveOut(order.accountId, order.reservationAsset, order.held)
    // A sell's fee allowance on its synthetic proceeds, held in its quote asset (synthetic-fee-hold.ts).
    if (order.syntheticFeeHeld !== undefined) leaveOut(order.accountId, order.quoteAsset, order.syntheticFeeHeld)
  }
  const kernelTotals: Amounts = new Map()
  const kernelReserved: Amounts = new Map()
  for (const [accountId, account] of kernel.accounts) {
    for (const [asset, amount] of account.balances) kernelTotals.set(`${accountId}\n${asset}`, amount)
    for (const [asset, amount] of account.reserved) kernelReserved.set(`${accountId}\n${asset}`, amount)
  }
  const name = (kind: string) => (key: string) => {
    const [accountId, asset] = key.split('\n') as [string, string]
    return { key: internalKey('ledger_vs_kernel', kind, key), what: `${kind} of ${accountId} in ${asset}: ledger vs kernel` }
  }
  return [
    ...diffAmounts('ledger_vs_kernel', ledgerTotals, kernelTotals, name('balance')),
    ...diffAmounts('ledger_vs_kernel', ledgerReserved, kernelReserved, name('reserved')),
  ]
}

/**
 * The ledger (expected) against the query model (actual): balances, positions and the postings per book (`bookSums`:
 * the stored postings summed up to the ledger's LSN, book-sums.ts).
 */
export function ledgerVsStore(ledger: LedgerState, rows: readonly BalanceRow[], store: Store, bookSums: ReadonlyMap<string, ReadonlyMap<string, Units>>): Observation[] {
  const name = (kind: string) => (key: string) => ({ key: internalKey('ledger_vs_store', kind, key), what: `${kind} ${key.replaceAll('\n', ' ')}: ledger vs query model` })
  const balances = (list: readonly BalanceRow[], field: 'total' | 'reserved'): Amounts => new Map(list.map((row) => [`${row.accountId}\n${row.asset}`, row[field]]))
  const stored = store.balances()
  return [
    ...diffAmounts('ledger_vs_store', balances(rows, 'total'), balances(stored, 'total'), name('balance')),
    ...diffAmounts('ledger_vs_store', balances(rows, 'reserved'), balances(stored, 'reserved'), name('reserved')),
    ...diffAmounts('ledger_vs_store', positionFigures(ledger.positions.values()), positionFigures(store.positions()), name('position')),
    ...diffAmounts('ledger_vs_store', flatten(ledger.books), flatten(bookSums), name('book')),
  ]
}

/** What ledger_vs_replay compares of a ledger: its books, reservations and position figures, flat. */
export interface LedgerFigures {
  books: Amounts
  reserved: Amounts
  positions: Amounts
}

export function ledgerFigures(ledger: LedgerState): LedgerFigures {
  return { books: flatten(ledger.books), reserved: flatten(ledger.reserved), positions: positionFigures(ledger.positions.values()) }
}

/**
 * The live ledger's figures (actual) against those of one replayed from the log alone up to the same LSN (expected;
 * see replay-ledger.ts, which folds it apart from the projector, in the replay worker).
 */
export function ledgerVsReplay(live: LedgerFigures, replayed: LedgerFigures): Observation[] {
  const name = (kind: string) => (key: string) => ({ key: internalKey('ledger_vs_replay', kind, key), what: `${kind} ${key.replaceAll('\n', ' ')}: replay vs live ledger` })
  return [
    ...diffAmounts('ledger_vs_replay', replayed.books, live.books, name('book')),
    ...diffAmounts('ledger_vs_replay', replayed.reserved, live.reserved, name('reserved')),
    ...diffAmounts('ledger_vs_replay', replayed.positions, live.positions, name('position')),
  ]
}

/**
 * An internal check's break key from the key of its amounts (segments joined by '\n'): the free-form segments — an
 * account id, an asset (a fee asset is the venue's text), a position's figure (`fees_<asset>`) — each keySegment
 * (breaks.ts: joined raw, two pairs could make one key), the fixed ones as they are: a book's kind (`acct:`, `venue:`,
 * `fees:`, `equity:`) and a position's `<venue>:<symbol>` (config ids, which hold no ':'); cut by breakKey.
 */
function internalKey(check: ReconcileCheck, kind: string, amountsKey: string): string {
  const segments = amountsKey.split('\n').map((part, index) => {
    if (kind === 'position' && index === 1) return part
    const kindEnd = kind === 'book' && index === 0 ? part.indexOf(':') + 1 : 0
    return `${part.slice(0, kindEnd)}${keySegment(part.slice(kindEnd))}`
  })
  // Cut as a venue check's key is: escaped, an id of ':'s is three times as long, past what a record holds.
  return breakKey(`${check}:${kind}:${segments.join(':')}`)
}

/** Double entry holds: per asset, every book together sums to zero. */
export function ledgerBalanced(ledger: LedgerState): Observation[] {
  const zero: Amounts = new Map()
  const sums: Amounts = new Map([...trialBalance(ledger)].filter(([, sum]) => sum !== 0n))
  return diffAmounts('ledger_balanced', zero, sums, (asset) => ({ key: `ledger_balanced:${asset}`, what: `sum of all books in ${asset}` }))
}

function flatten(nested: ReadonlyMap<string, ReadonlyMap<string, Units>>): Amounts {
  const flat: Amounts = new Map()
  for (const [outer, inner] of nested) for (const [asset, amount] of inner) if (amount !== 0n) flat.set(`${outer}\n${asset}`, amount)
  return flat
}

/** Each position's figures as amounts keyed `account venue:symbol figure`. */
function positionFigures(positions: Iterable<Position>): Amounts {
  const figures: Amounts = new Map()
  for (const p of positions) {
    const at = `${p.accountId}\n${p.venue}:${p.symbol}`
    figures.set(`${at}\nnet_qty`, p.netQty)
    figures.set(`${at}\ncost_basis`, p.costBasis)
    figures.set(`${at}\nrealized_pnl`, p.realizedPnl)
    for (const [asset, fee] of p.fees) figures.set(`${at}\nfees_${asset}`, fee)
  }
  return figures
}
