/**
 * An auditor's second opinion on the back office, derived from the log alone and sharing no code with
 * src/backoffice: it folds every domain event of a log (account.funded, order.accepted, order.fill,
 * order.fill_trued_up) with its own arithmetic, then compares a query model (postings, fills, positions, balances) and
 * a kernel state with what it found. Checked:
 *   - conservation: per account and asset, Σ funding − Σ fees ± Σ traded amounts (a buy pays qty × price rounded up
 *     to the unit, a sell receives it rounded down; a true-up replaces the synthetic cash by the real) = the balance
 *     the query model and the kernel hold, exactly;
 *   - every posting row traces to the log record at its LSN: its `ref` is that record's execution id or funding
 *     reference, its kind fits the record, and per book and asset the postings at that LSN are what the record moves;
 *     no record that moves money lacks its postings;
 *   - every fill row is an `order.fill` record at its LSN (exec id, order, quantity, price, fee, cash), one per record;
 *   - positions: net quantity = the signed sum of fills = bought − sold, realized − basis = Σ cash legs (true-ups
 *     included), a basis of the position's sign (none when flat), fees = Σ fees per asset;
 *   - idempotency: no (order, execution id) of a real fill is booked twice.
 */

import type { Units } from '../../src/domain/decimal.ts'
import { formatDecimal } from '../../src/domain/decimal.ts'
import type { DomainEvent } from '../../src/domain/events/index.ts'
import type { Store } from '../../src/backoffice/store.ts'

const UNIT = 100_000_000n

interface AuditedOrder {
  accountId: string
  venue: string
  symbol: string
  side: 'buy' | 'sell'
  baseAsset: string
  quoteAsset: string
}

interface AuditedPosition {
  netQty: Units
  cash: Units
  fees: Map<string, Units>
  fills: number
}

/** One record that moves money: what its postings must be (book → asset → amount) and the ref they carry. */
interface ExpectedEntry {
  ref: string
  kinds: ReadonlySet<string>
  moves: Map<string, Units>
}

export interface LogAudit {
  lastLsn: number
  balances: Map<string, Units>
  positions: Map<string, AuditedPosition>
  entries: Map<number, ExpectedEntry>
  fills: Map<number, { execId: string; orderId: string; qty: Units; price: Units; fee: Units; feeAsset: string; cash: Units }>
  duplicateExecs: string[]
  counts: Record<string, number>
  /** Fills whose quantity × price has digits below the unit: the cash legs' rounding decided their amount. */
  roundedFills: number
}

const TRADE_KINDS: ReadonlySet<string> = new Set(['trade_base', 'trade_quote', 'fee'])
const FUNDING_KINDS: ReadonlySet<string> = new Set(['funding'])

/** The auditor's own rounding: a buy pays the product rounded up to the unit, a sell receives it rounded down. */
function cashOf(side: 'buy' | 'sell', qty: Units, price: Units): Units {
  const product = qty * price
  const whole = product / UNIT
  return side === 'buy' ? -(whole + (product % UNIT === 0n ? 0n : 1n)) : whole
}

function bump(map: Map<string, Units>, key: string, delta: Units): void {
  map.set(key, (map.get(key) ?? 0n) + delta)
}

const key = (...parts: string[]): string => parts.join('\n')

/** Folds the log's domain events (in LSN order) the auditor's way. */
export function auditLog(records: Iterable<{ lsn: number; event: DomainEvent }>): LogAudit {
  const orders = new Map<string, AuditedOrder>()
  const seenExecs = new Set<string>()
  const audit: LogAudit = { lastLsn: 0, balances: new Map(), positions: new Map(), entries: new Map(), fills: new Map(), duplicateExecs: [], counts: {}, roundedFills: 0 }
  const entry = (lsn: number, ref: string, kinds: ReadonlySet<string>): Map<string, Units> => {
    const moves = new Map<string, Units>()
    audit.entries.set(lsn, { ref, kinds, moves })
    return moves
  }
  const position = (order: AuditedOrder): AuditedPosition => {
    const id = key(order.accountId, order.venue, order.symbol)
    let held = audit.positions.get(id)
    if (held === undefined) audit.positions.set(id, (held = { netQty: 0n, cash: 0n, fees: new Map(), fills: 0 }))
    return held
  }
  for (const { lsn, event } of records) {
    audit.lastLsn = lsn
    audit.counts[event.type] = (audit.counts[event.type] ?? 0) + 1
    if (event.type === 'account.funded') {
      bump(audit.balances, key(event.accountId, event.asset), event.amount)
      const moves = entry(lsn, event.reference, FUNDING_KINDS)
      bump(moves, key(`acct:${event.accountId}`, event.asset), event.amount)
      bump(moves, key('equity:funding', event.asset), -event.amount)
    } else if (event.type === 'order.accepted') {
      const { accountId, venue, symbol, side, baseAsset, quoteAsset } = event
      orders.set(event.orderId, { accountId, venue, symbol, side, baseAsset, quoteAsset })
    } else if (event.type === 'order.fill') {
      const order = orders.get(event.orderId)
      if (order === undefined) throw new Error(`audit: fill at LSN ${lsn} of order ${event.orderId} never accepted`)
      if (!event.synthetic) {
        const exec = key(event.orderId, event.execId)
        if (seenExecs.has(exec)) audit.duplicateExecs.push(`${event.orderId}/${event.execId} at LSN ${lsn}`)
        seenExecs.add(exec)
      }
      const cash = cashOf(order.side, event.lastQty, event.lastPrice)
      if ((event.lastQty * event.lastPrice) % UNIT !== 0n) audit.roundedFills += 1
      const baseDelta = order.side === 'buy' ? event.lastQty : -event.lastQty
      bump(audit.balances, key(order.accountId, order.baseAsset), baseDelta)
      bump(audit.balances, key(order.accountId, order.quoteAsset), cash)
      bump(audit.balances, key(order.accountId, event.feeAsset), -event.fee)
      const moves = entry(lsn, event.execId, TRADE_KINDS)
      bump(moves, key(`acct:${order.accountId}`, order.baseAsset), baseDelta)
      bump(moves, key(`venue:${order.venue}`, order.baseAsset), -baseDelta)
      bump(moves, key(`acct:${order.accountId}`, order.quoteAsset), cash)
      bump(moves, key(`venue:${order.venue}`, order.quoteAsset), -cash)
      bump(moves, key(`acct:${order.accountId}`, event.feeAsset), -event.fee)
      bump(moves, key(`fees:${order.venue}`, event.feeAsset), event.fee)
      const held = position(order)
      held.netQty += baseDelta
      held.cash += cash
      bump(held.fees, event.feeAsset, event.fee)
      held.fills += 1
      audit.fills.set(lsn, { execId: event.execId, orderId: event.orderId, qty: event.lastQty, price: event.lastPrice, fee: event.fee, feeAsset: event.feeAsset, cash })
    } else if (event.type === 'order.fill_trued_up') {
      const order = orders.get(event.orderId)
      if (order === undefined) throw new Error(`audit: true-up at LSN ${lsn} of order ${event.orderId} never accepted`)
      const cashDelta = order.side === 'buy' ? event.syntheticCash - event.cash : event.cash - event.syntheticCash
      bump(audit.balances, key(order.accountId, order.quoteAsset), cashDelta)
      bump(audit.balances, key(order.accountId, event.feeAsset), -event.fee)
      const moves = entry(lsn, event.execId, TRADE_KINDS)
      bump(moves, key(`acct:${order.accountId}`, order.quoteAsset), cashDelta)
      bump(moves, key(`venue:${order.venue}`, order.quoteAsset), -cashDelta)
      bump(moves, key(`acct:${order.accountId}`, event.feeAsset), -event.fee)
      bump(moves, key(`fees:${order.venue}`, event.feeAsset), event.fee)
      const held = position(order)
      held.cash += cashDelta
      bump(held.fees, event.feeAsset, event.fee)
    }
  }
  for (const { moves } of audit.entries.values()) for (const [at, amount] of moves) if (amount === 0n) moves.delete(at)
  return audit
}

/** What the query model says that the auditor does not (empty: it agrees to the unit and every row is explained). */
export function auditStore(audit: LogAudit, store: Store): string[] {
  const problems: string[] = []
  if (store.lastLsn !== audit.lastLsn) problems.push(`store at LSN ${store.lastLsn}, the audit at ${audit.lastLsn}`)
  // Postings: grouped by LSN, each group explained by its record.
  const booked = new Map<number, Map<string, Units>>()
  for (let after = { lsn: 0, seq: -1 }; ; ) {
    const page = store.postings({ after, limit: 5_000 })
    if (page.length === 0) break
    for (const posting of page) {
      const expected = audit.entries.get(posting.lsn)
      if (expected === undefined) {
        problems.push(`posting ${posting.lsn}.${posting.seq} (${posting.kind} ${posting.ref}) traces to no record that moves money`)
        continue
      }
      if (posting.ref !== expected.ref) problems.push(`posting ${posting.lsn}.${posting.seq}: ref ${posting.ref}, its record says ${expected.ref}`)
      if (!expected.kinds.has(posting.kind)) problems.push(`posting ${posting.lsn}.${posting.seq}: kind ${posting.kind} does not fit its record`)
      let moves = booked.get(posting.lsn)
      if (moves === undefined) booked.set(posting.lsn, (moves = new Map()))
      bump(moves, key(posting.book, posting.asset), posting.amount)
    }
    const last = page[page.length - 1] as { lsn: number; seq: number }
    after = { lsn: last.lsn, seq: last.seq }
  }
  for (const [lsn, expected] of audit.entries) {
    const moves = booked.get(lsn) ?? new Map<string, Units>()
    for (const [at, amount] of moves) if (amount === 0n) moves.delete(at)
    const want = [...expected.moves].sort().map(([at, amount]) => `${at.replace('\n', ' ')}=${formatDecimal(amount)}`).join(', ')
    const got = [...moves].sort().map(([at, amount]) => `${at.replace('\n', ' ')}=${formatDecimal(amount)}`).join(', ')
    if (want !== got) problems.push(`LSN ${lsn} (${expected.ref}): postings ${got || 'none'}, its record moves ${want || 'nothing'}`)
  }
  // Fill rows.
  const rows = store.fills({ limit: 1_000_000 })
  if (rows.length !== audit.fills.size) problems.push(`${rows.length} fill rows, ${audit.fills.size} fill records`)
  for (const row of rows) {
    const fill = audit.fills.get(row.lsn)
    if (fill === undefined) {
      problems.push(`fill row at LSN ${row.lsn} (${row.execId}) traces to no fill record`)
      continue
    }
    const same = fill.execId === row.execId && fill.orderId === row.orderId && fill.qty === row.qty && fill.price === row.price && fill.fee === row.fee && fill.feeAsset === row.feeAsset && fill.cash === row.cash
    if (!same) problems.push(`fill row at LSN ${row.lsn} differs from its record: ${JSON.stringify(row, bigintText)} vs ${JSON.stringify(fill, bigintText)}`)
  }
  // Positions.
  const positions = new Map(store.positions().map((position) => [key(position.accountId, position.venue, position.symbol), position]))
  for (const [id, expected] of audit.positions) {
    const position = positions.get(id)
    if (position === undefined) {
      problems.push(`no position row ${id.replaceAll('\n', ' ')}`)
      continue
    }
    if (position.netQty !== expected.netQty) problems.push(`position ${id.replaceAll('\n', ' ')}: net ${formatDecimal(position.netQty)}, fills give ${formatDecimal(expected.netQty)}`)
    if (position.realizedPnl - position.costBasis !== expected.cash) {
      problems.push(`position ${id.replaceAll('\n', ' ')}: realized − basis ${formatDecimal(position.realizedPnl - position.costBasis)}, cash legs give ${formatDecimal(expected.cash)}`)
    }
    if (position.netQty === 0n && position.costBasis !== 0n) problems.push(`position ${id.replaceAll('\n', ' ')} is flat with basis ${formatDecimal(position.costBasis)}`)
    // A long stands at what it cost (≥ 0), a short at what it received (≤ 0): an average cost is never negative.
    if ((position.netQty > 0n && position.costBasis < 0n) || (position.netQty < 0n && position.costBasis > 0n)) {
      problems.push(`position ${id.replaceAll('\n', ' ')}: net ${formatDecimal(position.netQty)} with basis ${formatDecimal(position.costBasis)} of the other sign`)
    }
    if (position.boughtQty - position.soldQty !== position.netQty) problems.push(`position ${id.replaceAll('\n', ' ')}: bought − sold is not its net`)
    if (position.fillCount !== expected.fills) problems.push(`position ${id.replaceAll('\n', ' ')}: ${position.fillCount} fills, the log has ${expected.fills}`)
    for (const asset of new Set([...position.fees.keys(), ...expected.fees.keys()])) {
      const fees = position.fees.get(asset) ?? 0n
      if (fees !== (expected.fees.get(asset) ?? 0n)) problems.push(`position ${id.replaceAll('\n', ' ')}: fees ${formatDecimal(fees)} ${asset}, the log has ${formatDecimal(expected.fees.get(asset) ?? 0n)}`)
    }
  }
  for (const id of positions.keys()) if (!audit.positions.has(id)) problems.push(`position row ${id.replaceAll('\n', ' ')} no fill explains`)
  // Balances.
  problems.push(...compareBalances('query model', audit, new Map(store.balances().map((row) => [key(row.accountId, row.asset), row.total]))))
  for (const duplicate of audit.duplicateExecs) problems.push(`execution booked twice: ${duplicate}`)
  return problems
}

/** Per account and asset, `held` (another holder's balances) against the audit's. */
export function compareBalances(holder: string, audit: LogAudit, held: Map<string, Units>): string[] {
  const problems: string[] = []
  for (const id of new Set([...audit.balances.keys(), ...held.keys()])) {
    const expected = audit.balances.get(id) ?? 0n
    const actual = held.get(id) ?? 0n
    if (expected !== actual) problems.push(`${holder} ${id.replace('\n', '/')}: ${formatDecimal(actual)}, funding ± trades − fees give ${formatDecimal(expected)}`)
  }
  return problems
}

function bigintText(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? formatDecimal(value) : value
}
