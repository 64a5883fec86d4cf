/**
 * A running gateway's compaction, one segment per turn of the event loop. Each removal is made durable on its own,
 * with one directory fsync (two when archiving) before the next begins (wal/compaction.ts says why: a power cut must
 * leave a suffix of the log, not a log with a hole). Those fsyncs are synchronous. Done in one go, a compaction of N
 * segments held the event loop for N such fsyncs, where it used to hold it for one: intake, venue reports, replication
 * and lease renewals all waited. One interval's worth of segments is hundreds on a busy gateway (64 MiB segments at
 * 10 MB/s, a snapshot an hour: ~560), the first compaction after turning it on can be thousands, and a directory
 * fsync costs milliseconds on a loaded disk: seconds of stall, long enough for a leader's lease (5 s by default) to run
 * out. So the segments go one per turn of the event loop (COMPACTION_SEGMENTS_PER_TURN), the loop free between them.
 *
 * Between turns the basis snapshot stays (the snapshotter writes one snapshot at a time, and this runs inside it) and
 * appends add segments only at the end. The readers' floor may move either way (the audit self-check's verified LSN
 * grows; a live verification's hold, log-holds.ts, can come between two turns), so it is read again before each
 * removal (`keepFromLsnNow`) and the compaction never removes past it. A log closed or dead meanwhile, or a snapshotter stopped, ends the compaction
 * where it is: every removal done is durable, and the next compaction removes the rest.
 */

import type { Wal } from '../../../wal/index.ts'
import { compactLog, type CompactOptions, type CompactResult } from './compact.ts'
import type { SnapshotStore } from './store.ts'

/** Segments removed per turn of the event loop: one, so a turn waits for one or two directory fsyncs at most. */
export const COMPACTION_SEGMENTS_PER_TURN = 1

export interface CompactInTurnsOptions {
  /** Waits for the next turn of the event loop (default: setImmediate). */
  nextTurn?: () => Promise<void>
  /** True once the compaction should end where it is (a stopping snapshotter). */
  stopped?: () => boolean
  /**
   * The readers' floor now (SnapshotterOptions.compactionKeepFromLsn), read before each removal: no segment holding it
   * or a later LSN goes. It stands for compactLog's `keepFromLsn`, which is not given here.
   */
  keepFromLsnNow?: () => number
}

/** compactLog, COMPACTION_SEGMENTS_PER_TURN segments per turn; its result covers every turn. */
export async function compactLogInTurns(wal: Wal, store: SnapshotStore, options: Omit<CompactOptions, 'keepFromLsn'> & CompactInTurnsOptions): Promise<CompactResult> {
  const { nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve)), stopped = () => false, keepFromLsnNow = () => Number.POSITIVE_INFINITY, ...compact } = options
  const result = compactLog(wal, store, { ...compact, keepFromLsn: keepFromLsnNow(), segmentsMax: COMPACTION_SEGMENTS_PER_TURN })
  const boundLsn = result.boundLsn
  if (boundLsn === null || compact.dryRun === true) return result
  const archive = compact.mode === 'archive' ? { archiveDir: compact.archiveDir as string } : {}
  let removedLast = result.removed.length
  while (removedLast === COMPACTION_SEGMENTS_PER_TURN) {
    await nextTurn()
    if (stopped() || wal.isClosed || wal.fatalError !== null) break
    const removed = wal.removeSegmentsBelow(Math.min(boundLsn, keepFromLsnNow()), { ...archive, segmentsMax: COMPACTION_SEGMENTS_PER_TURN })
    result.removed.push(...removed)
    removedLast = removed.length
  }
  result.firstLsnAfter = wal.firstLsn
  return result
}
