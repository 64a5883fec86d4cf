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
 *
 * Before the first removal, the basis is chosen as compactLog chooses it, each candidate checked in full (its seal
 * against `seals`, as compactLog checks it) but its file read, hashed and decoded in a thread (basis-check.ts): on the
 * loop, that check alone held it ~520 ms for 100k orders.
 */

import type { Wal } from '../../../wal/index.ts'
import { BasisChecker, BasisCheckUnavailableError, type CheckedBasis } from './basis-check.ts'
import { basisCandidates, checkCompactOptions, planOnBasis, type CompactOptions, type CompactResult } from './compact.ts'
import { rejection, type LogView, type SealCheck } from './load.ts'
import type { RejectedSnapshot, SnapshotStore } from './store.ts'

/** Segments removed per turn of the event loop: one, so a turn waits for one or two directory fsyncs at most. */
export const COMPACTION_SEGMENTS_PER_TURN = 1

export interface CompactInTurnsOptions {
  /** Waits for the next turn of the event loop (default: setImmediate). */
  nextTurn?: () => Promise<void>
  /**
   * Aborted once the compaction should end where it is (a stopping snapshotter): after the removal under way, or at
   * once while its basis is being checked (the check is abandoned, nothing is removed).
   */
  signal?: AbortSignal
  /**
   * The readers' floor now (SnapshotterOptions.compactionKeepFromLsn), read before each removal: no segment holding it
   * or a later LSN goes. It stands for compactLog's `keepFromLsn`, which is not given here.
   */
  keepFromLsnNow?: () => number
  /** The thread that checks the basis (a snapshotter's, kept between compactions); default: one for this compaction. */
  checker?: BasisChecker
  /**
   * How long (real time) the basis check may wait for its thread: past it the check is abandoned and nothing is removed
   * (BasisCheckUnavailableError). For a compaction no stop can abandon (the shutdown snapshot's). Unset: no bound.
   */
  checkWaitMsMax?: number
}

/**
 * compactLog, its basis checked off the loop (basis-check.ts), COMPACTION_SEGMENTS_PER_TURN segments per turn; its
 * result covers every turn.
 */
export async function compactLogInTurns(wal: Wal, store: SnapshotStore, options: Omit<CompactOptions, 'keepFromLsn'> & CompactInTurnsOptions): Promise<CompactResult> {
  const { nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve)), signal, keepFromLsnNow = () => Number.POSITIVE_INFINITY, checker, checkWaitMsMax, ...compact } = options
  checkCompactOptions(compact)
  const own = checker === undefined ? new BasisChecker() : null
  const used = checker ?? (own as BasisChecker)
  // A thread that never answers (starved at SCHED_IDLE, stuck) ends the wait here, not the process's stop.
  const waitEnd = checkWaitMsMax === undefined ? null : setTimeout(() => used.release(), checkWaitMsMax)
  let checked: Awaited<ReturnType<typeof checkedBasis>>
  try {
    const seals = compact.seals === undefined ? {} : { seals: compact.seals }
    checked = await checkedBasis(wal, store, used, () => signal?.aborted === true || wal.isClosed || wal.fatalError !== null, signal, seals)
  } finally {
    if (waitEnd !== null) clearTimeout(waitEnd)
    own?.release()
  }
  const { basis, rejected } = checked
  const result = planOnBasis(wal, basis, rejected, { ...compact, keepFromLsn: keepFromLsnNow() })
  const boundLsn = result.boundLsn
  if (boundLsn === null || compact.dryRun === true) return result
  result.removed = []
  const archive = compact.mode === 'archive' ? { archiveDir: compact.archiveDir as string } : {}
  // The check's wait was a turn: the log may have closed or died meanwhile, as between two removals.
  for (let first = true; ; first = false) {
    if (!first) await nextTurn()
    if (signal?.aborted === true || wal.isClosed || wal.fatalError !== null) break
    const removed = wal.removeSegmentsBelow(Math.min(boundLsn, keepFromLsnNow()), { ...archive, segmentsMax: COMPACTION_SEGMENTS_PER_TURN })
    result.removed.push(...removed)
    if (removed.length < COMPACTION_SEGMENTS_PER_TURN) break
  }
  result.firstLsnAfter = wal.firstLsn
  return result
}

/** planCompaction's choice of a basis (the oldest snapshot that passes every check), each candidate checked in a thread. */
async function checkedBasis(log: LogView, store: SnapshotStore, checker: BasisChecker, ended: () => boolean, signal: AbortSignal | undefined, seals: SealCheck): Promise<{ basis: CheckedBasis | null; rejected: RejectedSnapshot[] }> {
  const rejected: RejectedSnapshot[] = []
  if (ended()) return { basis: null, rejected }
  // A stop does not wait for the thread (it runs at the lowest priority, and may wait long on a busy machine).
  const abandon = (): void => checker.release()
  signal?.addEventListener('abort', abandon, { once: true })
  try {
    for (const candidate of basisCandidates(store)) {
      try {
        return { basis: await checker.check(store, candidate, log, seals), rejected }
      } catch (error) {
        // The log closed or died meanwhile, or a stop came: no basis, nothing removed (not a refusal of this file).
        if (ended()) return { basis: null, rejected }
        if (error instanceof BasisCheckUnavailableError) throw error
        rejected.push(rejection(candidate.file, error))
      }
    }
    return { basis: null, rejected }
  } finally {
    signal?.removeEventListener('abort', abandon)
  }
}
