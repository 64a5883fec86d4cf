/**
 * A segment file the live log still holds, gone from the disk. The gateway's own compaction drops a segment from the
 * log's catalog in the same synchronous step that unlinks (or archives) it, and never one the self-check has not
 * verified, so on the event loop a held segment whose file is missing was removed from outside the gateway: an
 * unverified one could never be checked (the self-check thread only saw "removed before it was read", an error,
 * never a finding), and a verified one is records taken out of the audit trail. One `existsSync` per held segment per
 * check, so it also covers segments the incremental check passed long ago.
 */

import { existsSync } from 'node:fs'
import type { AuditProblem } from './codes.ts'

/** What the check reads of the live log: its held segments (`Wal` satisfies it). */
export interface HeldSegments {
  readonly segments: readonly { readonly path: string; readonly firstLsn: number; readonly lastLsn: number }[]
}

/** SEGMENT_MISSING for the first held segment whose file is gone, or null. */
export function missingHeldSegment(log: HeldSegments): AuditProblem | null {
  for (const segment of log.segments) {
    if (existsSync(segment.path)) continue
    return {
      code: 'SEGMENT_MISSING', file: segment.path, offsetBytes: 0, lsn: segment.firstLsn,
      detail: `the log holds this segment (LSNs ${segment.firstLsn}..${segment.lastLsn}) but its file is gone: removed outside the gateway (its compaction drops a segment from the log as it removes the file)`,
    }
  }
  return null
}
