/**
 * The operator's line for a tail an open cut: the stable code LOG_TAIL_TRUNCATED, the file, the offset, the first LSN
 * removed, the bytes removed, and (for a hole a power cut's lost write left in the batch in flight, lost-write.ts) the
 * CRC-valid frames past it that went with it. A log that loses records it wrote says so, even when they were never
 * acknowledged.
 */

import type { RecoveryReport } from './recover.ts'

export const TAIL_TRUNCATED_CODE = 'LOG_TAIL_TRUNCATED'

/** The line for `report`'s torn tail (cut by a writable open, or one a read-only open saw); null when there is none. */
export function tailTruncationNotice(report: RecoveryReport): string | null {
  const torn = report.tornTail
  if (torn === null) return null
  const hole = torn.validFramesRemoved > 0 ? `; ${torn.validFramesRemoved} CRC-valid frame(s) past a hole went with it, a power cut's lost write of the batch in flight` : ''
  const append = torn.appendFramesRemoved > 0 ? `; ${torn.appendFramesRemoved} whole frame(s) of an append whose last frame never reached the disk went with it (an append is in the log whole or not at all)` : ''
  const cut = torn.truncated ? 'cut' : 'to be cut by the next writable open'
  const kept = torn.quarantineFile === null ? '' : `; the removed bytes are kept in ${torn.quarantineFile}`
  return `${TAIL_TRUNCATED_CODE}: ${torn.file} ${cut} at offset ${torn.offsetBytes}: LSN ${torn.lsn} on, ${torn.removedBytes} bytes (${torn.reason}${hole}${append}); never acknowledged (its batch's fdatasync never came back), the log ends at LSN ${torn.lsn - 1}${kept}`
}
