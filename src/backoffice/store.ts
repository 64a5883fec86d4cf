/**
 * The query model in bun:sqlite: postings, fills, positions and balances as rows, written in batches, each batch in
 * one transaction together with the log position it reflects (`meta.last_lsn` and the chain hash of that record).
 * A crash either keeps a batch whole, position included, or loses it whole — so on start the store resumes exactly
 * after `last_lsn`, and a row can never be written twice (postings and fills are keyed by LSN and a repeat fails).
 *
 * SQLite is never the source of truth: a store that does not match the log (ahead of it, or its recorded hash
 * differs) is emptied and rebuilt from the log. Amounts are stored as canonical decimal text, never as floats.
 * Tables and versions: store-schema.ts; the SQL over the two fill tables: store-fills.ts.
 */

import { Database, SQLiteError } from 'bun:sqlite'
import { assert } from '../domain/assert.ts'
import { formatDecimal, parseComputedDecimal, type Units } from '../domain/decimal.ts'
import type { FillRecord, Posting } from './ledger-state.ts'
import type { Position } from './positions.ts'
import { accountsOfOrders, fillWhere, insertFills, insertTrueUpFills, listedFillRows, supersessionOf, type FillQuery, type ListedFillRow, type OrderSupersession, type SupersessionBound } from './store-fills.ts'
import { fillOf, positionOf, postingOf, type BalanceRowSql, type FillRow, type PositionRow, type PostingRow } from './store-rows.ts'
import { digestSteps, type QueryModelDigest } from './store-digest.ts'
import { QueryModelStoreError } from './store-error.ts'
import { checkStorePages } from './store-file.ts'
import { inMemoryImage, markRollbackJournal } from './store-image.ts'
import { modelVersionOf, prepareSchema, QUERY_MODEL_VERSION, TABLES, type ModelVersion, type ModelVersionRow } from './store-schema.ts'
import type { TrueUpFill } from './true-up-fills.ts'

export type { FillQuery, OrderSupersession } from './store-fills.ts'
export type { QueryModelDigest } from './store-digest.ts'
export type { ModelVersion } from './store-schema.ts'

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
  /** The real executions of true-ups (true-up-fills.ts). */
  trueUpFills: readonly TrueUpFill[]
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

/**
 * `asVersion1`: read the store as query model version 1 whatever its `model_version` row says — the image of a section
 * of format 4 or less, which an older build copied from a file a newer one may have written first (store-schema.ts).
 */
export interface StoreOpenOptions {
  asVersion1: boolean
}

export interface StoreCounts {
  postings: number
  fills: number
  trueUpFills: number
  positions: number
  balances: number
}

export class Store {
  #resets = 0
  readonly path: string
  private readonly db: Database
  private position: { lastLsn: number; lastHash: string; batches: number }
  private model: ModelVersion

  private constructor(path: string, db: Database, options: StoreOpenOptions) {
    this.path = path
    this.db = db
    const row = db.query('SELECT last_lsn, last_hash, batches FROM meta WHERE id = 1').get() as { last_lsn: bigint; last_hash: string; batches: bigint } | null
    this.position = row === null ? { lastLsn: 0, lastHash: '', batches: 0 } : { lastLsn: Number(row.last_lsn), lastHash: row.last_hash, batches: Number(row.batches) }
    const version = db.query('SELECT version, true_ups_untracked_through_lsn, written_through_lsn FROM model_version WHERE id = 1').get() as ModelVersionRow | null
    this.model = modelVersionOf(version, this.position.lastLsn, options)
  }

  /** Opens (creating if needed) the store at `path`; ':memory:' for a throwaway one. */
  static open(path: string, options: StoreOpenOptions = { asVersion1: false }): Store {
    let db: Database | null = null
    try {
      const opened = new Database(path, { create: true, strict: true, safeIntegers: true })
      db = opened
      // First, in one transaction with the first reads of it: a file refused here (another program's tables, say) is
      // left as it was, its journal mode too.
      const store = opened.transaction(() => {
        if (path !== ':memory:') checkStorePages(path, opened)
        prepareSchema(opened)
        return new Store(path, opened, options)
      })()
      // The store is rebuilt from the log after any loss, so it needs atomic batches, not an fsync per batch.
      opened.exec('PRAGMA journal_mode = WAL')
      opened.exec('PRAGMA synchronous = NORMAL')
      return store
    } catch (error) {
      db?.close()
      // Not a store this build can use (another file, a damaged one, another program's tables): refused by name.
      if (error instanceof SQLiteError) throw QueryModelStoreError.unreadable(path, error)
      throw error
    }
  }

  /** An in-memory store holding a copy of `image` (a store's `image()`); nothing is written back anywhere. */
  static openImage(image: Uint8Array, options: StoreOpenOptions = { asVersion1: false }): Store {
    const db = Database.deserialize(inMemoryImage(image), { strict: true, safeIntegers: true })
    prepareSchema(db)
    return new Store(':memory:', db, options)
  }

  /** The whole database as one SQLite file image (a consistent copy: one statement, nothing runs meanwhile). */
  image(): Uint8Array {
    return markRollbackJournal(this.db.serialize())
  }

  /** Runs `change` in one transaction (the snapshot trims a copy with it). */
  transaction(change: (db: Database) => void): void {
    this.db.transaction(() => change(this.db))()
  }

  /** Replaces the position the rows reflect (a trimmed copy's new end): what this build wrote ends there too. */
  setPosition(lastLsn: number, lastHash: string): void {
    this.db.transaction(() => {
      this.db
        .query('INSERT INTO meta (id, last_lsn, last_hash, batches) VALUES (1, ?1, ?2, ?3) ON CONFLICT (id) DO UPDATE SET last_lsn = ?1, last_hash = ?2')
        .run(lastLsn, lastHash, this.position.batches)
      this.db.query('UPDATE model_version SET written_through_lsn = min(written_through_lsn, ?1)').run(lastLsn)
    })()
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
   * The content digest (store-digest.ts) over the tables of `version`: this store's own, unless a caller compares it
   * with a digest an older build recorded (store-schema.ts).
   */
  contentDigest(version = this.model.version): QueryModelDigest {
    const digesting = digestSteps(this.db, { position: this.position, version, rowsPerSlice: Number.POSITIVE_INFINITY })
    for (let step = digesting.next(); ; step = digesting.next()) if (step.done === true) return step.value
  }

  /** The same digest, yielding to the event loop (`pause`) every `rowsPerSlice` rows: a snapshot digests its copy so. */
  async contentDigestSliced(pause: () => Promise<void>, rowsPerSlice = 5_000): Promise<QueryModelDigest> {
    const digesting = digestSteps(this.db, { position: this.position, version: this.model.version, rowsPerSlice })
    for (let step = digesting.next(); ; step = digesting.next()) {
      if (step.done === true) return step.value
      await pause()
    }
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

  /** The query model version this store holds (store-schema.ts) and through which LSN it holds no true-up fills. */
  get modelVersion(): ModelVersion {
    return { ...this.model }
  }

  /**
   * Brings a store of an older version to this build's in place, keeping its rows (store-schema.ts): for a compacted
   * log, where the history it holds is no longer in the log to rebuild it from. It then holds no true-up fill through
   * its LSN, and says so: any it held (left by this build before an older one wrote on it) go, as a rebuild compared
   * with it leaves them out. A store already at this version is left as it is.
   */
  upgradeInPlace(): void {
    if (this.model.version === QUERY_MODEL_VERSION) return
    assert(this.model.version === 1, () => `no upgrade from query model version ${this.model.version}`)
    this.model = { version: QUERY_MODEL_VERSION, trueUpsUntrackedThroughLsn: this.position.lastLsn }
    this.db.transaction(() => {
      this.db.exec('DELETE FROM true_up_fills')
      this.writeModelVersion(this.position.lastLsn)
    })()
  }

  /** Writes one batch and its position atomically. Rows at or below the current position are a bug. */
  write(batch: StoreBatch): void {
    // Messages as functions: the posting check runs for every row of every batch.
    assert(batch.lastLsn >= this.position.lastLsn, () => `store batch at LSN ${batch.lastLsn} is behind the store (${this.position.lastLsn})`)
    for (const posting of batch.postings) assert(posting.lsn > this.position.lastLsn && posting.lsn <= batch.lastLsn, () => `posting at LSN ${posting.lsn} outside the batch`)
    // An older store gets rows of this version only once it is upgraded or rebuilt (projector-start.ts): never mixed.
    assert(this.model.version === QUERY_MODEL_VERSION, () => `rows written to a query model of version ${this.model.version} (this build writes ${QUERY_MODEL_VERSION})`)
    const batches = this.position.batches + 1
    this.db.transaction(() => {
      this.insertPostings(batch.postings)
      insertFills(this.db, batch.fills)
      insertTrueUpFills(this.db, batch.trueUpFills)
      this.writeModelVersion(batch.lastLsn)
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

  /**
   * Empties every table: the store no longer matches the log, or is of an older version, and will be rebuilt from it.
   * `lotsUntrackedThroughLsn`: the lots rule the rebuild repeats, kept with the emptying so a start that dies before
   * its first write still finds it (projector-start.ts).
   */
  reset(options: { lotsUntrackedThroughLsn: number } = { lotsUntrackedThroughLsn: 0 }): void {
    this.#resets += 1
    this.db.transaction(() => {
      for (const table of TABLES) this.db.exec(`DELETE FROM ${table}`)
      if (options.lotsUntrackedThroughLsn > 0) this.db.query('INSERT INTO lots_rule (id, untracked_through_lsn) VALUES (1, ?1)').run(options.lotsUntrackedThroughLsn)
    })()
    this.position = { lastLsn: 0, lastHash: '', batches: 0 }
    this.model = { version: QUERY_MODEL_VERSION, trueUpsUntrackedThroughLsn: 0 }
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

  /** The fill records (the ledger's: synthetic fills included, true-up fills not) matching `query`, in log order. */
  fills(query: FillQuery): FillRecord[] {
    const params: (string | number)[] = []
    const sql = `SELECT * FROM fills ${fillWhere(query, params)} ORDER BY lsn LIMIT ?${params.push(query.limit)}`
    return (this.db.query(sql).all(...params) as FillRow[]).map(fillOf)
  }

  /** The account of each order of `orderIds` with a fill record, read in a statement per batch of ids (store-fills.ts). */
  accountsOfOrders(orderIds: readonly string[]): Map<string, string> {
    return accountsOfOrders(this.db, orderIds)
  }

  /** Fill records and true-up fills matching `query`, merged in log order (fill-list.ts reads them). */
  listedFillRows(query: FillQuery): ListedFillRow[] {
    return listedFillRows(this.db, query)
  }

  /** Per order of `orderIds`: its synthetic fills and what its true-ups repriced, through `throughLsn` (one statement). */
  supersessionOf(orderIds: readonly string[], through: SupersessionBound): Map<string, OrderSupersession> {
    return supersessionOf(this.db, orderIds, through)
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
    return rows.map((row) => ({ accountId: row.account_id, asset: row.asset, total: parseComputedDecimal(row.total), reserved: parseComputedDecimal(row.reserved) }))
  }

  counts(): StoreCounts {
    const count = (table: string): number => Number((this.db.query(`SELECT count(*) AS n FROM ${table}`).get() as { n: bigint }).n)
    return { postings: count('postings'), fills: count('fills'), trueUpFills: count('true_up_fills'), positions: count('positions'), balances: count('balances') }
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
      assets.set(row.asset, (assets.get(row.asset) ?? 0n) + parseComputedDecimal(row.amount))
      last = { lsn: Number(row.lsn), seq: Number(row.seq), rows: last.rows + 1 }
    }
    return last
  }

  /**
   * The LSN of the oldest posting or fill the store holds (null: none): a ledger that writes on the store must have
   * folded the log from there, or its balances and positions lack what those rows booked (projector-start.ts).
   */
  oldestRowLsn(): number | null {
    const row = this.db.query('SELECT min(lsn) AS lsn FROM (SELECT min(lsn) AS lsn FROM postings UNION ALL SELECT min(lsn) FROM fills)').get() as { lsn: bigint | null }
    return row.lsn === null ? null : Number(row.lsn)
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

  /** Records the version, and that this build wrote the rows through `writtenThroughLsn` (store-schema.ts). */
  private writeModelVersion(writtenThroughLsn: number): void {
    this.db
      .query(
        `INSERT INTO model_version (id, version, true_ups_untracked_through_lsn, written_through_lsn) VALUES (1, ?1, ?2, ?3)
         ON CONFLICT (id) DO UPDATE SET version = ?1, true_ups_untracked_through_lsn = ?2, written_through_lsn = ?3`,
      )
      .run(this.model.version, this.model.trueUpsUntrackedThroughLsn, writtenThroughLsn)
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
