/**
 * What a writable open does before it cuts a torn tail (recover.ts). The open takes a torn tail for a batch whose
 * fdatasync never came back, so never acknowledged — which holds for a torn write, not for damage to frames that were
 * durable (a zeroed sector, a flipped byte in the last frame). Cut without a word, such damage cost records a snapshot,
 * the anchors file or the query model showed were durable, and no copy was left. So a caller that knows the data dir
 * can refuse the cut (`check` throws: the open fails and nothing is cut), and every cut it allows copies the removed
 * bytes to its quarantine directory first (quarantine.ts), as `egress repair-tail` does.
 */

import { basename, dirname, join } from 'node:path'
import { WalRepairError } from './errors.ts'
import type { WalIo } from './io.ts'
import { writeQuarantine } from './quarantine.ts'
import { readWhole } from './tail-diagnosis.ts'

/** A torn tail a writable open is about to cut. */
export interface TailCut {
  /** The last segment's path, and where the cut goes in it. */
  file: string
  offsetBytes: number
  removedBytes: number
  /** The log ends here after the cut. */
  lastGoodLsn: number
  /** Why the bytes past offsetBytes are not frames (crc, short frame, a lost write's hole…). */
  reason: string
}

export interface TailCutGuard {
  /** Throws to refuse `cut` (the open then fails with that error, nothing cut). */
  check?: (cut: TailCut) => void
  /**
   * Where the removed bytes (less trailing zeros) are kept before the cut: `<segment>.<offset>.tail` (`.2.tail`… when
   * taken by other bytes); a failure to keep them refuses the cut (QUARANTINE_FAILED).
   */
  quarantineDir?: string
}

/** Runs the guard's check, then sets the removed bytes aside; the quarantine file's path, or null without a directory. */
export function guardTailCut(io: WalIo, guard: TailCutGuard | undefined, cut: TailCut): string | null {
  guard?.check?.(cut)
  const dir = guard?.quarantineDir
  if (dir === undefined) return null
  const stem = `${basename(cut.file)}.${cut.offsetBytes}`
  try {
    const bytes = withoutTrailingZeros(readWhole(io, cut.file).subarray(cut.offsetBytes))
    const path = quarantinePathFor(io, dir, stem, bytes)
    // A file holding these bytes already (an open that failed after writing it: its directory's fsync, say) may not be
    // durable, and the cut that follows is synced: it is synced where it is, file and directory (review). Written
    // afresh instead, it needed room for a second copy, and a full disk refused a start the copy already allowed.
    if (io.exists(path)) makeFileDurable(io, path)
    else writeQuarantine(io, path, bytes)
    return path
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error)
    throw new WalRepairError('QUARANTINE_FAILED', `${cut.file}'s torn tail (offset ${cut.offsetBytes}) could not be set aside in ${dir} (${why}); nothing was cut: make room or fix ${dir}, then start again`)
  }
}

/**
 * `<stem>.tail`, or `<stem>.<n>.tail` for the first n from 2 not taken by other bytes: a file set aside is never
 * overwritten, and one holding exactly these bytes (an open that crashed between setting them aside and cutting) is
 * the one to keep.
 */
function quarantinePathFor(io: WalIo, dir: string, stem: string, bytes: Uint8Array): string {
  let path = join(dir, `${stem}.tail`)
  for (let n = 2; io.exists(path); n++) {
    if (Buffer.compare(readWhole(io, path), bytes) === 0) return path
    path = join(dir, `${stem}.${n}.tail`)
  }
  return path
}

/** fsyncs the file at `path` and its directory. */
function makeFileDurable(io: WalIo, path: string): void {
  const fd = io.openRead(path)
  try {
    io.fsync(fd)
  } finally {
    io.close(fd)
  }
  io.fsyncDirectory(dirname(path))
}

/** The bytes up to the last one that is not zero: the writer's preallocated zeros (up to MiBs) say nothing. */
function withoutTrailingZeros(bytes: Uint8Array): Uint8Array {
  let end = bytes.byteLength
  while (end > 0 && bytes[end - 1] === 0) end--
  return bytes.subarray(0, end)
}
