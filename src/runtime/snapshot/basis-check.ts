/**
 * The running gateway's compaction checks its basis (compact.ts) off the event loop. openSnapshot on the loop read the
 * whole file, hashed it and decoded its kernel state in one synchronous stretch after every snapshot: 0.5–0.9 s for
 * 100k orders (scripts/bench-snapshot.ts, compactionBasis.onLoopMs; in the thread the loop's longest stretch is tens of
 * ms at most, noise included). Intake, venue reports, replication and lease renewals waited, where the snapshot holds it
 * in slices (take.ts) and the removals go one per turn (compact-turns.ts).
 *
 * The check is the same, split across two threads in openSnapshot's order: a thread of its own (basis-check-worker.ts)
 * reads the file, checks its digest, framing and schema and decodes the kernel state; then, on the loop, the chain
 * head the snapshot carries is checked against the live log's frame at its LSN (one frame read). Its seal, when told of
 * the seals (compact.ts CompactOptions.seals, worked out with the keys a start verifies them with), is checked on the
 * loop too, against the digest the thread answers (a map lookup and a comparison), before the chain head, as
 * openSnapshot checks it: never checked, a snapshot a start refuses (SEAL_INVALID) became the basis. A candidate any part
 * refuses is rejected with the code openSnapshot gives. A thread that cannot answer (it fails to start, throws or
 * exits) leaves the candidate unchecked: BasisCheckUnavailableError, and nothing is compacted; the next snapshot's
 * compaction tries again. Offline `egress compact` keeps checking on its own thread (compactLog).
 *
 * A snapshotter keeps its thread between compactions (spawning one and loading the codec in it took ~30 ms a
 * compaction), and ends it once idle for BASIS_THREAD_IDLE_MS: a gateway that never stops (killed, or a test's
 * crashed one) leaves no thread behind for long.
 */

import { WorkerChannel } from '../worker-channel.ts'
import { workerScriptUrl } from '../worker-url.ts'
import { SnapshotError, type SnapshotHeader } from './file.ts'
import { checkChainHead, type LogView, type SealCheck } from './load.ts'
import { checkSnapshotSeal } from './seal-file.ts'
import type { RejectedSnapshot, SnapshotCandidate, SnapshotStore } from './store.ts'

/** How long a snapshotter's basis-check thread stays once idle. */
export const BASIS_THREAD_IDLE_MS = 10_000

/** The worker's script (src/runtime/worker-url.ts: from source and in the compiled binary). */
const WORKER_URL = workerScriptUrl(import.meta.url, 'basis-check.ts', 'runtime/snapshot/basis-check-worker.ts')

/** Check `candidate` in the snapshot directory `dir`. Plain data: it crosses threads by structured clone. */
export interface BasisCheckRequest {
  id: number
  dir: string
  candidate: SnapshotCandidate
}

/**
 * `header` null: the file is refused (`fileProblem`: unreadable, damaged, a schema this build does not read). Else
 * `digest` is its content digest (what its seal signs) and `stateProblem` says whether its kernel state decodes to a
 * state at its LSN (null: it does).
 */
export type BasisCheckReply =
  | { id: number; ok: true; header: SnapshotHeader | null; digest: string | null; fileProblem: RejectedSnapshot | null; stateProblem: RejectedSnapshot | null }
  | { id: number; ok: false; message: string }

/** The thread could not check a candidate: nothing is known of it, and the compaction removes nothing. */
export class BasisCheckUnavailableError extends Error {
  override readonly name = 'BasisCheckUnavailableError'
  readonly code = 'BASIS_CHECK_UNAVAILABLE'
}

/** What a compaction needs of its basis once checked. */
export interface CheckedBasis {
  file: string
  lsn: number
  chainHead: string
}

/**
 * The basis checks of a snapshotter's compactions, in one thread: spawned at the first check, ended by `release` or
 * once no check has come for `idleMs` (a timer that never holds the process up), and spawned again at the next.
 */
export class BasisChecker {
  private readonly idleMs: number | null
  private channel: WorkerChannel<BasisCheckRequest, BasisCheckReply> | null = null
  private idleTimer: ReturnType<typeof setTimeout> | null = null
  private nextId = 1

  /** `idleMs` absent: the thread lives until `release`. */
  constructor(options: { idleMs?: number } = {}) {
    this.idleMs = options.idleMs ?? null
  }

  /**
   * openSnapshot's verdict on `candidate` (its seal checked against `options.seals` when given), its decode off the
   * loop. Throws SnapshotError or BasisCheckUnavailableError.
   */
  async check(store: SnapshotStore, candidate: SnapshotCandidate, log: LogView, options: SealCheck = {}): Promise<CheckedBasis> {
    this.disarm()
    this.channel ??= new WorkerChannel<BasisCheckRequest, BasisCheckReply>({ url: WORKER_URL, failed: (id, message) => ({ id, ok: false, message }) })
    const reply = await this.channel.request({ id: this.nextId++, dir: store.dir, candidate })
    this.arm()
    if (!reply.ok) throw new BasisCheckUnavailableError(`snapshot ${candidate.file} could not be checked for compaction (${reply.message}); nothing was compacted`)
    if (reply.header === null || reply.digest === null) throw snapshotErrorOf(reply.fileProblem, candidate)
    checkSnapshotSeal(options.seals, candidate.file, { header: reply.header, digest: reply.digest })
    checkChainHead(log, reply.header)
    if (reply.stateProblem !== null) throw snapshotErrorOf(reply.stateProblem, candidate)
    return { file: candidate.file, lsn: reply.header.lsn, chainHead: reply.header.chainHead }
  }

  /** Ends the thread now (a check under way is answered as failed); the next check spawns another. */
  release(): void {
    this.disarm()
    this.channel?.stop('the compaction\'s basis check was ended')
    this.channel = null
  }

  private arm(): void {
    if (this.idleMs === null || this.channel === null) return
    this.idleTimer = setTimeout(() => this.release(), this.idleMs)
    this.idleTimer.unref()
  }

  private disarm(): void {
    if (this.idleTimer !== null) clearTimeout(this.idleTimer)
    this.idleTimer = null
  }
}

function snapshotErrorOf(problem: RejectedSnapshot | null, candidate: SnapshotCandidate): SnapshotError {
  return problem === null ? new SnapshotError('UNREADABLE', `snapshot ${candidate.file}: refused without a reason`) : new SnapshotError(problem.code, problem.message)
}
