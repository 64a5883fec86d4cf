/**
 * The writable log (`Wal`): its public surface and the wiring of its parts.
 *
 * - open / openReplica: options checked, recovery (recover.ts), the first segment created if there is none;
 * - append / appendFrames: the refusals (closed, dead, replica or not here; bad record, queue bounds in
 *   append-refusal.ts) made before anything is queued; the queue and its durable commit are the group commit's
 *   (group-commit.ts), which writes each batch (batch-write.ts) into the segment files (segment-writer.ts);
 * - read / subscribe: readers and subscribers see only the durable part (lastLsn, chainHead);
 * - removeSegmentsBelow: compaction of whole sealed segments; close: drain the queue, trim, close the file (log-close.ts).
 *
 * `position` is the written head (it runs ahead of the durable one by at most one batch); the catalog, the position,
 * the segment writer and the stats are shared by the parts, each changing what its own step owns.
 */

import { assert } from './assert.ts'
import type { SegmentCatalog, SegmentInfo } from './catalog.ts'
import { sliceOfCatalog, type LogSlice } from './slice.ts'
import { HASH_BYTES } from './chain.ts'
import { removeSegmentsBelow } from './compaction.ts'
import type { LogDirLock } from './dir-lock.ts'
import { openLocked } from './open-locked.ts'
import { recordsRefusal, framesRefusal } from './append-refusal.ts'
import { isSyncFailure, LeaseEpochUsedError, LeaseError, WalClosedError, WalFatalError, WalRecordError, WalReplicationError } from './errors.ts'
import { FRAME_HEADER_BYTES, type Frame, type RecordInput } from './frame.ts'
import { GroupCommit, WaiterAppend, type AppendWaiter, type CommitListener, type PendingAppend } from './group-commit.ts'
import { nodeIo } from './io.ts'
import { defaultWalOptions, optionsProblem, type Durability, type WalOptions } from './options.ts'
import { readFrames, type ReadOptions } from './reader.ts'
import { verifyChainTo, type RecoveryReport } from './recover.ts'
import { plainBytes, type EpochCeiling } from './replicate.ts'
import type { ChainPosition } from './scan.ts'
import { SegmentWriter, createSegment } from './segment-writer.ts'
import { emptyWalStats, type WalStats } from './stats.ts'
import { closeSegmentWriter, whenDrained } from './log-close.ts'

export class Wal {
  readonly dir: string
  readonly options: WalOptions
  readonly recovery: RecoveryReport
  readonly stats: WalStats = emptyWalStats()
  private readonly catalog: SegmentCatalog
  private readonly position: ChainPosition
  private readonly writer: SegmentWriter
  private readonly commit: GroupCommit
  private closed = false
  private closing: Promise<void> | null = null
  /** Told once close() has finished (onClosed). */
  private readonly closeListeners = new Set<() => void>()
  private anchorLsn: number
  /** A replica takes only replicated frames (appendFrames), never records of its own. */
  readonly replica: boolean
  /** The directory's writer lock (dir-lock.ts), held until close. */
  private readonly lock: LogDirLock

  private constructor(
    dir: string,
    options: WalOptions,
    recovered: { catalog: SegmentCatalog; position: ChainPosition; report: RecoveryReport; lock: LogDirLock },
    replica = false,
  ) {
    this.dir = dir
    this.replica = replica
    this.lock = recovered.lock
    this.options = options
    this.catalog = recovered.catalog
    this.position = recovered.position
    this.recovery = recovered.report
    this.anchorLsn = options.verifyChainOnOpen ? Math.min(options.chainAnchorLsn, recovered.position.lastLsn) : 0
    this.writer = new SegmentWriter(dir, options, { catalog: this.catalog, position: this.position, stats: this.stats })
    this.commit = new GroupCommit({
      options,
      catalog: this.catalog,
      position: this.position,
      writer: this.writer,
      stats: this.stats,
      scratchHash: new Uint8Array(HASH_BYTES),
      frameViews: [],
    })
  }

  /**
   * Opens (creating if needed) the log in `dir` for writing. Throws WalCorruptionError on damage, LeaseError if fenced
   * (LeaseEpochUsedError when the log already holds frames of the lease's epoch), WalLockedError if another open log
   * holds the directory.
   */
  static open(dir: string, overrides: Partial<WalOptions> = {}): Wal {
    const options: WalOptions = { ...defaultWalOptions, io: nodeIo, ...overrides }
    const problem = optionsProblem(options)
    if (problem !== null) throw new WalRecordError(`invalid WAL options: ${problem}`)
    options.lease?.assertHeld()
    return openLocked(dir, options, (recovered) => {
      if (recovered.position.lastEpoch > options.epoch) {
        throw new LeaseError('LEASE_LOST', `the log holds frames of epoch ${recovered.position.lastEpoch}; this writer has epoch ${options.epoch}`)
      }
      // Frames of the lease's own epoch: another holder of it wrote them (LeaseEpochUsedError). Without a lease (a
      // single node) every run writes at epoch 1.
      if (options.lease !== null && recovered.position.lastEpoch === options.epoch) throw new LeaseEpochUsedError(options.epoch)
      if (recovered.catalog.last === undefined) {
        createSegment(dir, options, { firstLsn: 1, previousHash: recovered.position.lastHash, epoch: options.epoch }, recovered.catalog)
      }
      return new Wal(dir, options, recovered)
    })
  }

  /**
   * Opens (creating if needed) the log in `dir` as a replica (a standby's copy of the leader's log): it holds no lease
   * and takes only `appendFrames`; its epoch follows the frames it receives. Recovery and the lock are as in `open`.
   */
  static openReplica(dir: string, overrides: Partial<Omit<WalOptions, 'lease' | 'epoch'>> = {}): Wal {
    const options: WalOptions = { ...defaultWalOptions, io: nodeIo, ...overrides, lease: null, epoch: 1 }
    const problem = optionsProblem(options)
    if (problem !== null) throw new WalRecordError(`invalid WAL options: ${problem}`)
    return openLocked(dir, options, (recovered) => {
      options.epoch = Math.max(1, recovered.position.lastEpoch)
      if (recovered.catalog.last === undefined) {
        createSegment(dir, options, { firstLsn: 1, previousHash: recovered.position.lastHash, epoch: options.epoch }, recovered.catalog)
      }
      return new Wal(dir, options, recovered, true)
    })
  }

  get durability(): Durability {
    return this.options.durability
  }

  get epoch(): number {
    return this.options.epoch
  }

  /** The highest epoch of any frame in the log (0 for an empty log). */
  get lastEpoch(): number {
    return this.position.lastEpoch
  }

  /** The last durable LSN (0 for an empty log). */
  get lastLsn(): number {
    return this.commit.durableLsn
  }

  get firstLsn(): number {
    return this.catalog.firstLsn
  }

  /**
   * 0 when the chain of every frame was verified; otherwise the LSN whose stored hash the open trusted (chain verified
   * only after it, see WalOptions.chainAnchorLsn) until verifyChainBelowAnchor() runs.
   */
  get chainAnchorLsn(): number {
    return this.anchorLsn
  }

  /**
   * Verifies what an anchored open skipped: CRC and chain of every frame up to the anchor (the anchor's segment
   * included). Throws WalCorruptionError on damage; afterwards the whole log counts as verified. Call before writing.
   */
  verifyChainBelowAnchor(): void {
    if (this.anchorLsn === 0) return
    verifyChainTo(this.catalog, this.options.io, this.anchorLsn)
    this.anchorLsn = 0
  }

  /** The chain head at lastLsn (a copy). */
  get chainHead(): Uint8Array {
    return this.commit.durableHash.slice()
  }

  /** True once close() has begun (or the log was abandoned): it takes no more appends, and its live end moves no more. */
  get isClosed(): boolean {
    return this.closed || this.closing !== null
  }

  /** True once close() has finished: nothing is queued any more, lastLsn is final. */
  get hasClosed(): boolean {
    return this.closed
  }

  /** Calls `listener` once close() has finished (a reader waiting on new records learns of the end). Returns an unsubscribe function. */
  onClosed(listener: () => void): () => void {
    this.closeListeners.add(listener)
    return () => this.closeListeners.delete(listener)
  }

  /** Null while healthy; the error that killed the writer otherwise. */
  get fatalError(): Error | null {
    return this.commit.fatalError
  }

  /**
   * Resolves with the error that killed the writer, when it dies; pending while healthy. A process whose log died
   * holds state that may never reach the disk (the batch it was writing), so its owner exits and restarts from the
   * log rather than go on answering reads from that state.
   */
  get died(): Promise<Error> {
    return this.commit.died
  }

  /**
   * Stops the writer for good, as a failed write would (WalFatalError with `reason`; `died` resolves): for an owner
   * whose memory no longer matches what it logged (the engine, when applying a decision failed halfway). Whatever is
   * queued is refused; a batch already written completes. No-op once the writer is dead.
   */
  halt(reason: string, cause: unknown): void {
    this.commit.halt(new WalFatalError(reason, { cause }))
  }

  get queueDepth(): { records: number; bytes: number } {
    return { records: this.commit.queuedRecords, bytes: this.commit.queuedBytes }
  }

  get segments(): readonly Readonly<SegmentInfo>[] {
    return this.catalog.segments
  }

  /**
   * Would an append of `recordCount` records totalling `payloadBytes` fit the queue now? Lets a caller that must
   * not apply anything it cannot log (the engine) check before it commits to an order of events.
   */
  hasRoomFor(recordCount: number, payloadBytes: number): boolean {
    const bytes = payloadBytes + recordCount * FRAME_HEADER_BYTES
    const { commit } = this
    return (
      commit.fatalError === null &&
      !this.closed &&
      this.closing === null &&
      commit.queuedRecords + recordCount <= this.options.queueRecordsMax &&
      commit.queuedBytes + bytes <= this.options.queueBytesMax
    )
  }

  /** Queues records; resolves with their LSNs once durable (per `durability`). Rejects without writing on any refusal. */
  append(records: RecordInput[]): Promise<number[]> {
    return new Promise<number[]>((resolve, reject) => this.appendTo(records, { resolve, reject }))
  }

  /**
   * append() for a caller that is its own waiter: `waiter.resolve` or `waiter.reject` is called once, as its method —
   * a refusal at once, before this returns, with the same errors append() rejects with. No promise or closure is made
   * per append.
   */
  appendTo(records: RecordInput[], waiter: AppendWaiter): void {
    this.appendOwn(new WaiterAppend(records, waiter))
  }

  /**
   * appendTo() for a caller whose own object is the queue's entry (PendingAppend: its `records`, and `bytes`, which
   * the log sets): `durable` with the first record's LSN, or `failed` — a refusal at once, before this returns, with
   * the errors append() rejects with. The engine appends one per command: no entry, waiter or LSN array is made.
   */
  appendOwn(append: PendingAppend): void {
    // Replicated frames take appendFrames' checks and bounds: one queued here would skip them.
    assert(append.raw === null, 'appendOwn takes new records only; replicated frames go through appendFrames')
    const refused = this.refusal(append.records)
    if (typeof refused !== 'number') return append.failed(refused)
    if (append.records.length === 0) return append.durable(this.position.lastLsn + 1)
    append.bytes = refused
    this.commit.enqueue(append)
  }

  /** Why the log refuses to queue `records` now, or their frames' byte count if it takes them. */
  private refusal(records: RecordInput[]): Error | number {
    const { commit } = this
    if (commit.fatalError !== null) return commit.fatalError
    if (this.closed || this.closing !== null) return new WalClosedError('the log is closed')
    if (this.replica) return new WalRecordError('this log is a replica: it takes replicated frames only (appendFrames)')
    return recordsRefusal(records, commit, this.options)
  }

  /**
   * Replication: queues frames exactly as another log wrote them (whole frames, concatenated) and resolves with the
   * last LSN once they are durable. When its turn comes, every frame is checked against this log's head — CRC, the
   * next LSN, an epoch no lower than the last one (and no higher than `limits.epochCeiling`, the lease's current epoch,
   * when given), the chain recomputed from this log's own head — and the bytes are written unchanged with one write and
   * one fdatasync, so both logs hold the same bytes and the same chain head. A refusal rejects with WalReplicationError
   * (or what the ceiling threw) and writes nothing of these bytes. Only a replica (openReplica) takes them.
   */
  appendFrames(received: Uint8Array, limits: { epochCeiling?: EpochCeiling | undefined } = {}): Promise<number> {
    const bytes = plainBytes(received)
    const { commit } = this
    if (commit.fatalError !== null) return Promise.reject(commit.fatalError)
    if (this.closed || this.closing !== null) return Promise.reject(new WalClosedError('the log is closed'))
    if (!this.replica) return Promise.reject(new WalReplicationError('NOT_A_REPLICA', this.position.lastLsn + 1, 'only a log opened with openReplica takes replicated frames'))
    if (bytes.byteLength === 0) return Promise.resolve(this.position.lastLsn)
    const refused = framesRefusal(bytes, commit, this.options)
    if (refused !== null) return Promise.reject(refused)
    return new Promise<number>((resolve, reject) => {
      commit.enqueue({ records: [], raw: bytes, bytes: bytes.byteLength, epochCeiling: limits.epochCeiling, durable: resolve, failed: reject })
    })
  }

  /**
   * Reads frames from `fromLsn` (inclusive) to the durable end or `toLsn`, checking CRCs (and the chain if asked). It
   * starts at the log's first LSN if `fromLsn` is below it (a caller compares with `firstLsn`); a compaction that
   * removes what it was still to read while it is paused throws WalCompactedError (LOG_COMPACTED) from it.
   * A frame's payload and hash are views valid until the next frame: decode or copy each as it comes (copyFrame), not
   * after collecting them (`[...wal.read(n)]`): past the first read (64 KiB) early frames show later bytes.
   */
  read(fromLsn: number, options: Partial<ReadOptions> = {}): Generator<Frame> {
    return readFrames(this.catalog, { io: this.options.io, fromLsn, toLsn: this.commit.durableLsn, ...options })
  }

  /** fromLsn..toLsn (clamped to the durable end) as plain data, for a reader in another thread (slice.ts). */
  slice(fromLsn: number, toLsn: number): LogSlice {
    return sliceOfCatalog(this.catalog, fromLsn, Math.min(toLsn, this.commit.durableLsn))
  }

  /** Calls `listener` after every durable batch, before its waiters are resolved. Returns an unsubscribe function. */
  subscribe(listener: CommitListener): () => void {
    const { listeners } = this.commit
    listeners.add(listener)
    return () => listeners.delete(listener)
  }

  /**
   * Where a subscriber's exception goes (it starves neither the other subscribers nor the batch's waiters); null:
   * rethrown on a later turn, as uncaught.
   */
  get onListenerError(): ((error: unknown) => void) | null {
    return this.commit.onListenerError
  }

  set onListenerError(report: ((error: unknown) => void) | null) {
    this.commit.onListenerError = report
  }

  /**
   * Removes whole segments whose every LSN is below `lsn` (never the last segment), the oldest `segmentsMax` at most
   * (unset: all). With `archiveDir` they are moved there instead of deleted. Returns the removed segment names.
   */
  removeSegmentsBelow(lsn: number, options: { archiveDir?: string; segmentsMax?: number } = {}): string[] {
    try {
      return removeSegmentsBelow(this.catalog, lsn, { dir: this.dir, io: this.options.io, ...options })
    } catch (error) {
      // A failed fsync of the log's directory (or of an archive copy) is fatal, as a failed fsync of a batch is: the
      // writer stops and the process recovers by reopening, never by syncing again and trusting the answer.
      if (isSyncFailure(error)) this.halt(`${error instanceof Error ? error.message : String(error)}; the writer is stopped and the process must recover by reopening`, error)
      throw error
    }
  }

  /**
   * Lets go of the directory lock and of nothing else, as the end of the process would: nothing is flushed, trimmed or
   * closed. For simulations of a crash inside one process (the specs' crash harnesses), which then reopen the log as
   * the next process would. This Wal must not be used afterwards.
   */
  abandonAsCrashed(): void {
    this.closed = true
    this.lock.release()
  }

  /** Stops accepting appends, flushes what is queued, and closes the file. */
  close(): Promise<void> {
    if (this.closing !== null) return this.closing
    this.closing = new Promise<void>((resolve) => {
      // Once the queue drained and no sync is out (log-close.ts): a log abandoned as crashed is closed already.
      whenDrained(this.commit, () => {
        if (!this.closed) {
          this.closed = true
          closeSegmentWriter(this.writer, this.commit)
          this.lock.release()
        }
        resolve()
        for (const listener of [...this.closeListeners]) listener()
      })
    })
    return this.closing
  }
}
