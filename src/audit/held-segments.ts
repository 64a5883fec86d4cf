/**
 * The held segments' files, as the live log knows them. The gateway's own compaction drops a segment from the log's
 * catalog in the same synchronous step that unlinks (or archives) it, and never one the self-check has not verified,
 * so on the event loop a held segment whose file is missing was removed from outside the gateway: an unverified one
 * could never be checked (the self-check thread only saw "removed before it was read", an error, never a finding),
 * and a verified one is records taken out of the audit trail. A segment's header is written once, when the segment
 * is made, and the log keeps its first LSN and chain base in memory; a header on disk that no longer says so was
 * edited (the runtime reads no header after its start, so the edit would wait for the next start or an offline
 * verify). One open and a 64-byte read per held segment per check, so this also covers segments the tail check
 * passed long ago.
 */

import { closeSync, openSync, readSync } from 'node:fs'
import { hashesEqual, toHex } from '../../wal/index.ts'
import type { AuditProblem } from './codes.ts'
import { SEGMENT_HEADER_BYTES, readSegmentHeader } from './layout.ts'

/** What the check reads of the live log: its held segments (`Wal` satisfies it). */
export interface HeldSegments {
  readonly segments: readonly { readonly path: string; readonly firstLsn: number; readonly lastLsn: number; readonly previousHash: Uint8Array }[]
}

/** SEGMENT_MISSING or SEGMENT_HEADER_CORRUPT for the first held segment whose file is gone or whose header changed. */
export function heldSegmentDamage(log: HeldSegments): AuditProblem | null {
  const header = new Uint8Array(SEGMENT_HEADER_BYTES)
  for (const segment of log.segments) {
    const at = { file: segment.path, offsetBytes: 0, lsn: segment.firstLsn }
    const read = readHeader(segment.path, header)
    if (read === 'missing') {
      return {
        ...at, code: 'SEGMENT_MISSING',
        detail: `the log holds this segment (LSNs ${segment.firstLsn}..${segment.lastLsn}) but its file is gone: removed outside the gateway (its compaction drops a segment from the log as it removes the file)`,
      }
    }
    const fields = readSegmentHeader(header.subarray(0, read))
    const changed = typeof fields === 'string' ? fields
      : fields.firstLsn !== segment.firstLsn ? `the header says first LSN ${fields.firstLsn}, the log holds the segment from ${segment.firstLsn}`
        : !hashesEqual(fields.previousHash, segment.previousHash) ? `the header chains from ${toHex(fields.previousHash)}, the log holds ${toHex(segment.previousHash)}`
          : null
    if (changed !== null) return { ...at, code: 'SEGMENT_HEADER_CORRUPT', detail: `the segment's header changed on disk: ${changed}` }
  }
  return null
}

/** Bytes of the header read into `into`, or 'missing' when the file is gone. */
function readHeader(path: string, into: Uint8Array): number | 'missing' {
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing'
    throw error
  }
  try {
    let read = 0
    while (read < into.byteLength) {
      const got = readSync(fd, into, read, into.byteLength - read, read)
      if (got === 0) break
      read += got
    }
    return read
  } finally {
    closeSync(fd)
  }
}
