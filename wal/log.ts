/**
 * The writable log: group commit over segmented files.
 *
 * `append(records)` queues records and returns a promise of their LSNs. A flush (scheduled with setImmediate, so every
 * append made while the previous batch was being written joins the next one) encodes the queued records into one
 * buffer, issues one write and one fdatasync, re-checks the lease, and only then resolves every waiter. A failed write
 * or fsync kills the writer: the batch and everything queued fail, and nothing is ever retried (after a failed fsync
 * the kernel may have dropped the dirty pages; retrying would acknowledge data that is not on disk).
 *
 * Pipelined: the fdatasync runs off the event loop (`WalIo.fdatasyncOffLoop`), at most one at a time; while it is in
 * flight the loop keeps serving and the next batch accumulates in the queue, and it is written when the sync comes
 * back. Waiters are resolved strictly in LSN order, only after their batch is durable and the lease re-check passed.
 * Readers, `lastLsn` and `chainHead` see only the durable part; the written head runs ahead by at most one batch.
 */

import { join } from 'node:path'
import { assert } from './assert.ts'
import type { SegmentCatalog, SegmentInfo } from './catalog.ts'
import { HASH_BYTES } from './chain.ts'
import { LeaseError, WalClosedError, WalFatalError, WalFullError, WalRecordError, WalReplicationError } from './errors.ts'
import { FRAME_HASH_OFFSET, FRAME_CONTENT_OFFSET, FRAME_HEADER_BYTES, FRAME_PAYLOAD_OFFSET, encodeFrame, frameBytesFor, recordProblem, type Frame, type RecordInput } from './frame.ts'
import { nodeIo } from './io.ts'
import { defaultWalOptions, optionsProblem, type Durability, type WalOptions } from './options.ts'
import { readFrames, type ReadOptions } from './reader.ts'
import { recoverLog, verifyChainTo, type RecoveryReport } from './recover.ts'
import { checkReplicatedFrames, plainBytes } from './replicate.ts'
import type { ChainPosition } from './scan.ts'
import { SEGMENT_HEADER_BYTES, SEGMENT_TEMP_SUFFIX, encodeSegmentHeader, segmentName } from './segment.ts'

/** The most zeros one batch writes ahead of itself (~1.5 ms of writing); see Wal.preallocate. */
const PREALLOCATE_STEP_BYTES = 256 * 1024

interface PendingAppend {
  records: RecordInput[]
  /** Replicated frames (appendFrames): written as received, in a batch of their own. */
  raw: Uint8Array | null
  bytes: number
  resolve: (lsns: number[]) => void
  reject: (error: Error) => void
}

/** A batch written, not yet durable: how many frames, and their views on demand (for the subscribers at its commit). */
interface WrittenBatch {
  frameCount: number
  frames: () => Frame[]
}

/** A durable batch, as seen by subscribers (tail followers). Frames are views valid only during the callback. */
export interface CommittedBatch {
  firstLsn: number
  lastLsn: number
  frames: Frame[]
}

export type CommitListener = (batch: CommittedBatch) => void

export interface WalStats {
  batchCount: number
  recordCount: number
  fsyncCount: number
  lastFsyncMs: number
  fsyncMsTotal: number
}

export class Wal {
  readonly dir: string
  readonly options: WalOptions
  readonly recovery: RecoveryReport
  readonly stats: WalStats = { batchCount: 0, recordCount: 0, fsyncCount: 0, lastFsyncMs: 0, fsyncMsTotal: 0 }
  private readonly catalog: SegmentCatalog
  private readonly position: ChainPosition
  private fd: number
  /** Bytes of the current segment file that exist on disk (valid frames plus preallocated zeros). */
  private allocatedBytes: number
  private readonly zeros: Uint8Array
  private queue: PendingAppend[] = []
  private queuedRecords = 0
  private queuedBytes = 0
  private flushScheduled = false
  /** A written batch whose fdatasync has not come back yet (at most one). */
  private syncing = false
  /** The last durable LSN and the chain head there; the written position may be one batch ahead while syncing. */
  private durableLsn: number
  private readonly durableHash: Uint8Array
  private fatal: Error | null = null
  private closed = false
  private closing: Promise<void> | null = null
  private readonly listeners = new Set<CommitListener>()
  /** Where a subscriber's exception goes (see notifyListeners); null: rethrown on a later turn, as uncaught. */
  onListenerError: ((error: unknown) => void) | null = null
  private readonly scratchHash = new Uint8Array(HASH_BYTES)
  private anchorLsn: number
  /** A replica takes only replicated frames (appendFrames), never records of its own. */
  readonly replica: boolean

  private constructor(
    dir: string,
    options: WalOptions,
    recovered: { catalog: SegmentCatalog; position: ChainPosition; report: RecoveryReport },
    replica = false,
  ) {
    this.dir = dir
    this.replica = replica
    this.options = options
    this.catalog = recovered.catalog
    this.position = recovered.position
    this.recovery = recovered.report
    this.durableLsn = recovered.position.lastLsn
    this.durableHash = recovered.position.lastHash.slice()
    this.anchorLsn = options.verifyChainOnOpen ? Math.min(options.chainAnchorLsn, recovered.position.lastLsn) : 0
    const last = this.catalog.last
    assert(last !== undefined, 'an open log has at least one segment')
    this.fd = options.io.openAppend(last.path)
    this.allocatedBytes = last.sizeBytes
    this.zeros = new Uint8Array(options.preallocateBytes)
  }

  /** Opens (creating if needed) the log in `dir` for writing. Throws WalCorruptionError on damage, LeaseError if fenced. */
  static open(dir: string, overrides: Partial<WalOptions> = {}): Wal {
    const options: WalOptions = { ...defaultWalOptions, io: nodeIo, ...overrides }
    const problem = optionsProblem(options)
    if (problem !== null) throw new WalRecordError(`invalid WAL options: ${problem}`)
    options.lease?.assertHeld()
    const recovered = recoverWritable(dir, options)
    if (recovered.position.lastEpoch > options.epoch) {
      throw new LeaseError('LEASE_LOST', `the log holds frames of epoch ${recovered.position.lastEpoch}; this writer has epoch ${options.epoch}`)
    }
    if (recovered.catalog.last === undefined) {
      createSegment(dir, options, { firstLsn: 1, previousHash: recovered.position.lastHash, epoch: options.epoch }, recovered.catalog)
    }
    return new Wal(dir, options, recovered)
  }

  /**
   * Opens (creating if needed) the log in `dir` as a replica (a standby's copy of the leader's log): it holds no lease
   * and takes only `appendFrames`; its epoch follows the frames it receives. Recovery is the same as `open`.
   */
  static openReplica(dir: string, overrides: Partial<Omit<WalOptions, 'lease' | 'epoch'>> = {}): Wal {
    const options: WalOptions = { ...defaultWalOptions, io: nodeIo, ...overrides, lease: null, epoch: 1 }
    const problem = optionsProblem(options)
    if (problem !== null) throw new WalRecordError(`invalid WAL options: ${problem}`)
    const recovered = recoverWritable(dir, options)
    options.epoch = Math.max(1, recovered.position.lastEpoch)
    if (recovered.catalog.last === undefined) {
      createSegment(dir, options, { firstLsn: 1, previousHash: recovered.position.lastHash, epoch: options.epoch }, recovered.catalog)
    }
    return new Wal(dir, options, recovered, true)
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
    return this.durableLsn
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
    return this.durableHash.slice()
  }

  /** Null while healthy; the error that killed the writer otherwise. */
  get fatalError(): Error | null {
    return this.fatal
  }

  get queueDepth(): { records: number; bytes: number } {
    return { records: this.queuedRecords, bytes: this.queuedBytes }
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
    return (
      this.fatal === null &&
      !this.closed &&
      this.closing === null &&
      this.queuedRecords + recordCount <= this.options.queueRecordsMax &&
      this.queuedBytes + bytes <= this.options.queueBytesMax
    )
  }

  /** Queues records; resolves with their LSNs once durable (per `durability`). Rejects without writing on any refusal. */
  append(records: RecordInput[]): Promise<number[]> {
    if (this.fatal !== null) return Promise.reject(this.fatal)
    if (this.closed || this.closing !== null) return Promise.reject(new WalClosedError('the log is closed'))
    if (this.replica) return Promise.reject(new WalRecordError('this log is a replica: it takes replicated frames only (appendFrames)'))
    if (records.length === 0) return Promise.resolve([])
    let bytes = 0
    for (const record of records) {
      const problem = recordProblem(record)
      if (problem !== null) return Promise.reject(new WalRecordError(problem))
      bytes += frameBytesFor(record.payload.byteLength)
    }
    const { queueRecordsMax, queueBytesMax } = this.options
    if (this.queuedRecords + records.length > queueRecordsMax || this.queuedBytes + bytes > queueBytesMax) {
      return Promise.reject(
        new WalFullError(`append queue full (${this.queuedRecords}/${queueRecordsMax} records, ${this.queuedBytes}/${queueBytesMax} bytes)`),
      )
    }
    return new Promise<number[]>((resolve, reject) => {
      this.queue.push({ records, raw: null, bytes, resolve, reject })
      this.queuedRecords += records.length
      this.queuedBytes += bytes
      this.scheduleFlush()
    })
  }

  /**
   * Replication: queues frames exactly as another log wrote them (whole frames, concatenated) and resolves with the
   * last LSN once they are durable. When its turn comes, every frame is checked against this log's head — CRC, the
   * next LSN, an epoch no lower than the last one, the chain recomputed from this log's own head — and the bytes are
   * written unchanged with one write and one fdatasync, so both logs hold the same bytes and the same chain head.
   * A refusal rejects with WalReplicationError and writes nothing of these bytes. Only a replica (openReplica) takes them.
   */
  appendFrames(received: Uint8Array): Promise<number> {
    const bytes = plainBytes(received)
    if (this.fatal !== null) return Promise.reject(this.fatal)
    if (this.closed || this.closing !== null) return Promise.reject(new WalClosedError('the log is closed'))
    if (!this.replica) return Promise.reject(new WalReplicationError('NOT_A_REPLICA', this.position.lastLsn + 1, 'only a log opened with openReplica takes replicated frames'))
    if (bytes.byteLength === 0) return Promise.resolve(this.position.lastLsn)
    const { queueBytesMax, batchBytesMax } = this.options
    if (bytes.byteLength > batchBytesMax) return Promise.reject(new WalRecordError(`replicated chunk of ${bytes.byteLength} bytes exceeds batchBytesMax ${batchBytesMax}`))
    if (this.queuedBytes + bytes.byteLength > queueBytesMax) {
      return Promise.reject(new WalFullError(`append queue full (${this.queuedBytes}/${queueBytesMax} bytes)`))
    }
    return new Promise<number>((resolve, reject) => {
      this.queue.push({ records: [], raw: bytes, bytes: bytes.byteLength, resolve: (lsns) => resolve(lsns[0] ?? this.position.lastLsn), reject })
      this.queuedBytes += bytes.byteLength
      this.scheduleFlush()
    })
  }

  /** Reads frames from `fromLsn` (inclusive) to the durable end or `toLsn`, checking CRCs (and the chain if asked). */
  read(fromLsn: number, options: Partial<ReadOptions> = {}): Generator<Frame> {
    return readFrames(this.catalog, { io: this.options.io, fromLsn, toLsn: this.durableLsn, ...options })
  }

  /** Calls `listener` after every durable batch, before its waiters are resolved. Returns an unsubscribe function. */
  subscribe(listener: CommitListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /**
   * Removes whole segments whose every LSN is below `lsn` (never the last segment). With `archiveDir` they are moved
   * there instead of deleted. Returns the removed segment names.
   */
  removeSegmentsBelow(lsn: number, options: { archiveDir?: string } = {}): string[] {
    const { io } = this.options
    const dropped = this.catalog.dropBelow(lsn)
    if (dropped.length === 0) return []
    if (options.archiveDir !== undefined) io.mkdirp(options.archiveDir)
    for (const segment of dropped) {
      if (options.archiveDir === undefined) io.unlink(segment.path)
      else io.rename(segment.path, join(options.archiveDir, segment.name))
    }
    io.fsyncDirectory(this.dir)
    if (options.archiveDir !== undefined) io.fsyncDirectory(options.archiveDir)
    return dropped.map((segment) => segment.name)
  }

  /** Stops accepting appends, flushes what is queued, and closes the file. */
  close(): Promise<void> {
    if (this.closing !== null) return this.closing
    this.closing = new Promise<void>((resolve) => {
      const finish = (): void => {
        if ((this.queue.length > 0 || this.syncing) && this.fatal === null) {
          setImmediate(finish)
          return
        }
        if (!this.closed) {
          this.closed = true
          try {
            if (this.fatal === null) this.trimCurrentSegment()
            this.options.io.close(this.fd)
          } catch {
            // Closing after a fatal error may fail again; the data question was settled by the fsync.
          }
        }
        resolve()
      }
      finish()
    })
    return this.closing
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return
    this.flushScheduled = true
    this.options.scheduleFlush(() => {
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
    try {
      written = this.writeBatch(batch)
    } catch (cause) {
      this.die(cause, batch)
      return
    }
    const firstLsn = this.position.lastLsn - written.frameCount + 1
    const lastLsn = this.position.lastLsn
    this.makeDurable(batch, () => {
      this.notifyListeners(firstLsn, lastLsn, written.frames)
      let next = firstLsn
      for (const pending of batch) {
        const lsns = new Array<number>(pending.records.length)
        for (let index = 0; index < lsns.length; index++) lsns[index] = next++
        pending.resolve(lsns)
      }
    })
  }

  /**
   * The written batch's fdatasync (off the event loop under `fsync` durability), then the lease re-check, then the
   * durable position moves and `acknowledge` runs; a failure of either kills the writer instead. Then the next batch.
   */
  private makeDurable(batch: PendingAppend[], acknowledge: () => void): void {
    const lastLsn = this.position.lastLsn
    const lastHash = this.position.lastHash.slice()
    let finished = false
    const finish = (error: unknown): void => {
      if (finished) return
      finished = true
      this.syncing = false
      try {
        if (error !== null) throw error
        this.options.lease?.assertHeld()
      } catch (cause) {
        this.die(cause, batch)
        return
      }
      this.durableLsn = lastLsn
      this.durableHash.set(lastHash)
      acknowledge()
      if (this.queue.length > 0) this.scheduleFlush()
    }
    if (this.options.durability !== 'fsync') {
      finish(null)
      return
    }
    this.syncing = true
    const started = performance.now()
    try {
      this.options.io.fdatasyncOffLoop(this.fd, (error) => {
        this.noteFsync(performance.now() - started)
        finish(error)
      })
    } catch (cause) {
      if (finished) throw cause
      finish(cause)
    }
  }

  private noteFsync(elapsedMs: number): void {
    this.stats.fsyncCount++
    this.stats.lastFsyncMs = elapsedMs
    this.stats.fsyncMsTotal += elapsedMs
  }

  private takeBatch(): PendingAppend[] {
    const { batchRecordsMax, batchBytesMax } = this.options
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
    this.queuedRecords -= records
    this.queuedBytes -= bytes
    return batch
  }

  private flushReplicated(pending: PendingAppend, raw: Uint8Array): void {
    let checked: ReturnType<typeof checkReplicatedFrames>
    try {
      checked = checkReplicatedFrames(raw, this.position)
    } catch (error) {
      // A refused chunk is the sender's problem, not the disk's: this log stays healthy and writes nothing.
      pending.reject(error as Error)
      if (this.queue.length > 0) this.scheduleFlush()
      return
    }
    let frames: () => Frame[]
    try {
      frames = this.writeReplicated(raw, checked)
    } catch (cause) {
      this.die(cause, [pending])
      return
    }
    const lastLsn = this.position.lastLsn
    this.makeDurable([pending], () => {
      this.notifyListeners(lastLsn - checked.length + 1, lastLsn, frames)
      pending.resolve([lastLsn])
    })
  }

  /**
   * Writes checked replicated frames unchanged, rolling segments where this log's own limit says (never mid-frame).
   * Returns the builder of the frames' views, for the subscribers there are once the batch is durable.
   */
  private writeReplicated(raw: Uint8Array, checked: ReturnType<typeof checkReplicatedFrames>): () => Frame[] {
    let segment = this.currentSegment()
    let partStart = 0
    for (const frame of checked) {
      const pendingBytes = frame.offsetBytes - partStart
      const hasFrames = segment.lastLsn >= segment.firstLsn || pendingBytes > 0
      if (hasFrames && segment.sizeBytes + pendingBytes + frame.frameBytes > this.options.segmentBytesMax) {
        this.writePart(segment, raw.subarray(partStart, frame.offsetBytes))
        this.syncPartNow()
        partStart = frame.offsetBytes
        this.position.lastEpoch = Math.max(this.position.lastEpoch, frame.epoch)
        this.options.epoch = Math.max(this.options.epoch, frame.epoch)
        segment = this.roll()
      }
      this.catalog.noteFrame(segment, frame.lsn, segment.sizeBytes + (frame.offsetBytes - partStart), frame.previousHash)
      this.position.lastLsn = frame.lsn
      this.position.lastHash.set(raw.subarray(frame.offsetBytes + FRAME_HASH_OFFSET, frame.offsetBytes + FRAME_CONTENT_OFFSET))
      this.position.lastEpoch = frame.epoch
      this.options.epoch = Math.max(this.options.epoch, frame.epoch)
    }
    this.writePart(segment, raw.subarray(partStart))
    this.stats.batchCount++
    this.stats.recordCount += checked.length
    return () =>
      checked.map((frame) => ({
        lsn: frame.lsn,
        epoch: frame.epoch,
        type: frame.type,
        version: frame.version,
        payload: raw.subarray(frame.offsetBytes + FRAME_PAYLOAD_OFFSET, frame.offsetBytes + frame.frameBytes),
        hash: raw.subarray(frame.offsetBytes + FRAME_HASH_OFFSET, frame.offsetBytes + FRAME_CONTENT_OFFSET),
        frameBytes: frame.frameBytes,
      }))
  }

  /**
   * Encodes and writes one batch, rolling segments as needed (a part before a roll is synced there and then); the
   * last part's sync is the caller's (makeDurable). Throws on any I/O error.
   */
  private writeBatch(batch: PendingAppend[]): WrittenBatch {
    let totalBytes = 0
    for (const pending of batch) totalBytes += pending.bytes
    const buffer = new Uint8Array(totalBytes)
    const view = new DataView(buffer.buffer)
    let frameCount = 0
    let partStart = 0
    let offset = 0
    let segment = this.currentSegment()
    for (const pending of batch) {
      for (const record of pending.records) {
        const frameBytes = frameBytesFor(record.payload.byteLength)
        const pendingBytes = offset - partStart
        const hasFrames = segment.lastLsn >= segment.firstLsn
        // A frame never straddles segments; an oversized frame still gets a segment of its own.
        if (hasFrames && segment.sizeBytes + pendingBytes + frameBytes > this.options.segmentBytesMax) {
          this.writePart(segment, buffer.subarray(partStart, offset))
          this.syncPartNow()
          partStart = offset
          segment = this.roll()
        }
        const lsn = this.position.lastLsn + 1
        const previousHash = this.position.lastHash
        const end = encodeFrame(buffer, offset, { lsn, epoch: this.options.epoch, record, previousHash, scratchHash: this.scratchHash, view })
        this.catalog.noteFrame(segment, lsn, segment.sizeBytes + (offset - partStart), previousHash)
        this.position.lastLsn = lsn
        this.position.lastHash.set(this.scratchHash)
        frameCount++
        offset = end
      }
    }
    this.writePart(segment, buffer.subarray(partStart, offset))
    this.position.lastEpoch = this.options.epoch
    this.stats.batchCount++
    this.stats.recordCount += frameCount
    const firstLsn = this.position.lastLsn - frameCount + 1
    const epoch = this.options.epoch
    return { frameCount, frames: () => frameViews(buffer, batch, firstLsn, epoch) }
  }

  /**
   * Tells the subscribers there are now — not those there were when the batch was written: with the sync off the
   * event loop, one may subscribe in between (a back office opened during an HA takeover), and it must get every
   * frame of the batch, since its start position (lastLsn) excluded them. Frame views are built only when someone
   * listens; without any, the hot path allocates none.
   */
  /**
   * Tells every subscriber about a durable batch. A subscriber that throws does not starve the others, nor the batch's
   * waiters (they resolve right after): its error goes to `onListenerError`, or without one is rethrown on a later
   * turn, once everything else has been told.
   */
  private notifyListeners(firstLsn: number, lastLsn: number, framesOf: () => Frame[]): void {
    if (this.listeners.size === 0) return
    const frames = framesOf()
    for (const listener of this.listeners) {
      try {
        listener({ firstLsn, lastLsn, frames })
      } catch (error) {
        const report = this.onListenerError
        if (report !== null) report(error)
        else queueMicrotask(() => {
          throw error
        })
      }
    }
  }

  /** Writes `bytes` at the end of `segment` (not synced: the batch's fdatasync, or syncPartNow before a roll). */
  private writePart(segment: SegmentInfo, bytes: Uint8Array): void {
    if (bytes.byteLength === 0) return
    const end = segment.sizeBytes + bytes.byteLength
    const lead = this.zeros.byteLength
    if (lead > 0 && (end > this.allocatedBytes || (end + lead > this.allocatedBytes && this.allocatedBytes < this.options.segmentBytesMax))) this.preallocate(end)
    this.options.io.write(this.fd, bytes, segment.sizeBytes)
    segment.sizeBytes += bytes.byteLength
  }

  /** Syncs the current segment on the spot: a batch's part before a segment roll (rare; the segment closes after). */
  private syncPartNow(): void {
    if (this.options.durability !== 'fsync') return
    const started = performance.now()
    this.options.io.fdatasync(this.fd)
    this.noteFsync(performance.now() - started)
  }

  /**
   * Zero-fills ahead of `endBytes`, up to the segment size limit, at most PREALLOCATE_STEP_BYTES beyond what the batch
   * needs per call: the lead of `preallocateBytes` is built and kept up a step at a time, so no batch writes megabytes
   * of zeros on the event loop (4 MiB at once held it ~23 ms). The next fdatasync makes them durable.
   */
  private preallocate(endBytes: number): void {
    const step = Math.min(PREALLOCATE_STEP_BYTES, this.zeros.byteLength)
    const target = Math.max(endBytes, Math.min(this.allocatedBytes + step, this.options.segmentBytesMax))
    let position = Math.max(this.allocatedBytes, this.currentSegment().sizeBytes)
    while (position < target) {
      const count = Math.min(this.zeros.byteLength, target - position)
      this.options.io.write(this.fd, this.zeros.subarray(0, count), position)
      position += count
    }
    this.allocatedBytes = target
  }

  /** Cuts preallocated zeros off the current segment so a sealed segment ends exactly at its last frame. */
  private trimCurrentSegment(): void {
    const segment = this.currentSegment()
    if (this.allocatedBytes <= segment.sizeBytes) return
    this.options.io.truncate(this.fd, segment.sizeBytes)
    this.options.io.fsync(this.fd)
    this.allocatedBytes = segment.sizeBytes
  }

  private currentSegment(): SegmentInfo {
    const last = this.catalog.last
    assert(last !== undefined, 'an open log has at least one segment')
    return last
  }

  /** Starts a new segment after the current one. The current one was fully synced by syncPartNow. */
  private roll(): SegmentInfo {
    const { io } = this.options
    this.trimCurrentSegment()
    io.close(this.fd)
    const header = { firstLsn: this.position.lastLsn + 1, previousHash: this.position.lastHash, epoch: this.options.epoch }
    const segment = createSegment(this.dir, this.options, header, this.catalog)
    this.fd = io.openAppend(segment.path)
    this.allocatedBytes = segment.sizeBytes
    return segment
  }

  private die(cause: unknown, batch: PendingAppend[]): void {
    const error =
      cause instanceof LeaseError
        ? cause
        : new WalFatalError(`log write failed; the writer is stopped and the process must recover by reopening: ${String(cause)}`, { cause })
    this.fatal = error
    for (const pending of batch) pending.reject(error)
    for (const pending of this.queue) pending.reject(error)
    this.queue = []
    this.queuedRecords = 0
    this.queuedBytes = 0
  }
}

function recoverWritable(dir: string, options: WalOptions): ReturnType<typeof recoverLog> {
  options.io.mkdirp(dir)
  return recoverLog(dir, {
    io: options.io,
    writable: true,
    verifyChain: options.verifyChainOnOpen,
    indexStrideFrames: options.indexStrideFrames,
    chainAnchorLsn: options.verifyChainOnOpen ? options.chainAnchorLsn : 0,
  })
}

/** Views of a written batch's frames: they lie back to back in `buffer`, one per record, from `firstLsn` on. */
function frameViews(buffer: Uint8Array, batch: readonly PendingAppend[], firstLsn: number, epoch: number): Frame[] {
  const frames: Frame[] = []
  let offset = 0
  let lsn = firstLsn
  for (const pending of batch) {
    for (const record of pending.records) {
      const end = offset + frameBytesFor(record.payload.byteLength)
      frames.push(frameView(buffer, offset, end, lsn++, epoch, record))
      offset = end
    }
  }
  return frames
}

function frameView(buffer: Uint8Array, offset: number, end: number, lsn: number, epoch: number, record: RecordInput): Frame {
  return {
    lsn,
    epoch,
    type: record.type,
    version: record.version,
    payload: buffer.subarray(offset + FRAME_PAYLOAD_OFFSET, end),
    hash: buffer.subarray(offset + FRAME_HASH_OFFSET, offset + FRAME_CONTENT_OFFSET),
    frameBytes: end - offset,
  }
}

/**
 * Creates a segment crash-safely: header into a temp file, fsync, rename into place, fsync the directory. A crash
 * before the rename leaves only a temp file (removed on the next open); after it, a complete, empty segment.
 */
function createSegment(
  dir: string,
  options: WalOptions,
  header: { firstLsn: number; previousHash: Uint8Array; epoch: number },
  catalog: SegmentCatalog,
): SegmentInfo {
  const { io } = options
  const name = segmentName(header.firstLsn)
  const path = join(dir, name)
  const tempPath = path + SEGMENT_TEMP_SUFFIX
  const fd = io.openAppend(tempPath)
  try {
    io.truncate(fd, 0)
    io.write(fd, encodeSegmentHeader(header), 0)
    io.fsync(fd)
  } finally {
    io.close(fd)
  }
  io.rename(tempPath, path)
  io.fsyncDirectory(dir)
  const segment: SegmentInfo = {
    path,
    name,
    firstLsn: header.firstLsn,
    lastLsn: header.firstLsn - 1,
    sizeBytes: SEGMENT_HEADER_BYTES,
    previousHash: header.previousHash.slice(),
    index: [],
    indexed: true,
  }
  catalog.add(segment)
  return segment
}
