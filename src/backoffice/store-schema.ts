/**
 * The query model's tables, its versions, and which tables its content digest covers at each version.
 *
 * A store says which version wrote it in table `model_version` (one row). A store without that row that is not
 * empty was written by a build before versions were kept: version 1. Each version's digest covers the tables it has,
 * so a digest recorded by an older build (a stored query model not yet upgraded, a snapshot section's header) is
 * compared with a rebuild's digest over the same tables, never silently over fewer or more.
 *
 *   1  postings, fills, positions, balances (and lots_rule, not digested: Store.lotsUntrackedThroughLsn).
 *   2  also true_up_fills: the real execution behind each true-up of synthetic quantity (true-up-fills.ts), which
 *      `GET /v1/fills` lists beside the synthetic fill it supersedes (fill-list.ts). A version 1 store is rebuilt from
 *      the log where the log still holds its history; where it does not (a compacted log), it is upgraded in place
 *      and records through which LSN it holds no true-up fills (`model_version.true_ups_untracked_through_lsn`), which
 *      the fill list reports as not known, and which a rebuild compared with it repeats.
 *
 * A build before versions writes on a store of any version as on its own (a rollback): its rows and position, never
 * `model_version` or `true_up_fills`. So the row also says through which LSN a build that keeps it wrote
 * (`written_through_lsn`); a store whose position is past that holds no true-up fill from there, and reads as version 1
 * through its position (modelVersionOf). A version this build does not know (a later build's) is not read at all.
 */

import type { Database } from 'bun:sqlite'

export const QUERY_MODEL_VERSION = 2

export const SCHEMA: readonly string[] = [
  // Not in the content digest: which rule split the true-ups behind the figures, not a figure (Store.lotsUntrackedThroughLsn).
  'CREATE TABLE IF NOT EXISTS lots_rule (id INTEGER PRIMARY KEY CHECK (id = 1), untracked_through_lsn INTEGER NOT NULL)',
  // Not in the content digest: which version wrote the rows (see the header), not a row of them.
  `CREATE TABLE IF NOT EXISTS model_version (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL, true_ups_untracked_through_lsn INTEGER NOT NULL,
     written_through_lsn INTEGER NOT NULL DEFAULT 0)`,
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
  // Version 2. Keyed by the LSN of the `order.fill_trued_up` record; its columns are those of fills but `synthetic`.
  `CREATE TABLE IF NOT EXISTS true_up_fills (lsn INTEGER PRIMARY KEY, exec_id TEXT NOT NULL, order_id TEXT NOT NULL, account_id TEXT NOT NULL,
     venue TEXT NOT NULL, symbol TEXT NOT NULL, side TEXT NOT NULL, qty TEXT NOT NULL, price TEXT NOT NULL, fee TEXT NOT NULL,
     fee_asset TEXT NOT NULL, liquidity TEXT, cash TEXT NOT NULL, venue_time_ms INTEGER NOT NULL, at_ms INTEGER NOT NULL)`,
  'CREATE INDEX IF NOT EXISTS true_up_fills_account ON true_up_fills (account_id, lsn)',
  'CREATE INDEX IF NOT EXISTS true_up_fills_order ON true_up_fills (order_id, lsn)',
]

/** Every table a reset empties. */
export const TABLES: readonly string[] = ['meta', 'model_version', 'postings', 'fills', 'true_up_fills', 'positions', 'balances', 'lots_rule']

const DIGEST_V1: readonly (readonly [string, string])[] = [
  ['postings', 'lsn, seq'],
  ['fills', 'lsn'],
  ['positions', 'account_id, venue, symbol'],
  ['balances', 'account_id, asset'],
]

/** The tables (and their key order) the content digest of a query model of `version` covers. */
export function digestTables(version: number): readonly (readonly [string, string])[] {
  if (version === 1) return DIGEST_V1
  if (version === 2) return [...DIGEST_V1, ['true_up_fills', 'lsn']]
  throw new RangeError(`query model version ${version} is unknown to this build (it knows 1 to ${QUERY_MODEL_VERSION})`)
}

/** Which version of the query model a store holds, and through which LSN it holds no true-up fills. */
export interface ModelVersion {
  version: number
  trueUpsUntrackedThroughLsn: number
}

export interface ModelVersionRow {
  version: bigint
  true_ups_untracked_through_lsn: bigint
  written_through_lsn: bigint
}

/** Whether this build reads (and, from version 1, upgrades) a query model of `version`. */
export function isKnownModelVersion(version: number): boolean {
  return Number.isSafeInteger(version) && version >= 1 && version <= QUERY_MODEL_VERSION
}

/**
 * The version of a store at `lastLsn` whose `model_version` row is `row` (null: none). `asVersion1`: the caller knows a
 * build before versions wrote it (a section of format 4 or less), whatever row the file it copied held.
 */
export function modelVersionOf(row: ModelVersionRow | null, lastLsn: number, options: { asVersion1: boolean }): ModelVersion {
  const version1: ModelVersion = { version: 1, trueUpsUntrackedThroughLsn: lastLsn }
  if (options.asVersion1) return version1
  // No row: empty (this build writes it with the first rows), or written by a build before versions were kept.
  if (row === null) return lastLsn === 0 ? { version: QUERY_MODEL_VERSION, trueUpsUntrackedThroughLsn: 0 } : version1
  const recorded: ModelVersion = { version: Number(row.version), trueUpsUntrackedThroughLsn: Number(row.true_ups_untracked_through_lsn) }
  // A later build's store is reported as it is: not this build's to read (projector-start.ts replaces it).
  if (!isKnownModelVersion(recorded.version)) return recorded
  // Rows past what a build keeping versions wrote are an older build's, with no true-up fills: version 1 throughout.
  return lastLsn > Number(row.written_through_lsn) ? version1 : recorded
}

/**
 * Creates what is missing. A store written by this version before `written_through_lsn` existed (builds between the
 * version's introduction and the column, never released) gets the column, its row trusted through its position.
 */
export function prepareSchema(db: Database): void {
  for (const statement of SCHEMA) db.exec(statement)
  const columns = db.query('PRAGMA table_info(model_version)').all() as { name: string }[]
  if (columns.some((column) => column.name === 'written_through_lsn')) return
  db.transaction(() => {
    db.exec('ALTER TABLE model_version ADD COLUMN written_through_lsn INTEGER NOT NULL DEFAULT 0')
    db.exec('UPDATE model_version SET written_through_lsn = coalesce((SELECT last_lsn FROM meta WHERE id = 1), 0)')
  })()
}
