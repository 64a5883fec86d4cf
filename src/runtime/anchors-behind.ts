/**
 * A single node's start refuses a log that ends before its own anchors file says it reached (LOG_BEHIND_ANCHOR), before
 * anything is appended. Every line of that file names an LSN that was durable when it was written (audit/anchors-end.ts),
 * so such a log lost records that were durable and may have been acknowledged: its last segment truncated, a segment
 * deleted, the log put back from an older copy while the anchors file stayed. Starting on it would forget those
 * orders — a client retrying one with the same Idempotency-Key would get a new order sent — and hand their LSNs to new
 * records. The snapshot and the back office's store are the same witnesses (LOG_BEHIND_SNAPSHOT, QUERY_MODEL_BEYOND_LOG);
 * this one outlives them both (an anchors file kept outside the data directory, `audit.anchorsFile`, survives a
 * restore of the whole directory) and is there with no snapshot at all.
 *
 * What is not judged, on purpose:
 * - the log's start (a compaction removes segments below a snapshot; the end does not move);
 * - a power cut's cut of the batch in flight (lost-write.ts): those frames were never synced, and no line names an LSN
 *   before it is durable (a writable open syncs what it finds: wal/open-sync.ts);
 * - a log written with durability `none` (nothing was synced: a power loss alone can take any tail, as the query
 *   model's check lets pass for the same reason);
 * - an HA node (setup.ts does not check its anchors either): a standby drops a diverged tail the old leader anchored,
 *   by design, and its log follows the leader's, not its own past.
 * A missing, empty or torn anchors file is less evidence, not an error.
 */

import { join } from 'node:path'
import type { Wal } from '../../wal/index.ts'
import { anchorsFileEnd, ANCHORS_FILE_DEFAULT, AUDIT_DATA_DIR, type AnchorsEnd } from '../audit/index.ts'
import { RestoreError } from './snapshot/index.ts'

/** The anchors file of a data directory: `audit.anchorsFile` when set, else `<dataDir>/audit/anchors.jsonl`. */
export function anchorsPathOf(dataDir: string, anchorsFile: string | undefined): string {
  return anchorsFile ?? join(dataDir, AUDIT_DATA_DIR, ANCHORS_FILE_DEFAULT)
}

/**
 * LOG_BEHIND_ANCHOR's message when the anchors file at `anchorsPath` names an LSN past the log's last, else null: the
 * start's refusal and `egress replay-verify DIR` (offline, src/cli/replay-verify.ts) say the same.
 */
export function logBehindAnchors(log: { readonly lastLsn: number; readonly dir: string }, anchorsPath: string): { message: string; anchorsFile: string; anchoredLsn: number } | null {
  const end = anchorsFileEnd(anchorsPath)
  return end === null ? null : logBehindAnchorLine(log, end)
}

/** LOG_BEHIND_ANCHOR's message when `end` (one line of an anchors file: its LSN, file and kind) is past the log's last, else null. */
export function logBehindAnchorLine(log: { readonly lastLsn: number; readonly dir: string }, end: AnchorsEnd): { message: string; anchorsFile: string; anchoredLsn: number } | null {
  if (end.lsn <= log.lastLsn) return null
  const message =
    `the log ${log.dir} ends at LSN ${log.lastLsn}, but the anchors file ${end.file} names LSN ${end.lsn} (its ${lineKind(end.kind)}), ` +
    `written only once that LSN was durable: records ${log.lastLsn + 1}..${end.lsn} were durable and may have been acknowledged, and are missing ` +
    '(the last segment truncated, a segment lost, or the log restored from an older copy). ' +
    'Restore the log from its archive or a standby\'s copy, then check the data directory with "egress audit verify DIR" and ' +
    '"egress replay-verify DIR"; move the anchors file aside only if it is not of this log or the loss is accepted'
  return { message, anchorsFile: end.file, anchoredLsn: end.lsn }
}

/** Throws LOG_BEHIND_ANCHOR (before anything is appended) when the anchors file names an LSN past the log's last. */
export function refuseLogBehindAnchors(wal: Pick<Wal, 'lastLsn' | 'dir'>, anchorsPath: string): void {
  const behind = logBehindAnchors(wal, anchorsPath)
  if (behind === null) return
  throw new RestoreError('LOG_BEHIND_ANCHOR', `${behind.message}. Nothing was appended`, { path: behind.anchorsFile })
}

function lineKind(kind: string): string {
  if (kind === 'start') return 'line for a start that found the log there'
  if (kind === 'shutdown') return 'clean shutdown\'s anchor'
  return 'anchor of a seal'
}
