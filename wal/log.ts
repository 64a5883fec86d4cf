/**
 * The writable log: group commit over segmented files.
 *
 * `append(records)` queues records and returns a promise of their LSNs. A flush (scheduled with setImmediate, so every
 * append made while the previous batch was being written joins the next one) encodes the queued records into one
 * buffer, issues one write and one fdatasync, re-checks the lease, and only then resolves every waiter. A failed write
 * or fsync kills the writer: the batch and everything queued fail, and nothing is ever retried (after a failed fsync
 * the kernel may have dropped the dirty pages; retrying would acknowledge data that is not on disk).
 */

import { join } from 'node:path'
import { assert } from './assert.ts'
import type { SegmentCatalog, SegmentInfo } from './catalog.ts'
import { HASH_BYTES } from './chain.ts'
import { LeaseError, WalClosedError, WalFatalError, WalFullError, WalRecordError } from './errors.ts'
import { FRAME_HASH_OFFSET, FRAME_CONTENT_OFFSET, FRAME_HEADER_BYTES, FRAME_PAYLOAD_OFFSET, encodeFrame, frameBytesFor, recordProblem, type Frame, type RecordInput } from './frame.ts'
import { nodeIo } from './io.ts'
import { defaultWalOptions, optionsProblem, type Durability, type WalOptions } from './options.ts'
import { readFrames, type ReadOptions } from './reader.ts'
import { recoverLog, type RecoveryReport } from './recover.ts'
import type { ChainPosition } from './scan.ts'
import { SEGMENT_HEADER_BYTES, SEGMENT_TEMP_SUFFIX, encodeSegmentHeader, segmentName } from './segment.ts'

interface PendingAppend {
  records: RecordInput[]
  bytes: number
  resolve: (lsns: number[]) => void
  reject: (error: Error) => void
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
  private fatal: Error | null = null
  private closed = false
  private closing: Promise<void> | null = null
  private readonly listeners = new Set<CommitListener>()
  private readonly scratchHash = new Uint8Array(HASH_BYTES)

  private constructor(dir: string, options: WalOptions, recovered: { catalog: SegmentCatalog; position: ChainPosition; report: RecoveryReport }) {
    this.dir = dir
    this.options = options
    this.catalog = recovered.catalog
    this.position = recovered.position
    this.recovery = recovered.report
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
    options.io.mkdirp(dir)
    const recovered = recoverLog(dir, {
      io: options.io,
      writable: true,
      verifyChain: options.verifyChainOnOpen,
      indexStrideFrames: options.indexStrideFrames,
    })
    if (recovered.position.lastEpoch > options.epoch) {
      throw new LeaseError('LEASE_LOST', `the log holds frames of epoch ${recovered.position.lastEpoch}; this writer has epoch ${options.epoch}`)
    }
    if (recovered.catalog.last === undefined) {
      createSegment(dir, options, { firstLsn: 1, previousHash: recovered.position.lastHash, epoch: options.epoch }, recovered.catalog)
    }
    return new Wal(dir, options, recovered)
  }

  get durability(): Durability {
    return this.options.durability
  }

  get epoch(): number {
    return this.options.epoch
  }

  /** The last durable LSN (0 for an empty log). */
  get lastLsn(): number {
    return this.position.lastLsn
  }

  get firstLsn(): number {
    return this.catalog.firstLsn
  }

  /** The chain head at lastLsn (a copy). */
  get chainHead(): Uint8Array {
    return this.position.lastHash.slice()
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
      this.queue.push({ records, bytes, resolve, reject })
      this.queuedRecords += records.length
      this.queuedBytes += bytes
      this.scheduleFlush()
    })
  }

  /** Reads frames from `fromLsn` (inclusive) to the durable end or `toLsn`, checking CRCs (and the chain if asked). */
  read(fromLsn: number, options: Partial<ReadOptions> = {}): Generator<Frame> {
    return readFrames(this.catalog, { io: this.options.io, fromLsn, toLsn: this.position.lastLsn, ...options })
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
        if (this.queue.length > 0 && this.fatal === null) {
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
    if (this.queue.length === 0 || this.fatal !== null) return
    const batch = this.takeBatch()
    let written: { frames: Frame[]; frameCount: number }
    try {
      written = this.writeBatch(batch)
      this.options.lease?.assertHeld()
    } catch (cause) {
      this.die(cause, batch)
      return
    }
    const firstLsn = this.position.lastLsn - written.frameCount + 1
    for (const listener of this.listeners) listener({ firstLsn, lastLsn: this.position.lastLsn, frames: written.frames })
    let next = firstLsn
    for (const pending of batch) {
      const lsns = new Array<number>(pending.records.length)
      for (let index = 0; index < lsns.length; index++) lsns[index] = next++
      pending.resolve(lsns)
    }
    if (this.queue.length > 0) this.scheduleFlush()
  }

  private takeBatch(): PendingAppend[] {
    const { batchRecordsMax, batchBytesMax } = this.options
    let records = 0
    let bytes = 0
    let count = 0
    for (const pending of this.queue) {
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

  /** Encodes, writes and syncs one batch, rolling segments as needed. Throws on any I/O error. */
  private writeBatch(batch: PendingAppend[]): { frames: Frame[]; frameCount: number } {
    let totalBytes = 0
    for (const pending of batch) totalBytes += pending.bytes
    const buffer = new Uint8Array(totalBytes)
    const view = new DataView(buffer.buffer)
    // Frame views are built only for subscribers (tail followers); without any, the hot path allocates none.
    const wantFrames = this.listeners.size > 0
    const frames: Frame[] = []
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
          partStart = offset
          segment = this.roll()
        }
        const lsn = this.position.lastLsn + 1
        const previousHash = this.position.lastHash
        const end = encodeFrame(buffer, offset, { lsn, epoch: this.options.epoch, record, previousHash, scratchHash: this.scratchHash, view })
        this.catalog.noteFrame(segment, lsn, segment.sizeBytes + (offset - partStart), previousHash)
        this.position.lastLsn = lsn
        this.position.lastHash.set(this.scratchHash)
        if (wantFrames) frames.push(frameView(buffer, offset, end, lsn, this.options.epoch, record))
        frameCount++
        offset = end
      }
    }
    this.writePart(segment, buffer.subarray(partStart, offset))
    this.position.lastEpoch = this.options.epoch
    this.stats.batchCount++
    this.stats.recordCount += frameCount
    return { frames, frameCount }
  }

  private writePart(segment: SegmentInfo, bytes: Uint8Array): void {
    if (bytes.byteLength === 0) return
    const { io } = this.options
    const end = segment.sizeBytes + bytes.byteLength
    if (end > this.allocatedBytes && this.zeros.byteLength > 0) this.preallocate(end)
    io.write(this.fd, bytes, segment.sizeBytes)
    if (this.options.durability === 'fsync') {
      const started = performance.now()
      io.fdatasync(this.fd)
      const elapsedMs = performance.now() - started
      this.stats.fsyncCount++
      this.stats.lastFsyncMs = elapsedMs
      this.stats.fsyncMsTotal += elapsedMs
    }
    segment.sizeBytes += bytes.byteLength
  }

  /** Zero-fills ahead of `endBytes`, up to the segment size limit; the next fdatasync makes it durable. */
  private preallocate(endBytes: number): void {
    const target = Math.max(endBytes, Math.min(this.allocatedBytes + this.zeros.byteLength, this.options.segmentBytesMax))
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

  /** Starts a new segment after the current one. The current one was fully synced by writePart. */
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
  }
  catalog.add(segment)
  return segment
}
