/**
 * The query model in bun:sqlite: postings, fills, positions and balances as rows, written in batches, each batch in
 * one transaction together with the log position it reflects (`meta.last_lsn` and the chain hash of that record).
 * A crash either keeps a batch whole, position included, or loses it whole — so on start the store resumes exactly
 * after `last_lsn`, and a row can never be written twice (postings and fills are keyed by LSN and a repeat fails).
 *
 * SQLite is never the source of truth: a store that does not match the log (ahead of it, or its recorded hash
 * differs) is emptied and rebuilt from the log. Amounts are stored as canonical decimal text, never as floats.
 */

import { Database } from 'bun:sqlite'
import { assert } from '../domain/assert.ts'
import { formatDecimal, parseDecimal, type Units } from '../domain/decimal.ts'
import type { FillRecord, Posting } from './ledger.ts'
import type { Position } from './positions.ts'
import { fillOf, positionOf, postingOf, type BalanceRowSql, type FillRow, type PositionRow, type PostingRow } from './store-rows.ts'

export interface BalanceRow {
  accountId: string
  asset: string
  total: Units
  reserved: Units
}

export interface StoreBatch {
  /** The log position this batch brings the store to, and the chain hash of the record there. */
  lastLsn: number
  lastHash: string
  postings: readonly Posting[]
  fills: readonly FillRecord[]
  positions: readonly Position[]
  balances: readonly BalanceRow[]
  /** The writing ledger's LedgerState.lotsUntrackedThroughLsn (kept in table lots_rule; see lotsUntrackedThroughLsn). */
  lotsUntrackedThroughLsn: number
}

export interface LedgerQuery {
  accountId?: string
  asset?: string
  book?: string
  fromLsn?: number
  toLsn?: number
  fromMs?: number
  toMs?: number
  /** Exclusive: postings after this (lsn, seq). */
  after?: { lsn: number; seq: number }
  limit: number
}

export interface FillQuery {
  accountId?: string
  venue?: string
  symbol?: string
  orderId?: string
  fromLsn?: number
  toLsn?: number
  fromMs?: number
  toMs?: number
  afterLsn?: number
  limit: number
}

export interface StoreCounts {
  postings: number
  fills: number
  positions: number
  balances: number
}

const SCHEMA = [
  // Not in the content digest: which rule split the true-ups behind the figures, not a figure (Store.lotsUntrackedThroughLsn).
  'CREATE TABLE IF NOT EXISTS lots_rule (id INTEGER PRIMARY KEY CHECK (id = 1), untracked_through_lsn INTEGER NOT NULL)',
  'CREATE TABLE IF NOT EXISTS meta (id INTEGER PRIMARY KEY CHECK (id = 1), last_lsn INTEGER NOT NULL, last_hash TEXT NOT NULL, batches INTEGER NOT NULL)',
  `CREATE TABLE IF NOT EXISTS postings (lsn INTEGER NOT NULL, seq INTEGER NOT NULL, book TEXT NOT NULL, account_id TEXT NOT NULL,
     asset TEXT NOT NULL, amount TEXT NOT NULL, kind TEXT NOT NULL, ref TEXT NOT NULL, at_ms INTEGER NOT NULL, PRIMARY KEY (lsn, seq)) WITHOUT ROWID`,
  'CREATE INDEX IF NOT EXISTS postings_account ON postings (account_id, lsn, seq)',
  `CREATE TABLE IF NOT EXISTS fills (lsn INTEGER PRIMARY KEY, exec_id TEXT NOT NULL, order_id TEXT NOT NULL, account_id TEXT NOT NULL,
     venue TEXT NOT NULL, symbol TEXT NOT NULL, side TEXT NOT NULL, qty TEXT NOT NULL, price TEXT NOT NULL, fee TEXT NOT NULL,
     fee_asset TEXT NOT NULL, liquidity TEXT, synthetic INTEGER NOT NULL, cash TEXT NOT NULL, venue_time_ms INTEGER NOT NULL, at_ms INTEGER NOT NULL)`,
  'CREATE INDEX IF NOT EXISTS fills_account ON fills (account_id, lsn)',
  // The reconcile's trades check reads a long-resting order's fills by its id (venue-trades.ts).
  'CREATE INDEX IF NOT EXISTS fills_order ON fills (order_id, lsn)',
  `CREATE TABLE IF NOT EXISTS positions (account_id TEXT NOT NULL, venue TEXT NOT NULL, symbol TEXT NOT NULL, base_asset TEXT NOT NULL,
     quote_asset TEXT NOT NULL, net_qty TEXT NOT NULL, cost_basis TEXT NOT NULL, realized_pnl TEXT NOT NULL, fees TEXT NOT NULL,
     bought_qty TEXT NOT NULL, sold_qty TEXT NOT NULL, fill_count INTEGER NOT NULL, last_lsn INTEGER NOT NULL, PRIMARY KEY (account_id, venue, symbol))`,
  `CREATE TABLE IF NOT EXISTS balances (account_id TEXT NOT NULL, asset TEXT NOT NULL, total TEXT NOT NULL, reserved TEXT NOT NULL,
     PRIMARY KEY (account_id, asset))`,
]

export interface QueryModelDigest {
  lastLsn: number
  lastHash: string
  /** SHA-256 over the position and every table's digest. */
  digest: string
  tables: Record<string, { rows: number; sha256: string }>
}

const DIGEST_ORDER: readonly (readonly [string, string])[] = [
  ['postings', 'lsn, seq'],
  ['fills', 'lsn'],
  ['positions', 'account_id, venue, symbol'],
  ['balances', 'account_id, asset'],
]

/**
 * A serialized WAL-mode database says so in its header (bytes 18–19 = 2), and SQLite cannot open such an image in
 * memory; rollback-journal mode (1) reads the same pages. Opening the file later switches it back to WAL.
 */
function inMemoryImage(image: Uint8Array): Uint8Array {
  const copy = new Uint8Array(image)
  if (copy.byteLength >= 20) {
    copy[18] = 1
    copy[19] = 1
  }
  return copy
}

export class Store {
  #resets = 0
  readonly path: string
  private readonly db: Database
  private position: { lastLsn: number; lastHash: string; batches: number }

  private constructor(path: string, db: Database) {
    this.path = path
    this.db = db
    const row = db.query('SELECT last_lsn, last_hash, batches FROM meta WHERE id = 1').get() as { last_lsn: bigint; last_hash: string; batches: bigint } | null
    this.position = row === null ? { lastLsn: 0, lastHash: '', batches: 0 } : { lastLsn: Number(row.last_lsn), lastHash: row.last_hash, batches: Number(row.batches) }
  }

  /** Opens (creating if needed) the store at `path`; ':memory:' for a throwaway one. */
  static open(path: string): Store {
    const db = new Database(path, { create: true, strict: true, safeIntegers: true })
    // The store is rebuilt from the log after any loss, so it needs atomic batches, not an fsync per batch.
    db.exec('PRAGMA journal_mode = WAL')
    db.exec('PRAGMA synchronous = NORMAL')
    for (const statement of SCHEMA) db.exec(statement)
    return new Store(path, db)
  }

  /** An in-memory store holding a copy of `image` (a store's `image()`); nothing is written back anywhere. */
  static openImage(image: Uint8Array): Store {
    const db = Database.deserialize(inMemoryImage(image), { strict: true, safeIntegers: true })
    for (const statement of SCHEMA) db.exec(statement)
    return new Store(':memory:', db)
  }

  /** The whole database as one SQLite file image (a consistent copy: one statement, nothing runs meanwhile). */
  image(): Uint8Array {
    return inMemoryImage(this.db.serialize())
  }

  /** Runs `change` in one transaction (the snapshot trims a copy with it). */
  transaction(change: (db: Database) => void): void {
    this.db.transaction(() => change(this.db))()
  }

  /** Replaces the position the rows reflect (a trimmed copy's new end). */
  setPosition(lastLsn: number, lastHash: string): void {
    this.db
      .query('INSERT INTO meta (id, last_lsn, last_hash, batches) VALUES (1, ?1, ?2, ?3) ON CONFLICT (id) DO UPDATE SET last_lsn = ?1, last_hash = ?2')
      .run(lastLsn, lastHash, this.position.batches)
    this.position = { ...this.position, lastLsn, lastHash }
  }

  /** Replaces every position and balance row (a copy trimmed to an LSN takes them from the ledger at that LSN). */
  replaceDerived(positions: readonly Position[], balances: readonly BalanceRow[]): void {
    this.db.transaction(() => {
      this.db.exec('DELETE FROM positions')
      this.db.exec('DELETE FROM balances')
      this.upsertPositions(positions)
      this.upsertBalances(balances)
    })()
  }

  /**
   * Per table, the row count and a SHA-256 over its rows in key order (amounts as their canonical text), and one
   * digest over the position and every table — the query model's identity, independent of batches and file layout.
   */
  contentDigest(): QueryModelDigest {
    const digesting = this.digestSteps()
    for (let step = digesting.next(); ; step = digesting.next()) if (step.done === true) return step.value
  }

  /** The same digest, yielding to the event loop (`pause`) every `rowsPerSlice` rows: a snapshot digests its copy so. */
  async contentDigestSliced(pause: () => Promise<void>, rowsPerSlice = 5_000): Promise<QueryModelDigest> {
    const digesting = this.digestSteps(rowsPerSlice)
    for (let step = digesting.next(); ; step = digesting.next()) {
      if (step.done === true) return step.value
      await pause()
    }
  }

  /** Digests table by table, row by row (fields joined by a unit separator); yields every `rowsPerSlice` rows. */
  private *digestSteps(rowsPerSlice = Number.POSITIVE_INFINITY): Generator<void, QueryModelDigest> {
    const tables: Record<string, { rows: number; sha256: string }> = {}
    const all = new Bun.CryptoHasher('sha256')
    all.update(`meta\n${this.position.lastLsn}\n${this.position.lastHash}\n`)
    let sinceYield = 0
    for (const [table, order] of DIGEST_ORDER) {
      const hasher = new Bun.CryptoHasher('sha256')
      let rows = 0
      for (const row of this.db.query(`SELECT * FROM ${table} ORDER BY ${order}`).iterate() as IterableIterator<Record<string, unknown>>) {
        hasher.update(`${Object.values(row).map((value) => (value === null ? '\u0000' : String(value))).join('\u001f')}\n`)
        rows++
        if (++sinceYield >= rowsPerSlice) {
          sinceYield = 0
          yield
        }
      }
      const sha256 = hasher.digest('hex')
      tables[table] = { rows, sha256 }
      all.update(`${table}\n${rows}\n${sha256}\n`)
    }
    return { lastLsn: this.position.lastLsn, lastHash: this.position.lastHash, digest: all.digest('hex'), tables }
  }

  /** The log position the rows reflect (0: empty). */
  get lastLsn(): number {
    return this.position.lastLsn
  }

  get lastHash(): string {
    return this.position.lastHash
  }

  get batches(): number {
    return this.position.batches
  }

  /** Writes one batch and its position atomically. Rows at or below the current position are a bug. */
  write(batch: StoreBatch): void {
    // Messages as functions: the posting check runs for every row of every batch.
    assert(batch.lastLsn >= this.position.lastLsn, () => `store batch at LSN ${batch.lastLsn} is behind the store (${this.position.lastLsn})`)
    for (const posting of batch.postings) assert(posting.lsn > this.position.lastLsn && posting.lsn <= batch.lastLsn, () => `posting at LSN ${posting.lsn} outside the batch`)
    const batches = this.position.batches + 1
    this.db.transaction(() => {
      this.insertPostings(batch.postings)
      this.insertFills(batch.fills)
      this.upsertPositions(batch.positions)
      this.upsertBalances(batch.balances)
      this.db
        .query('INSERT INTO meta (id, last_lsn, last_hash, batches) VALUES (1, ?1, ?2, ?3) ON CONFLICT (id) DO UPDATE SET last_lsn = ?1, last_hash = ?2, batches = ?3')
        .run(batch.lastLsn, batch.lastHash, batches)
      this.db
        .query('INSERT INTO lots_rule (id, untracked_through_lsn) VALUES (1, ?1) ON CONFLICT (id) DO UPDATE SET untracked_through_lsn = ?1')
        .run(batch.lotsUntrackedThroughLsn)
    })()
    this.position = { lastLsn: batch.lastLsn, lastHash: batch.lastHash, batches }
  }

  /**
   * Through which LSN the ledger that wrote these rows kept no synthetic lots (LedgerState.lotsUntrackedThroughLsn), so
   * split true-ups by the rule before lots; null when no build that keeps lots wrote to it (then, for a store that is
   * not empty, through its last LSN). A back office keeping this store continues with the same rule.
   */
  lotsUntrackedThroughLsn(): number | null {
    const row = this.db.query('SELECT untracked_through_lsn FROM lots_rule WHERE id = 1').get() as { untracked_through_lsn: bigint } | null
    return row === null ? null : Number(row.untracked_through_lsn)
  }

  /** Empties every table: the store no longer matches the log and will be rebuilt from it. */
  reset(): void {
    this.#resets += 1
    this.db.transaction(() => {
      for (const table of ['meta', 'postings', 'fills', 'positions', 'balances', 'lots_rule']) this.db.exec(`DELETE FROM ${table}`)
    })()
    this.position = { lastLsn: 0, lastHash: '', batches: 0 }
  }

  postings(query: LedgerQuery): Posting[] {
    const where: string[] = []
    const params: (string | number)[] = []
    if (query.accountId !== undefined) where.push(`account_id = ?${params.push(query.accountId)}`)
    if (query.asset !== undefined) where.push(`asset = ?${params.push(query.asset)}`)
    if (query.book !== undefined) where.push(`book = ?${params.push(query.book)}`)
    if (query.fromLsn !== undefined) where.push(`lsn >= ?${params.push(query.fromLsn)}`)
    if (query.toLsn !== undefined) where.push(`lsn <= ?${params.push(query.toLsn)}`)
    if (query.fromMs !== undefined) where.push(`at_ms >= ?${params.push(query.fromMs)}`)
    if (query.toMs !== undefined) where.push(`at_ms <= ?${params.push(query.toMs)}`)
    if (query.after !== undefined) where.push(`(lsn, seq) > (?${params.push(query.after.lsn)}, ?${params.push(query.after.seq)})`)
    const sql = `SELECT * FROM postings ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY lsn, seq LIMIT ?${params.push(query.limit)}`
    return (this.db.query(sql).all(...params) as PostingRow[]).map(postingOf)
  }

  fills(query: FillQuery): FillRecord[] {
    const where: string[] = []
    const params: (string | number)[] = []
    if (query.accountId !== undefined) where.push(`account_id = ?${params.push(query.accountId)}`)
    if (query.venue !== undefined) where.push(`venue = ?${params.push(query.venue)}`)
    if (query.symbol !== undefined) where.push(`symbol = ?${params.push(query.symbol)}`)
    if (query.orderId !== undefined) where.push(`order_id = ?${params.push(query.orderId)}`)
    if (query.fromLsn !== undefined) where.push(`lsn >= ?${params.push(query.fromLsn)}`)
    if (query.toLsn !== undefined) where.push(`lsn <= ?${params.push(query.toLsn)}`)
    if (query.fromMs !== undefined) where.push(`at_ms >= ?${params.push(query.fromMs)}`)
    if (query.toMs !== undefined) where.push(`at_ms <= ?${params.push(query.toMs)}`)
    if (query.afterLsn !== undefined) where.push(`lsn > ?${params.push(query.afterLsn)}`)
    const sql = `SELECT * FROM fills ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY lsn LIMIT ?${params.push(query.limit)}`
    return (this.db.query(sql).all(...params) as FillRow[]).map(fillOf)
  }

  positions(accountId?: string): Position[] {
    const rows = (accountId === undefined
      ? this.db.query('SELECT * FROM positions ORDER BY account_id, venue, symbol').all()
      : this.db.query('SELECT * FROM positions WHERE account_id = ?1 ORDER BY venue, symbol').all(accountId)) as PositionRow[]
    return rows.map(positionOf)
  }

  balances(accountId?: string): BalanceRow[] {
    const rows = (accountId === undefined
      ? this.db.query('SELECT * FROM balances ORDER BY account_id, asset').all()
      : this.db.query('SELECT * FROM balances WHERE account_id = ?1 ORDER BY asset').all(accountId)) as BalanceRowSql[]
    return rows.map((row) => ({ accountId: row.account_id, asset: row.asset, total: parseDecimal(row.total), reserved: parseDecimal(row.reserved) }))
  }

  counts(): StoreCounts {
    const count = (table: string): number => Number((this.db.query(`SELECT count(*) AS n FROM ${table}`).get() as { n: bigint }).n)
    return { postings: count('postings'), fills: count('fills'), positions: count('positions'), balances: count('balances') }
  }

  /**
   * Adds the stored postings after `after` (by lsn, seq) up to `toLsn` into `sums` (book → asset → amount), at most
   * `rowsMax` of them; returns the last one read (`after` when none). For reconciling the store against the ledger a
   * page at a time (book-sums.ts), never the whole table at once.
   */
  addBookSums(sums: Map<string, Map<string, Units>>, after: { lsn: number; seq: number }, toLsn: number, rowsMax: number): { lsn: number; seq: number; rows: number } {
    const rows = this.db
      .query('SELECT lsn, seq, book, asset, amount FROM postings WHERE (lsn, seq) > (?1, ?2) AND lsn <= ?3 ORDER BY lsn, seq LIMIT ?4')
      .iterate(after.lsn, after.seq, toLsn, rowsMax) as IterableIterator<{ lsn: bigint; seq: bigint; book: string; asset: string; amount: string }>
    let last = { ...after, rows: 0 }
    for (const row of rows) {
      let assets = sums.get(row.book)
      if (assets === undefined) {
        assets = new Map()
        sums.set(row.book, assets)
      }
      assets.set(row.asset, (assets.get(row.asset) ?? 0n) + parseDecimal(row.amount))
      last = { lsn: Number(row.lsn), seq: Number(row.seq), rows: last.rows + 1 }
    }
    return last
  }

  /** How many times the store was emptied (reset): what was read from it before is void. */
  get resets(): number {
    return this.#resets
  }

  close(): void {
    this.db.close()
  }

  private insertPostings(postings: readonly Posting[]): void {
    const insert = this.db.query('INSERT INTO postings (lsn, seq, book, account_id, asset, amount, kind, ref, at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)')
    for (const p of postings) insert.run(p.lsn, p.seq, p.book, p.accountId, p.asset, formatDecimal(p.amount), p.kind, p.ref, p.atMs)
  }

  private insertFills(fills: readonly FillRecord[]): void {
    const insert = this.db.query(
      `INSERT INTO fills (lsn, exec_id, order_id, account_id, venue, symbol, side, qty, price, fee, fee_asset, liquidity, synthetic, cash, venue_time_ms, at_ms)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)`,
    )
    for (const f of fills) {
      insert.run(f.lsn, f.execId, f.orderId, f.accountId, f.venue, f.symbol, f.side, formatDecimal(f.qty), formatDecimal(f.price), formatDecimal(f.fee), f.feeAsset, f.liquidity, f.synthetic ? 1 : 0, formatDecimal(f.cash), f.venueTimeMs, f.atMs)
    }
  }

  private upsertPositions(positions: readonly Position[]): void {
    const upsert = this.db.query(
      `INSERT OR REPLACE INTO positions (account_id, venue, symbol, base_asset, quote_asset, net_qty, cost_basis, realized_pnl, fees, bought_qty, sold_qty, fill_count, last_lsn)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)`,
    )
    for (const p of positions) {
      const fees = JSON.stringify(Object.fromEntries([...p.fees].map(([asset, fee]) => [asset, formatDecimal(fee)])))
      upsert.run(p.accountId, p.venue, p.symbol, p.baseAsset, p.quoteAsset, formatDecimal(p.netQty), formatDecimal(p.costBasis), formatDecimal(p.realizedPnl), fees, formatDecimal(p.boughtQty), formatDecimal(p.soldQty), p.fillCount, p.lastLsn)
    }
  }

  private upsertBalances(balances: readonly BalanceRow[]): void {
    const upsert = this.db.query('INSERT OR REPLACE INTO balances (account_id, asset, total, reserved) VALUES (?1, ?2, ?3, ?4)')
    for (const b of balances) upsert.run(b.accountId, b.asset, formatDecimal(b.total), formatDecimal(b.reserved))
  }
}
