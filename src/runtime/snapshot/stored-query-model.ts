/**
 * The data dir's stored query model (`DIR/backoffice.sqlite`) as evidence, read without writing the data dir: the
 * offline commands (`egress snapshot`, `egress compact`: offline.ts) refuse it where a start refuses it
 * (src/backoffice/projector-start.ts, store-error.ts), with the same codes:
 *
 * - QUERY_MODEL_UNREADABLE: no store this build can use (not SQLite, damaged, another program's tables);
 * - QUERY_MODEL_BEYOND_LOG: it holds the log through an LSN past the log's end, on a log written with durability fsync
 *   — the back office writes only durable records, so the log lost records that were durable.
 *
 * Before, an offline snapshot or compaction went ahead on such a data dir: a snapshot written over a log that lost
 * durable records (a later start refused the data dir anyway), or segments compacted away below it before anyone looked.
 */

import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { QueryModelStoreError, Store } from '../../backoffice/index.ts'
import { copyStoredQueryModel } from './query-model-copy.ts'
import { STORED_QUERY_MODEL } from './verify-query-model.ts'

/**
 * The stored query model's last LSN, read from a copy (its -wal too) so the data dir is never written; null when there
 * is none. Throws QueryModelStoreError (QUERY_MODEL_UNREADABLE) naming the data dir's file when it is no usable store.
 */
export function storedQueryModelLastLsn(dataDir: string): number | null {
  const path = join(dataDir, STORED_QUERY_MODEL)
  if (!existsSync(path)) return null
  const scratch = mkdtempSync(join(tmpdir(), 'egress-query-model-'))
  try {
    const copy = copyStoredQueryModel(path, scratch, STORED_QUERY_MODEL)
    let store: Store
    try {
      store = Store.open(copy)
    } catch (error) {
      if (error instanceof QueryModelStoreError) throw QueryModelStoreError.unreadable(path, error.cause)
      throw error
    }
    try {
      return store.lastLsn
    } finally {
      store.close()
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true })
  }
}

/**
 * Throws QueryModelStoreError as a start would: QUERY_MODEL_UNREADABLE, or (with `refuseBeyondLog`: a log written
 * with durability fsync) QUERY_MODEL_BEYOND_LOG when the stored query model holds the log past `logLastLsn`.
 */
export function refuseStoredQueryModel(dataDir: string, logLastLsn: number, options: { refuseBeyondLog: boolean }): void {
  const storeLsn = storedQueryModelLastLsn(dataDir)
  if (options.refuseBeyondLog && storeLsn !== null && storeLsn > logLastLsn) {
    throw QueryModelStoreError.beyondLog(join(dataDir, STORED_QUERY_MODEL), storeLsn, logLastLsn)
  }
}
