/**
 * What the data dir's `quarantine/` holds: the bytes cut from the log's torn tails (a writable open's cut, or
 * `egress repair-tail`'s), one file per cut. They may hold acknowledged records, so nothing here deletes them; they
 * would only pile up unseen. The gateway reads the directory when its log is opened — the only time a running node
 * cuts (an HA role change opens it again) — and shows it on /metrics (egress_wal_quarantine_files, _bytes) and /health
 * (`log.quarantine`, review_needed past the thresholds, config wal.quarantineFilesWarn and wal.quarantineBytesWarn).
 */

import { join } from 'node:path'
import { nodeIo, quarantineUsage, type WalIo } from '../../wal/index.ts'

/** Past this many files, or this many bytes, the directory wants an operator's review (defaults of the config's fields). */
export const QUARANTINE_FILES_WARN = 100
export const QUARANTINE_BYTES_WARN = 1024 * 1024 * 1024

export interface QuarantineWarn {
  files: number
  bytes: number
}

export interface QuarantineStatus {
  files: number
  bytes: number
  /** More files than warn.files or more bytes than warn.bytes: review the files, archive them elsewhere. */
  reviewNeeded: boolean
}

/** The data dir's quarantine directory now; null when it could not be read (said to onError, the start goes on). */
export function readQuarantineStatus(dataDir: string, options: { warn: QuarantineWarn; io?: WalIo; onError: (error: unknown, context: string) => void }): QuarantineStatus | null {
  try {
    const usage = quarantineUsage(options.io ?? nodeIo, join(dataDir, 'quarantine'))
    return { ...usage, reviewNeeded: usage.files > options.warn.files || usage.bytes > options.warn.bytes }
  } catch (error) {
    options.onError(error, 'reading the quarantine directory')
    return null
  }
}
