/**
 * The gateway's side of the self-check thread (self-check-worker.ts): each `check()` names the log from the last
 * verified LSN through the durable head (a LogSlice, plain data) and the thread re-derives it from the segment files,
 * so the event loop only waits for the answer. What it holds here is what the answers said: the verified LSN and head
 * (where a new thread starts when one is lost), the seals checked, and the first finding (sticky, as in SelfCheck).
 *
 * A thread that fails (it throws, exits, or cannot read an answer) answers its check as an error — nothing is known
 * about the log's bytes, so it is not a finding — and the next check starts a new thread from the last verified point.
 * The new thread is told the last seal record the checks read, so the next seal's prevSealLsn is still checked, and
 * the head at that point, so a seal signing it is checked too. A seal read after the restart that signs an LSN before
 * it (one in flight across the restart) has its signature and sequence checked, not its head (the new thread never
 * held it). A segment file the live log still holds but the disk no longer has is a finding (SEGMENT_MISSING,
 * held-segments.ts; so is a header that changed), looked for at every check, so a thread failing on a deleted file
 * does not hide it.
 */

import { GENESIS_HASH, type LogSlice } from '../../wal/index.ts'
import { WorkerChannel, type WorkerThreadStatus } from '../runtime/worker-channel.ts'
import { workerScriptUrl } from '../runtime/worker-url.ts'
import type { AuditProblem } from './codes.ts'
import type { SealKeySource } from './keys.ts'
import { heldSegmentDamage } from './held-segments.ts'
import { SelfCheckSweep } from './self-check-sweep.ts'
import type { SelfChecker } from './self-check.ts'
import type { SelfCheckReply, SelfCheckRequest } from './self-check-messages.ts'

/** The worker's script (src/runtime/worker-url.ts: from source and in the compiled binary). */
const WORKER_URL = workerScriptUrl(import.meta.url, 'self-check-thread.ts', 'audit/self-check-worker.ts')

/** What the thread checks: the live log's durable end and slices of it (`Wal` satisfies it). */
export interface SliceableLog {
  readonly dir: string
  readonly firstLsn: number
  /** The last durable LSN. */
  readonly lastLsn: number
  /** The writer's chain head at lastLsn. */
  readonly chainHead: Uint8Array
  readonly segments: readonly { readonly path: string; readonly firstLsn: number; readonly lastLsn: number; readonly previousHash: Uint8Array }[]
  slice(fromLsn: number, toLsn: number): LogSlice
}

export interface SelfCheckThreadOptions {
  log: SliceableLog
  keys: SealKeySource | null
  /**
   * A point already verified (a snapshot's sealed head); default: the log's start. `previousSealLsn`: the last seal
   * record at or before it (0: none), so the next seal's prevSealLsn is checked; absent or null: not known.
   */
  from?: { lsn: number; chainHead: Uint8Array; previousSealLsn?: number | null }
  /** Records the sweep re-reads per check (default SWEEP_RECORDS_PER_CHECK). */
  sweepRecordsPerCheck?: number
}

export class SelfCheckThread implements SelfChecker {
  private readonly log: SliceableLog
  private readonly keys: SealKeySource | null
  private readonly channel: WorkerChannel<SelfCheckRequest, SelfCheckReply>
  /** Whether the thread holds a SelfCheck at verifiedLsn (else the next request starts one there). */
  private started = false
  private verifiedLsn: number
  private verifiedHead: Uint8Array
  /** The last seal record the checks read (0: none since the log's start; null: not known), for a new thread. */
  private previousSealLsn: number | null = null
  private seals = 0
  /** Seals counted by threads before the current one (a new thread counts from 0). */
  private sealsBefore = 0
  private finding: AuditProblem | null = null
  private nextId = 1
  private tail: Promise<unknown> = Promise.resolve()
  /** Re-reads what the tail check passed, a stretch per check (self-check-sweep.ts). */
  private readonly sweep: SelfCheckSweep
  /** Checks that got past the tail check (the sweep begins at the second). */
  private checksDone = 0

  constructor(options: SelfCheckThreadOptions) {
    this.log = options.log
    this.keys = options.keys
    this.sweep = new SelfCheckSweep(options.sweepRecordsPerCheck)
    const from = options.from ?? { lsn: options.log.firstLsn - 1, chainHead: options.log.segments[0]?.previousHash ?? GENESIS_HASH }
    this.verifiedLsn = from.lsn
    this.verifiedHead = from.chainHead.slice()
    this.previousSealLsn = options.from?.previousSealLsn ?? null
    this.channel = new WorkerChannel<SelfCheckRequest, SelfCheckReply>({
      url: WORKER_URL,
      failed: (id, message) => ({ id, ok: false, message }),
      onLost: () => {
        this.started = false
        this.sweep.reset()
      },
    })
  }

  get verifiedThroughLsn(): number {
    return this.verifiedLsn
  }

  /** The check's thread: running, its priority, how long an answer has been awaited. */
  get threadStatus(): WorkerThreadStatus {
    return this.channel.status
  }

  get sealsChecked(): number {
    return this.seals
  }

  /** Sweep passes (re-reads of everything the tail check had passed) finished without a finding. */
  get sweepPasses(): number {
    return this.sweep.passes
  }

  /** Checks the log through its durable head as it is now; throws when the thread could not check (not a finding). */
  check(): Promise<AuditProblem | null> {
    const run = this.tail.then(() => this.checkNow())
    this.tail = run.catch(() => undefined)
    return run
  }

  /** Ends the thread (a check under way answers as failed). */
  stop(): void {
    this.channel.stop('the self-check thread was stopped')
  }

  private async checkNow(): Promise<AuditProblem | null> {
    if (this.finding !== null) return this.finding
    // A held segment's file gone or its header changed (held-segments.ts): before the slice, so a segment the check
    // passed long ago counts too.
    const missing = heldSegmentDamage(this.log)
    if (missing !== null) return (this.finding = missing)
    const finding = await this.checkTail()
    if (finding !== null) return finding
    // Not at the first check (the gateway's start waits for it, and it reads from a snapshot's LSN on for that reason).
    if (this.checksDone++ === 0) return null
    const ask = (request: Omit<SelfCheckRequest, 'id'>): Promise<SelfCheckReply> => this.channel.request({ id: this.nextId++, ...request })
    this.finding = await this.sweep.step(this.log, this.keys, { lsn: this.verifiedLsn, head: this.verifiedHead }, ask)
    return this.finding
  }

  /** The tail check: the log from the last verified LSN through the durable end. */
  private async checkTail(): Promise<AuditProblem | null> {
    // The durable end and the writer's head there, read in one synchronous step: the disk must re-derive to it.
    const toLsn = this.log.lastLsn
    const expectedHead = this.log.chainHead
    if (toLsn <= this.verifiedLsn) return null
    const start = this.started ? null : { lsn: this.verifiedLsn, chainHead: this.verifiedHead, previousSealLsn: this.previousSealLsn, keys: this.keys }
    if (start !== null) this.sealsBefore = this.seals
    const reply = await this.channel.request({ id: this.nextId++, checker: 'tail', start, dir: this.log.dir, slice: this.log.slice(this.verifiedLsn + 1, toLsn), expectedHead })
    if (!reply.ok) {
      this.started = false // the thread's SelfCheck may be gone or stale: the next check starts one from verifiedLsn
      // The thread reads "a segment was removed before I read it" as a race with compaction, not a finding; whether
      // the log still holds that segment says which it was.
      const gone = heldSegmentDamage(this.log)
      if (gone !== null) return (this.finding = gone)
      throw new Error(`the self-check could not run: ${reply.message}`)
    }
    this.started = true
    this.verifiedLsn = reply.verifiedLsn
    this.verifiedHead = reply.verifiedHead
    this.previousSealLsn = reply.previousSealLsn
    this.seals = this.sealsBefore + reply.sealsChecked
    this.finding = reply.finding
    return reply.finding
  }
}
