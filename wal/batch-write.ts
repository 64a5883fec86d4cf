/**
 * Writing one batch into the segments, without syncing it: the group commit's write step (its fdatasync is the group
 * commit's, see group-commit.ts).
 *
 * - `writeRecordBatch` encodes the queued records of a batch into one buffer — LSNs, the epoch and the hash chain
 *   continuing from the written head — and writes it with one write per segment touched.
 * - `writeReplicatedBatch` writes frames another log wrote (already checked against this log's head) unchanged.
 *
 * Both advance the written head (`position`) and the catalog frame by frame, roll to a new segment where the size
 * limit says (between appends: neither a frame nor an append straddles segments; a part before a roll is synced there
 * and then), and return the builder of the batch's frame views: they are built only if someone subscribes, so the hot
 * path allocates none.
 */

import type { SegmentCatalog } from './catalog.ts'
import { FrameView, copyStoredHash } from './frame-check.ts'
import { FRAME_PAYLOAD_OFFSET, encodeFrameAt, frameBytesFor, type Frame, type RecordInput } from './frame.ts'
import type { WalOptions } from './options.ts'
import type { ReplicatedFrame } from './replicate.ts'
import type { ChainPosition } from './scan.ts'
import type { SegmentWriter } from './segment-writer.ts'
import type { WalStats } from './stats.ts'

/** What a batch writes to: the log's options (epoch, limits), catalog, written head, segment file and counters. */
export interface BatchTarget {
  readonly options: WalOptions
  readonly catalog: SegmentCatalog
  readonly position: ChainPosition
  readonly writer: SegmentWriter
  readonly stats: WalStats
  /** Where encodeFrameAt leaves each frame's chain hash (reused: no allocation per frame). */
  readonly scratchHash: Uint8Array
  /**
   * The views of written frames handed to commit listeners, reused from batch to batch (a view per record was an
   * object per record): valid only during the listeners' callback, as CommittedBatch says. At most batchRecordsMax.
   */
  readonly frameViews: FrameView[]
}

/** One append's records as queued, with their encoded size (frame headers included). */
export interface QueuedRecords {
  records: RecordInput[]
  bytes: number
}

/** A batch written, not yet durable: how many frames, and their views on demand (for the subscribers at its commit). */
export interface WrittenBatch {
  frameCount: number
  frames: () => Frame[]
}

/**
 * Encodes and writes one batch, rolling segments as needed (a part before a roll is synced there and then); the
 * last part's sync is the caller's. Throws on any I/O error.
 */
export function writeRecordBatch(target: BatchTarget, batch: readonly QueuedRecords[]): WrittenBatch {
  const { options, catalog, position, writer, stats, scratchHash, frameViews: views } = target
  let totalBytes = 0
  for (const pending of batch) totalBytes += pending.bytes
  const buffer = new Uint8Array(totalBytes)
  const view = new DataView(buffer.buffer)
  let frameCount = 0
  let partStart = 0
  let offset = 0
  let segment = writer.currentSegment()
  for (const pending of batch) {
    const records = pending.records
    const pendingBytes = offset - partStart
    const hasFrames = segment.lastLsn >= segment.firstLsn
    // An append never straddles segments, so its frames are whole or absent after a crash within one file (frame.ts):
    // a roll comes before it, never inside it. One larger than a segment gets a segment of its own.
    if (hasFrames && segment.sizeBytes + pendingBytes + pending.bytes > options.segmentBytesMax) {
      writer.writePart(segment, buffer.subarray(partStart, offset))
      writer.syncPartNow()
      partStart = offset
      segment = writer.roll()
    }
    const lastIndex = records.length - 1
    for (let index = 0; index <= lastIndex; index++) {
      const record = records[index] as RecordInput
      const lsn = position.lastLsn + 1
      const previousHash = position.lastHash
      const end = encodeFrameAt(buffer, view, offset, lsn, options.epoch, record, previousHash, scratchHash, index < lastIndex)
      catalog.noteFrame(segment, lsn, segment.sizeBytes + (offset - partStart), previousHash)
      position.lastLsn = lsn
      position.lastHash.set(scratchHash)
      frameCount++
      offset = end
    }
  }
  writer.writePart(segment, buffer.subarray(partStart, offset))
  position.lastEpoch = options.epoch
  stats.batchCount++
  stats.recordCount += frameCount
  const firstLsn = position.lastLsn - frameCount + 1
  const epoch = options.epoch
  return { frameCount, frames: () => frameViews(views, buffer, batch, firstLsn, epoch) }
}

/**
 * Writes checked replicated frames unchanged, rolling segments where this log's own limit says (never mid-frame, nor
 * inside an append the frames' flags say is open); the log's epoch follows the frames'. Returns the builder of the frames' views, for the subscribers there are once the
 * batch is durable. Throws on any I/O error.
 */
export function writeReplicatedBatch(target: BatchTarget, raw: Uint8Array, checked: readonly ReplicatedFrame[]): () => Frame[] {
  const { options, catalog, position, writer, stats } = target
  let segment = writer.currentSegment()
  let partStart = 0
  for (const frame of checked) {
    const pendingBytes = frame.offsetBytes - partStart
    const hasFrames = segment.lastLsn >= segment.firstLsn || pendingBytes > 0
    if (hasFrames && !position.appendOpen && segment.sizeBytes + pendingBytes + frame.frameBytes > options.segmentBytesMax) {
      writer.writePart(segment, raw.subarray(partStart, frame.offsetBytes))
      writer.syncPartNow()
      partStart = frame.offsetBytes
      position.lastEpoch = Math.max(position.lastEpoch, frame.epoch)
      options.epoch = Math.max(options.epoch, frame.epoch)
      segment = writer.roll()
    }
    catalog.noteFrame(segment, frame.lsn, segment.sizeBytes + (frame.offsetBytes - partStart), frame.previousHash)
    position.lastLsn = frame.lsn
    copyStoredHash(raw, frame.offsetBytes, position.lastHash)
    position.lastEpoch = frame.epoch
    position.appendOpen = frame.continues
    options.epoch = Math.max(options.epoch, frame.epoch)
  }
  writer.writePart(segment, raw.subarray(partStart))
  stats.batchCount++
  stats.recordCount += checked.length
  return () =>
    checked.map((frame) => new FrameView(frame.lsn, frame.epoch, frame.type, frame.version, raw, frame.offsetBytes + FRAME_PAYLOAD_OFFSET, frame.frameBytes))
}

/**
 * Views of a written batch's frames (`views` reused, one more made when the batch is the largest yet): they lie back
 * to back in `buffer`, one per record, from `firstLsn` on.
 */
function frameViews(views: FrameView[], buffer: Uint8Array, batch: readonly QueuedRecords[], firstLsn: number, epoch: number): Frame[] {
  const frames: Frame[] = []
  let offset = 0
  let lsn = firstLsn
  for (const pending of batch) {
    for (const record of pending.records) {
      const end = offset + frameBytesFor(record.payload.byteLength)
      const index = frames.length
      let view = views[index]
      if (view === undefined) {
        view = new FrameView(0, 0, 0, 0, buffer, 0, 0)
        views.push(view)
      }
      view.moveTo(lsn++, epoch, record.type, record.version, buffer, offset + FRAME_PAYLOAD_OFFSET, end - offset)
      frames.push(view)
      offset = end
    }
  }
  return frames
}
