/**
 * The operator's cut of a hole in the log's tail (`egress repair-tail --truncate-at-lsn N`): besides the open's cut of a
 * power cut's hole in the batch in flight (lost-write.ts: frames never acknowledged), the only way the log ever drops
 * CRC-valid frames, and only on an explicit, matching request. Under the log's lock (a gateway writing the log
 * refuses it, LOG_LOCKED), it diagnoses again (tail-diagnosis.ts) and refuses unless N is the first LSN the cut
 * removes (the last good LSN + 1); then:
 *
 * 1. copies the bytes the cut removes — from the cut to the end of the last segment — into a new quarantine file
 *    (temp file, fsync, rename, directory fsyncs), and reads it back: nothing is destroyed, it is set aside. A rerun
 *    after a crash between this step and the cut finds the file already there: when it holds exactly the bytes this
 *    cut removes (its name carries the segment and the cut offset, its content must match byte for byte) it is synced
 *    again and the cut goes on; any other content is evidence of something else and is refused (QUARANTINE_EXISTS),
 *    never overwritten;
 * 2. truncates the segment at the cut and fsyncs it. The cut is at a frame boundary, so the segment then ends exactly
 *    at its last frame, as a clean close leaves it (SegmentWriter.trimCurrentSegment): no zeros need writing back,
 *    the writer grows its preallocated lead again with its first append;
 * 3. opens the log read-only with every frame and the whole chain checked, and confirms it ends at the last good LSN.
 */

import { join } from 'node:path'
import { toHex } from './chain.ts'
import { LogDirLock } from './dir-lock.ts'
import { WalRepairError } from './errors.ts'
import { nodeIo, type WalIo } from './io.ts'
import { writeQuarantine } from './quarantine.ts'
import { openReadOnly } from './read-only.ts'
import { diagnoseTail, readWhole, type TailDiagnosis, type TailHole } from './tail-diagnosis.ts'

export interface TailRepairOptions {
  /** The first LSN the cut removes, as the operator states it: must be the diagnosed last good LSN + 1. */
  truncateAtLsn: number
  /** Where the removed bytes are kept (created if missing). */
  quarantineDir: string
  io?: WalIo
  /** Called under the lock with the hole, before anything is written; throws to refuse (a data dir's own checks). */
  beforeCut?: (hole: TailHole) => void
}

export interface TailRepairResult {
  hole: TailHole
  quarantineFile: string
  /** The quarantine file was found holding exactly these bytes (a cut interrupted before it cut): not written again. */
  quarantineFound: boolean
  /** The log after the cut: its last LSN (the hole's lastGoodLsn) and its chain head, verified. */
  lastLsn: number
  chainHead: string
}

/** Refuses (LSN_MISMATCH) unless `truncateAtLsn` is the first LSN a cut at `hole` removes. */
export function checkCutLsn(hole: TailHole, truncateAtLsn: number): void {
  const expected = hole.lastGoodLsn + 1
  if (truncateAtLsn !== expected) {
    throw new WalRepairError('LSN_MISMATCH', `--truncate-at-lsn ${truncateAtLsn} is not where the hole is: the log keeps LSNs up to ${hole.lastGoodLsn} and a cut removes LSN ${expected} on (give --truncate-at-lsn ${expected} to cut there); nothing was changed`)
  }
}

/** The quarantine file for `hole`: `<segment>.<cut offset>.tail`. */
export function quarantineFileOf(hole: TailHole, quarantineDir: string): string {
  return join(quarantineDir, `${hole.segment}.${hole.cutOffsetBytes}.tail`)
}

/** What checkCut found: the hole, its quarantine file, and whether that file already holds the bytes the cut removes. */
export interface CutPlan {
  hole: TailHole
  quarantineFile: string
  /**
   * The quarantine file exists with exactly the bytes the cut removes: a cut whose run stopped (a crash) after
   * quarantining and before cutting. The rerun finishes it without writing the file again.
   */
  quarantined: boolean
}

/**
 * Every refusal a cut meets before it writes anything, in order: NOTHING_TO_REPAIR (the log opens), LSN_MISMATCH, the
 * caller's own (`beforeCut`), QUARANTINE_EXISTS (a quarantine file whose content is not the bytes this cut removes).
 * A dry run (`egress repair-tail --dry-run`) runs these too, so that it is refused exactly where the cut would be.
 */
export function checkCut(logDir: string, diagnosis: TailDiagnosis, options: TailRepairOptions): CutPlan {
  const io = options.io ?? nodeIo
  if (diagnosis.kind === 'opens') {
    throw new WalRepairError('NOTHING_TO_REPAIR', `the log in ${logDir} opens (LSN ${diagnosis.firstLsn}..${diagnosis.lastLsn}): there is no hole to cut; nothing was changed`)
  }
  const { hole } = diagnosis
  checkCutLsn(hole, options.truncateAtLsn)
  options.beforeCut?.(hole)
  const quarantineFile = quarantineFileOf(hole, options.quarantineDir)
  if (!io.exists(quarantineFile)) return { hole, quarantineFile, quarantined: false }
  const held = readWhole(io, quarantineFile)
  if (Buffer.compare(held, removedBytesOf(io, hole)) !== 0) {
    throw new WalRepairError(
      'QUARANTINE_EXISTS',
      `${quarantineFile} exists already (${held.byteLength} bytes) and does not hold the ${hole.discardedBytes} bytes this cut removes; it is never overwritten: move it away to repeat the cut; nothing was changed`,
    )
  }
  return { hole, quarantineFile, quarantined: true }
}

/** The bytes a cut at `hole` removes: from the cut offset to the end of the segment, as diagnosed. */
function removedBytesOf(io: WalIo, hole: TailHole): Uint8Array {
  const removed = readWhole(io, hole.file).subarray(hole.cutOffsetBytes)
  if (removed.byteLength !== hole.discardedBytes) {
    throw new WalRepairError('REPAIR_UNVERIFIED', `${hole.file} changed since it was diagnosed (${hole.segmentBytes} bytes diagnosed); nothing was changed`)
  }
  return removed
}

export function repairTail(logDir: string, options: TailRepairOptions): TailRepairResult {
  const io = options.io ?? nodeIo
  const lock = LogDirLock.acquire(logDir)
  try {
    const { hole, quarantineFile, quarantined } = checkCut(logDir, diagnoseTail(logDir, { io }), options)
    // Written afresh even when an interrupted run left the same bytes there: that run may have stopped on a failed
    // fsync (its file or directory), and fsyncing the found file again could succeed on pages that never reached the
    // disk. The new copy comes from the segment, replaces the old one atomically, and is durable before the cut.
    writeQuarantine(io, quarantineFile, removedBytesOf(io, hole))
    cutSegment(io, hole.file, hole.cutOffsetBytes)
    const after = openReadOnly(logDir, { io, verifyChain: true })
    if (after.lastLsn !== hole.lastGoodLsn || after.report.tornTail !== null || after.report.preallocatedBytes !== 0) {
      throw new WalRepairError('REPAIR_UNVERIFIED', `${hole.file} was cut at offset ${hole.cutOffsetBytes} (the removed bytes are in ${quarantineFile}), but the log now ends at LSN ${after.lastLsn}, not ${hole.lastGoodLsn}`)
    }
    return { hole, quarantineFile, quarantineFound: quarantined, lastLsn: after.lastLsn, chainHead: toHex(after.chainHead) }
  } finally {
    lock.release()
  }
}

function cutSegment(io: WalIo, path: string, lengthBytes: number): void {
  const fd = io.openAppend(path)
  try {
    io.truncate(fd, lengthBytes)
    io.fsync(fd)
    if (io.sizeBytes(fd) !== lengthBytes) {
      throw new WalRepairError('REPAIR_UNVERIFIED', `${path} is not ${lengthBytes} bytes after the cut`)
    }
  } finally {
    io.close(fd)
  }
}
