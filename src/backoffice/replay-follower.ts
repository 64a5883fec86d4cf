/**
 * The back office's side of the replay worker (replay-worker.ts): keeps the replay ledger close to the log's head
 * between reconcile runs, and asks for its figures when a run compares.
 *
 * The ledger and its fold live in the worker's thread, which reads the log's segment files itself: each request
 * names the stretch to fold as a log slice (wal/slice.ts, plain data). Folding on the event loop, even in 2 ms slices
 * paced to a quarter of the loop, was ~7 % of serve's loop at the bench's half load, and every slice delayed the
 * requests queued behind it; in the worker it costs the loop one message each way. Following the log every
 * `intervalMs` keeps each request small, so a reconcile asks only for the few records since.
 *
 * Requests go one at a time, in order (the worker folds from where the last one stopped). This side mirrors where the
 * worker got (`foldedLsn`, `started`) from its answers, so it can name the next slice and tell when the replay must
 * start over from its base (a compaction removed what it had not folded yet). A worker that fails or exits is
 * replaced on the next request, which starts over from the base: the check is then late, never wrong.
 */

import type { Clock } from '../domain/clock.ts'
import { WorkerChannel, type WorkerThreadStatus } from '../runtime/worker-channel.ts'
import { workerScriptUrl } from '../runtime/worker-url.ts'
import type { Wal } from '../../wal/index.ts'
import type { LedgerFigures } from './internal-checks.ts'
import { baseForTransfer, type FoldReply, type FoldRequest } from './replay-messages.ts'
import type { FoldOutcome, ReplayBase } from './replay-ledger.ts'

/** The back office's default: follow every 100 ms. */
export const REPLAY_FOLLOW_DEFAULTS = { intervalMs: 100 } as const

export interface ReplayFollowerOptions {
  wal: Wal
  /** Where the replay starts over when it cannot go on (genesis, or a snapshot section the log continues); null: none. */
  base: () => ReplayBase | null
}

/** The worker's script (src/runtime/worker-url.ts: from source and in the compiled binary). */
const WORKER_URL = workerScriptUrl(import.meta.url, 'replay-follower.ts', 'backoffice/replay-worker.ts')

export class ReplayFollower {
  private readonly options: ReplayFollowerOptions
  private readonly channel: WorkerChannel<FoldRequest, FoldReply>
  /** The request under way (or the last one, settled): each goes after the one before it. */
  private tail: Promise<unknown> = Promise.resolve()
  private foldsPending = 0
  private requestCount = 0
  /** The worker's state as of its last answer, and the base the next request starts over from (null: go on). */
  private startedMirror = false
  private folded = 0
  private restartFrom: ReplayBase | null = null
  /**
   * The last request failed (a record the fold cannot decode, a worker lost): background follows wait for the next
   * reconcile to ask (and report the error) rather than retry every interval.
   */
  private failing = false
  private timerCancel: (() => void) | null = null
  private stopped = false

  constructor(options: ReplayFollowerOptions) {
    this.options = options
    this.channel = new WorkerChannel<FoldRequest, FoldReply>({
      url: WORKER_URL,
      failed: (id, message) => ({ id, ok: false, started: false, foldedLsn: this.folded, message }),
      // The worker's ledger is gone: the next request starts over from a base.
      onLost: () => {
        this.startedMirror = false
        this.failing = true
      },
    })
  }

  /** The last LSN the worker folded (or the base's, for a start over not yet sent). */
  get foldedLsn(): number {
    return this.folded
  }

  /** The worker's thread: running, its priority, how long an answer has been awaited. */
  get threadStatus(): WorkerThreadStatus {
    return this.channel.status
  }

  /** Whether a request is under way or queued: an answer from the worker's thread is awaited. */
  get busy(): boolean {
    return this.foldsPending > 0
  }

  get started(): boolean {
    return this.startedMirror
  }

  /**
   * Whether the replay can go on: it continues where it stopped while the log still holds what follows, else starts
   * over from the base (false when there is none). Never while a request is under way (its answer moves the mirror).
   */
  ready(): boolean {
    if (this.startedMirror && this.options.wal.firstLsn <= this.folded + 1) return true
    if (this.foldsPending > 0) return false
    const base = this.options.base()
    if (base === null) return false
    this.restartFrom = base
    this.startedMirror = true
    this.folded = base === 'genesis' ? 0 : base.lsn
    return true
  }

  /** Folds up to `toLsn` after any request under way. 'gap': see FoldOutcome. */
  async catchUp(toLsn: number): Promise<FoldOutcome> {
    return (await this.request(toLsn, false)).outcome
  }

  /** Folds up to `toLsn` (durable) and answers the replayed ledger's figures there, or 'gap'. */
  async figuresAt(toLsn: number): Promise<LedgerFigures | 'gap'> {
    const answer = await this.request(toLsn, true)
    return answer.outcome === 'gap' || answer.figures === null ? 'gap' : answer.figures
  }

  /**
   * Every `intervalMs` on `clock`, folds up to `target()` unless `held()` or a request is under way. A fold that fails
   * (a record it cannot decode) is left to the next reconcile, which folds the same records and reports the error.
   */
  follow(options: { clock: Clock; intervalMs: number; target: () => number; held: () => boolean }): void {
    if (this.stopped || this.timerCancel !== null) return
    const tick = (): void => {
      this.timerCancel = null
      if (this.stopped) return
      const toLsn = options.target()
      if (options.held() || this.failing || this.foldsPending > 0 || toLsn <= this.folded || !this.ready()) return arm()
      this.catchUp(toLsn)
        .catch(() => undefined)
        .finally(arm)
    }
    const arm = (): void => {
      if (!this.stopped) this.timerCancel = options.clock.schedule(options.intervalMs, tick)
    }
    arm()
  }

  /** Resolves when no request is under way (one queued meanwhile is waited for too). */
  async idle(): Promise<void> {
    while (this.foldsPending > 0) await this.tail
  }

  /** Stops following and ends the worker: a request under way is answered as failed, not waited for. */
  async stop(): Promise<void> {
    this.stopped = true
    this.timerCancel?.()
    this.timerCancel = null
    this.channel.stop('the back office stopped')
    await this.idle()
  }

  private request(toLsn: number, figures: boolean): Promise<{ outcome: FoldOutcome; figures: LedgerFigures | null }> {
    this.foldsPending++
    const answer = this.tail.then(() => this.send(toLsn, figures))
    this.tail = answer.catch(() => undefined)
    return answer.finally(() => this.foldsPending--)
  }

  private async send(toLsn: number, figures: boolean): Promise<{ outcome: FoldOutcome; figures: LedgerFigures | null }> {
    if (!this.startedMirror) return { outcome: 'gap', figures: null }
    if (!figures && this.restartFrom === null && this.folded >= toLsn) return { outcome: 'done', figures: null }
    const base = this.restartFrom
    this.restartFrom = null
    const id = ++this.requestCount
    const slice = this.options.wal.slice(this.folded + 1, toLsn)
    let reply: FoldReply
    try {
      reply = await this.channel.request({ id, base: base === null ? null : baseForTransfer(base), slice, figures })
    } catch (error) {
      this.startedMirror = false // the base may not have reached the worker: the next request starts over
      this.failing = true
      throw error
    }
    this.startedMirror = reply.started
    this.folded = reply.foldedLsn
    this.failing = !reply.ok
    if (!reply.ok) throw new Error(`the replay worker could not fold: ${reply.message}`)
    // A slice promises everything through its toLsn is on disk: ending short of it is a hole, never 'done'.
    if (reply.outcome === 'done' && reply.foldedLsn < slice.toLsn) {
      this.startedMirror = false
      return { outcome: 'gap', figures: null }
    }
    return { outcome: reply.outcome, figures: reply.figures }
  }
}
