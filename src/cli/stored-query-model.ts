/**
 * The position of a data dir's back-office query model (`DIR/backoffice.sqlite`): the LSN through which it holds the
 * log. The back office writes only records the log has made durable (src/backoffice/projector.ts), so this is a
 * witness, beside the snapshots, of how far the log was durable — what `egress repair-tail` needs before it cuts.
 */

import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Store } from '../backoffice/index.ts'
import { STORED_QUERY_MODEL } from '../runtime/snapshot/index.ts'

/**
 * The stored query model's last LSN, read from a copy (its WAL too) so the data dir is never written; null when there
 * is none or it cannot be read (a start rebuilds such a one from the log: it witnesses nothing).
 */
export function storedQueryModelLsn(dataDir: string): number | null {
  const path = join(dataDir, STORED_QUERY_MODEL)
  if (!existsSync(path)) return null
  const scratch = mkdtempSync(join(tmpdir(), 'egress-query-model-'))
  try {
    for (const suffix of ['', '-wal']) if (existsSync(path + suffix)) copyFileSync(path + suffix, join(scratch, STORED_QUERY_MODEL + suffix))
    const store = Store.open(join(scratch, STORED_QUERY_MODEL))
    try {
      return store.lastLsn
    } finally {
      store.close()
    }
  } catch {
    return null
  } finally {
    rmSync(scratch, { recursive: true, force: true })
  }
}
