/**
 * Reading frames back: seek with the sparse index, then stream the segment in bounded chunks, checking every frame's
 * CRC, LSN order and (optionally) chain as it goes — the pair assertion to the writer's checks before writing.
 *
 * Chunks go through one reused buffer (read-buffer.ts). The first read of a reader is small and each next one twice
 * the last, up to `chunkBytes`: a point read (`read(n, { toLsn: n })`, common in the gateway) reads tens of KiB around
 * its index point instead of megabytes, and a replay soon reads in full chunks.
 */

import { assert } from './assert.ts'
import type { SegmentCatalog, SegmentInfo } from './catalog.ts'
import { HASH_BYTES } from './chain.ts'
import { WalCompactedError, WalCorruptionError } from './errors.ts'
import { FRAME_SHORT, chainHolds, crcHolds, frameBody, frameBytesAt, frameViewAt, lengthProblem, lsnAt, type FrameProblem } from './frame-check.ts'
import { FRAME_HEADER_BYTES, FRAME_PREFIX_BYTES, PAYLOAD_BYTES_MAX, type Frame } from './frame.ts'
import type { WalIo } from './io.ts'
import { ReadBuffer } from './read-buffer.ts'
import { SEGMENT_HEADER_BYTES } from './segment.ts'

export interface ReadOptions {
  io: WalIo
  fromLsn: number
  /** Inclusive upper bound; a reader never goes past the last durable LSN it was given. */
  toLsn: number
  verifyChain: boolean
  /** The largest read (at least one frame of the largest size). */
  chunkBytes: number
}

const CHUNK_BYTES_DEFAULT = 4 * 1024 * 1024
/** A reader's first read: a point read's index stride of small frames fits; longer reads double from here. */
const FIRST_READ_BYTES = 64 * 1024

/**
 * Yields frames fromLsn..toLsn. Each yielded frame's payload (and hash) is a view into a buffer that is refilled once
 * the consumer asks for a frame past the ones it holds: copy a payload to keep it beyond the next iteration.
 */
export function* readFrames(catalog: SegmentCatalog, options: Partial<ReadOptions> & { io: WalIo; fromLsn: number; toLsn: number }): Generator<Frame> {
  const { io, toLsn } = options
  const verifyChain = options.verifyChain ?? false
  const chunkBytesMax = Math.max(options.chunkBytes ?? CHUNK_BYTES_DEFAULT, FRAME_HEADER_BYTES + PAYLOAD_BYTES_MAX)
  const fromLsn = Math.max(options.fromLsn, catalog.firstLsn)
  const buffer = new ReadBuffer()
  const scratchHash = new Uint8Array(HASH_BYTES)
  let readBytes = Math.min(FIRST_READ_BYTES, chunkBytesMax)
  let lsn = fromLsn
  while (lsn <= toLsn) {
    const segment = catalog.segmentFor(lsn)
    if (segment === undefined) {
      // Below the log's first LSN only when a compaction removed it while this reader was paused (it starts at or
      // above it): a quiet end here read as the log's end.
      if (lsn < catalog.firstLsn) throw new WalCompactedError(lsn, catalog.firstLsn)
      return
    }
    const start = catalog.seek(segment, lsn, SEGMENT_HEADER_BYTES)
    const previousHash = start.previousHash.slice()
    const segmentEnd = segment.sizeBytes
    const lastLsn = Math.min(toLsn, segment.lastLsn)
    let expected = start.lsn
    let position = start.offsetBytes
    const fd = io.openRead(segment.path)
    try {
      while (position < segmentEnd && expected <= lastLsn) {
        const wanted = Math.min(readBytes, segmentEnd - position)
        const chunk = buffer.fill(io, fd, position, wanted)
        const view = buffer.dataView
        const limit = chunk.byteLength
        // Did this read stop before the segment's end by its own length (not at the end of the file)?
        const cut = limit === wanted && wanted < segmentEnd - position
        let offset = 0
        while (offset < limit && expected <= lastLsn) {
          const frameBytes = frameBytesAt(view, offset, limit)
          if (frameBytes === FRAME_SHORT && cut) break // the frame continues past this read
          if (frameBytes < 0) throw corrupt(segment, position + offset, expected, lengthProblem(frameBytes))
          const body = frameBody(chunk, offset, frameBytes)
          if (!crcHolds(view, offset, body)) throw corrupt(segment, position + offset, expected, 'crc')
          const frameLsn = lsnAt(view, offset)
          if (frameLsn !== expected) throw new WalCorruptionError('LSN_GAP', at(segment.path, position + offset, expected), `expected LSN ${expected}, read ${frameLsn}`)
          if (verifyChain) {
            if (!chainHolds(chunk, offset, body, previousHash, scratchHash)) {
              throw new WalCorruptionError('CHAIN_BREAK', at(segment.path, position + offset, expected), 'the frame hash does not follow from the previous frame')
            }
            previousHash.set(scratchHash) // the recomputed hash, equal to the stored one
          }
          const frameOffset = offset
          offset += frameBytes
          expected++
          if (frameLsn >= fromLsn) yield frameViewAt(chunk, view, frameOffset, frameBytes)
        }
        if (offset === 0) {
          // Nothing whole in this read: the file ends before the catalog says, or the first frame is longer than the
          // read — then read again, long enough to hold it.
          if (!cut) throw corrupt(segment, position, expected, 'short')
          readBytes = grownToHold(view, readBytes, chunkBytesMax)
          assert(readBytes > wanted, 'a read that held no whole frame is followed by a longer one')
        } else {
          readBytes = Math.min(readBytes * 2, chunkBytesMax)
        }
        position += offset
      }
    } finally {
      io.close(fd)
    }
    if (expected <= lastLsn) {
      throw new WalCorruptionError('FRAME_CORRUPT', { file: segment.path, offsetBytes: position, lsn: expected }, 'segment ended before its last frame')
    }
    lsn = expected
  }
}

/** The next read length when the frame at the start of the buffer did not fit: its claimed length (checked ≤ max). */
function grownToHold(view: DataView, readBytes: number, chunkBytesMax: number): number {
  const claimedBytes = view.getUint32(0, true) + FRAME_PREFIX_BYTES
  return Math.min(Math.max(readBytes * 2, claimedBytes), chunkBytesMax)
}

function corrupt(segment: SegmentInfo, offsetBytes: number, lsn: number, problem: FrameProblem): WalCorruptionError {
  return new WalCorruptionError('FRAME_CORRUPT', at(segment.path, offsetBytes, lsn), `frame fails its ${problem} check on read`)
}

/** Where a read failed; built only on the error path (nothing is allocated for it per frame). */
function at(file: string, offsetBytes: number, lsn: number): { file: string; offsetBytes: number; lsn: number } {
  return { file, offsetBytes, lsn }
}
