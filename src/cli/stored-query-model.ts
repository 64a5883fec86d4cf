/**
 * The position of a data dir's back-office query model (`DIR/backoffice.sqlite`): the LSN through which it holds the
 * log. The back office writes only records the log has made durable (src/backoffice/projector.ts), so this is a
 * witness, beside the snapshots, of how far the log was durable — what `egress repair-tail` needs before it cuts.
 */

import { storedQueryModelLastLsn } from '../runtime/snapshot/index.ts'

/**
 * The stored query model's last LSN, read from a copy (its WAL too) so the data dir is never written; null when there
 * is none or it cannot be read (a start rebuilds such a one from the log: it witnesses nothing).
 */
export function storedQueryModelLsn(dataDir: string): number | null {
  try {
    return storedQueryModelLastLsn(dataDir)
  } catch {
    return null
  }
}
