/**
 * Group commit: the append queue, and the pipeline that makes it durable batch by batch.
 *
 * Appends are queued and a flush is scheduled (`WalOptions.scheduleFlush`, setImmediate by default, so every append
 * made while the previous batch was being written joins the next one). A flush takes a bounded batch off the queue
 * (batchRecordsMax, batchBytesMax), writes it (batch-write.ts: one write, one more per segment roll) and issues one
 * fdatasync (the lease is checked before the write too: a fenced writer writes nothing); when it comes back the
 * lease is re-checked, and only then does the durable position move, the subscribers hear of the batch and every
 * waiter is resolved. A failed write or fsync, or a lost lease, kills the
 * writer: the batch and everything queued fail, and nothing is ever retried (after a failed fsync the kernel may have
 * dropped the dirty pages; retrying would acknowledge data that is not on disk).
 *
 * Pipelined: the fdatasync runs off the event loop (`WalIo.fdatasyncOffLoop`), at most one at a time; while it is in
 * flight the loop keeps serving and the next batch accumulates in the queue, and it is written when the sync comes
 * back. Waiters are resolved strictly in LSN order, only after their batch is durable and the lease re-check passed.
 * The durable position (durableLsn, durableHash) is what readers see; the written head runs ahead by at most one batch.
 */

import { checkReplicatedFrames, type EpochCeiling, type ReplicatedFrame } from './replicate.ts'
import { LeaseError, WalFatalError } from './errors.ts'
import type { Frame, RecordInput } from './frame.ts'
import { FrameView } from './frame-check.ts'
import { writeRecordBatch, writeReplicatedBatch, type BatchTarget, type QueuedRecords, type WrittenBatch } from './batch-write.ts'
import type { WriteMark } from './segment-writer.ts'
import { noteFsync } from './stats.ts'

/**
 * Who is told how an append ended: `resolve` with its LSNs once durable, or `reject`; exactly one of them, once, as a
 * method of this object (Wal.appendTo lets a caller be its own waiter, with no promise or closure per append).
 */
export interface AppendWaiter {
  resolve(lsns: number[]): void
  reject(error: Error): void
}

/**
 * One append waiting in the queue: records of its own, or replicated frames (appendFrames) in a batch of their own.
 * It is told how it ended as a method of itself: `durable` once its batch is durable, or `failed`; exactly one of
 * them, once. An owner that keeps an object per append anyway (the engine's per command) is its own entry
 * (Wal.appendOwn): no entry, waiter or LSN array is made for it.
 */
export interface PendingAppend extends QueuedRecords {
  /** Replicated frames (appendFrames): written as received, in a batch of their own. */
  raw: Uint8Array | null
  /** Of replicated frames: the highest epoch they may carry (replicate.ts), read when one raises the epoch. */
  epochCeiling?: EpochCeiling | undefined
  /** Durable: its records hold `lsn`, `lsn` + 1, … in order (replicated frames: `lsn` is the last frame's). */
  durable(lsn: number): void
  failed(error: Error): void
}

/** An append whose caller gave a waiter (Wal.appendTo): told with the LSNs as an array. */
export class WaiterAppend implements PendingAppend {
  readonly records: RecordInput[]
  /** Set by the log (Wal.appendOwn). */
  bytes = 0
  readonly raw = null
  private readonly waiter: AppendWaiter

  constructor(records: RecordInput[], waiter: AppendWaiter) {
    this.records = records
    this.waiter = waiter
  }

  durable(firstLsn: number): void {
    const lsns = new Array<number>(this.records.length)
    for (let index = 0; index < lsns.length; index++) lsns[index] = firstLsn + index
    this.waiter.resolve(lsns)
  }

  failed(error: Error): void {
    this.waiter.reject(error)
  }
}

/**
 * A durable batch, as seen by subscribers (tail followers). Frames are views valid only during the callback: they are
 * reused, so one kept reads an empty payload between callbacks and a later batch's frame inside a later one.
 */
export interface CommittedBatch {
  firstLsn: number
  lastLsn: number
  frames: Frame[]
}

export type CommitListener = (batch: CommittedBatch) => void

export class GroupCommit {
  private readonly target: BatchTarget
  private queue: PendingAppend[] = []
  private queuedRecordCount = 0
  private queuedByteCount = 0
  private flushScheduled = false
  /** A written batch whose fdatasync has not come back yet (at most one). */
  private syncing = false
  /** The last durable LSN and the chain head there; the written position may be one batch ahead while syncing. */
  private durableLsnNow: number
  private readonly durableHashNow: Uint8Array
  private fatal: Error | null = null
  readonly #died = Promise.withResolvers<Error>()
  readonly listeners = new Set<CommitListener>()
  /** Where a subscriber's exception goes (see notifyListeners); null: rethrown on a later turn, as uncaught. */
  onListenerError: ((error: unknown) => void) | null = null

  constructor(target: BatchTarget) {
    this.target = target
    this.durableLsnNow = target.position.lastLsn
    this.durableHashNow = target.position.lastHash.slice()
  }

  get durableLsn(): number {
    return this.durableLsnNow
  }

  /** The chain head at durableLsn (the live array: callers copy it). */
  get durableHash(): Uint8Array {
    return this.durableHashNow
  }

  get fatalError(): Error | null {
    return this.fatal
  }

  /** Resolves with fatalError when the writer stops; pending for as long as it is healthy. */
  get died(): Promise<Error> {
    return this.#died.promise
  }

  get queuedRecords(): number {
    return this.queuedRecordCount
  }

  get queuedBytes(): number {
    return this.queuedByteCount
  }

  /** Nothing queued and no sync in flight. */
  get idle(): boolean {
    return this.queue.length === 0 && !this.syncing
  }

  /** A written batch's fdatasync (and its lead zeros) still out on the file: it must not be closed under them. */
  get syncInFlight(): boolean {
    return this.syncing
  }

  /** Queues an append the caller has checked (bounds included) and schedules a flush. */
  enqueue(pending: PendingAppend): void {
    this.queue.push(pending)
    this.queuedRecordCount += pending.records.length
    this.queuedByteCount += pending.bytes
    this.scheduleFlush()
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return
    this.flushScheduled = true
    this.target.options.scheduleFlush(() => {
      this.flushScheduled = false
      this.flush()
    })
  }

  private flush(): void {
    if (this.queue.length === 0 || this.fatal !== null || this.syncing) return
    const batch = this.takeBatch()
    const raw = batch[0]?.raw ?? null
    if (raw !== null) {
      this.flushReplicated(batch[0] as PendingAppend, raw)
      return
    }
    let written: WrittenBatch
    const start = this.target.writer.mark()
    try {
      // A writer that knows it was fenced writes nothing: a frame written now could never be acknowledged, and would
      // stay on this disk as a record the new leader lacks (the node then diverges when it follows). The check after
      // the sync still decides acknowledgement, for a takeover during the write.
      this.target.options.lease?.assertHeld()
      written = writeRecordBatch(this.target, batch)
    } catch (cause) {
      this.die(cause, batch, start)
      return
    }
    const { position } = this.target
    const firstLsn = position.lastLsn - written.frameCount + 1
    const lastLsn = position.lastLsn
    this.makeDurable(batch, start, () => {
      this.notifyListeners(firstLsn, lastLsn, written.frames)
      let next = firstLsn
      for (const pending of batch) {
        pending.durable(next)
        next += pending.records.length
      }
    })
  }

  /**
   * The written batch's fdatasync (off the event loop under `fsync` durability), with the zeros its write left owed
   * ahead of the last frame (SegmentWriter.takeLeadStep) written beside it; then the lease re-check, then the durable
   * position moves and `acknowledge` runs. A failed sync or lease check kills the writer instead. The batch's fate is
   * its sync's alone: its frames were written before the zeros were issued, and never where they go, so a failed zero
   * write (a full disk) still acknowledges a batch whose sync succeeded — then kills the writer, failing everything
   * queued behind it. No batch is written until both the sync and the zeros came back, so the zeros never land on a
   * frame, and the file is never closed under them (close waits for idle).
   */
  private makeDurable(batch: PendingAppend[], start: WriteMark, acknowledge: () => void): void {
    const { options, position, writer, stats } = this.target
    const lastLsn = position.lastLsn
    const lastHash = position.lastHash.slice()
    let finished = false
    const finish = (syncError: unknown, leadError: unknown): void => {
      if (finished) return
      finished = true
      this.syncing = false
      try {
        if (syncError !== null) throw syncError
        options.lease?.assertHeld()
      } catch (cause) {
        this.die(cause, batch, syncError === null ? null : start)
        return
      }
      this.durableLsnNow = lastLsn
      this.durableHashNow.set(lastHash)
      acknowledge()
      if (leadError !== null) this.die(leadError, [])
      else if (this.queue.length > 0) this.scheduleFlush()
    }
    const lead = writer.takeLeadStep()
    if (options.durability !== 'fsync') {
      let leadError: unknown = null
      try {
        if (lead !== null) options.io.write(lead.fd, lead.bytes, lead.positionBytes)
      } catch (cause) {
        leadError = cause
      }
      finish(null, leadError)
      return
    }
    this.syncing = true
    // Both calls report once each, now (refused) or later; the batch finishes once both have.
    let outstanding = lead === null ? 1 : 2
    let syncError: unknown = null
    let leadError: unknown = null
    const reported = (): void => {
      if (--outstanding === 0) finish(syncError, leadError)
    }
    const started = performance.now()
    if (lead !== null) {
      offLoop(
        (done) => options.io.writeOffLoop(lead.fd, lead.bytes, lead.positionBytes, done),
        (error) => {
          leadError = error
          reported()
        },
      )
    }
    offLoop(
      (done) =>
        options.io.fdatasyncOffLoop(writer.fd, (error) => {
          noteFsync(stats, performance.now() - started)
          done(error)
        }),
      (error) => {
        syncError = error
        reported()
      },
    )
  }

  private takeBatch(): PendingAppend[] {
    const { batchRecordsMax, batchBytesMax } = this.target.options
    let records = 0
    let bytes = 0
    let count = 0
    for (const pending of this.queue) {
      // Replicated frames are checked against the head as it stands when they are written, so they go alone.
      if (count > 0 && (pending.raw !== null || this.queue[0]?.raw !== null)) break
      if (count > 0 && (records + pending.records.length > batchRecordsMax || bytes + pending.bytes > batchBytesMax)) break
      records += pending.records.length
      bytes += pending.bytes
      count++
    }
    const batch = this.queue.splice(0, count)
    this.queuedRecordCount -= records
    this.queuedByteCount -= bytes
    return batch
  }

  private flushReplicated(pending: PendingAppend, raw: Uint8Array): void {
    const { position } = this.target
    let checked: ReplicatedFrame[]
    try {
      checked = checkReplicatedFrames(raw, position, pending.epochCeiling)
    } catch (error) {
      // A refused chunk is the sender's problem, not the disk's: this log stays healthy and writes nothing.
      pending.failed(error as Error)
      if (this.queue.length > 0) this.scheduleFlush()
      return
    }
    let frames: () => Frame[]
    const start = this.target.writer.mark()
    try {
      frames = writeReplicatedBatch(this.target, raw, checked)
    } catch (cause) {
      this.die(cause, [pending], start)
      return
    }
    const lastLsn = position.lastLsn
    this.makeDurable([pending], start, () => {
      this.notifyListeners(lastLsn - checked.length + 1, lastLsn, frames)
      pending.durable(lastLsn)
    })
  }

  /**
   * Tells the subscribers there are now — not those there were when the batch was written: with the sync off the
   * event loop, one may subscribe in between (a back office opened during an HA takeover), and it must get every
   * frame of the batch, since its start position (lastLsn) excluded them. Frame views are built only when someone
   * listens; without any, the hot path allocates none. A subscriber that throws does not starve the others, nor the
   * batch's waiters (they resolve right after): its error goes to `onListenerError`, or without one is rethrown on a
   * later turn, once everything else has been told.
   */
  private notifyListeners(firstLsn: number, lastLsn: number, framesOf: () => Frame[]): void {
    if (this.listeners.size === 0) return
    // One batch object for every subscriber (they are told in turn, each within its callback).
    const batch: CommittedBatch = { firstLsn, lastLsn, frames: framesOf() }
    for (const listener of this.listeners) {
      try {
        listener(batch)
      } catch (error) {
        const report = this.onListenerError
        if (report !== null) report(error)
        else queueMicrotask(() => {
          throw error
        })
      }
    }
    // The views are valid only during the callbacks, and those of written batches are reused (batch-write.ts): none
    // keeps this batch's buffer alive from here on.
    for (const frame of batch.frames) if (frame instanceof FrameView) frame.detach()
  }

  /**
   * Stops the writer with `error` as if a write had failed: everything queued is refused with it, `died` resolves, and
   * nothing more is written. A batch already written finishes its sync and is acknowledged if that succeeds (its
   * records are on disk either way). No-op once dead.
   */
  halt(error: Error): void {
    if (this.fatal === null) this.stop(error, [])
  }

  /**
   * Stops the writer of `cause`, failing `batch` and everything queued. `failedFrom`: where the batch that failed its
   * write or sync began; what of it is not known durable is cut off the file (SegmentWriter.dropFailedBatch).
   */
  private die(cause: unknown, batch: PendingAppend[], failedFrom: WriteMark | null = null): void {
    if (failedFrom !== null) this.target.writer.dropFailedBatch(failedFrom)
    const error =
      cause instanceof LeaseError
        ? cause
        : new WalFatalError(`log write failed; the writer is stopped and the process must recover by reopening: ${String(cause)}`, { cause })
    this.stop(error, batch)
  }

  private stop(error: Error, batch: PendingAppend[]): void {
    this.fatal = error
    this.#died.resolve(error)
    for (const pending of batch) pending.failed(error)
    for (const pending of this.queue) pending.failed(error)
    this.queue = []
    this.queuedRecordCount = 0
    this.queuedByteCount = 0
  }
}

/**
 * Issues an off-loop call and reports its outcome exactly once: the error it completes with, or the one it throws
 * when refused up front. A throw after it already reported is a bug in the I/O layer and is rethrown.
 */
function offLoop(issue: (done: (error: Error | null) => void) => void, report: (error: unknown) => void): void {
  let reported = false
  const once = (error: unknown): void => {
    if (reported) return
    reported = true
    report(error)
  }
  try {
    issue(once)
  } catch (cause) {
    if (reported) throw cause
    once(cause)
  }
}
