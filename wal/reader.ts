/**
 * Reading frames back: seek with the sparse index, then stream the segment in bounded chunks, checking every frame's
 * CRC, LSN order and (optionally) chain as it goes — the pair assertion to the writer's checks before writing.
 */

import { assert } from './assert.ts'
import type { SegmentCatalog } from './catalog.ts'
import { HASH_BYTES } from './chain.ts'
import { WalCorruptionError } from './errors.ts'
import { FRAME_HEADER_BYTES, PAYLOAD_BYTES_MAX, type Frame } from './frame.ts'
import { FRAME_SHORT, chainHolds, crcHolds, frameBody, frameBytesAt, frameViewAt, lengthProblem, lsnAt, type FrameProblem } from './frame-check.ts'
import { readFully, type WalIo } from './io.ts'
import { SEGMENT_HEADER_BYTES } from './segment.ts'

export interface ReadOptions {
  io: WalIo
  fromLsn: number
  /** Inclusive upper bound; a reader never goes past the last durable LSN it was given. */
  toLsn: number
  verifyChain: boolean
  chunkBytes: number
}

const CHUNK_BYTES_DEFAULT = 4 * 1024 * 1024

/**
 * Yields frames fromLsn..toLsn. Each yielded frame's payload is a view into a chunk buffer that is reused only after
 * the consumer moves past it: copy a payload to keep it beyond the next iteration.
 */
export function* readFrames(catalog: SegmentCatalog, options: Partial<ReadOptions> & { io: WalIo; fromLsn: number; toLsn: number }): Generator<Frame> {
  const verifyChain = options.verifyChain ?? false
  const chunkBytes = Math.max(options.chunkBytes ?? CHUNK_BYTES_DEFAULT, FRAME_HEADER_BYTES + PAYLOAD_BYTES_MAX)
  const fromLsn = Math.max(options.fromLsn, catalog.firstLsn)
  const toLsn = options.toLsn
  let lsn = fromLsn
  while (lsn <= toLsn) {
    const segment = catalog.segmentFor(lsn)
    if (segment === undefined) return
    const start = catalog.seek(segment, lsn, SEGMENT_HEADER_BYTES)
    const previousHash = start.previousHash.slice()
    const scratchHash = new Uint8Array(HASH_BYTES)
    let expected = start.lsn
    let position = start.offsetBytes
    const fd = options.io.openRead(segment.path)
    try {
      const segmentEnd = segment.sizeBytes
      while (position < segmentEnd && expected <= toLsn && expected <= segment.lastLsn) {
        const chunk = readFully(options.io, fd, position, Math.min(chunkBytes, segmentEnd - position))
        const chunkView = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength)
        const limit = chunk.byteLength
        let offset = 0
        while (offset < limit && expected <= toLsn && expected <= segment.lastLsn) {
          const frameBytes = frameBytesAt(chunkView, offset, limit)
          if (frameBytes === FRAME_SHORT && offset > 0) break // the frame continues in the next chunk
          if (frameBytes < 0) throw corrupt(segment.path, position + offset, expected, lengthProblem(frameBytes))
          const body = frameBody(chunk, offset, frameBytes)
          if (!crcHolds(chunkView, offset, body)) throw corrupt(segment.path, position + offset, expected, 'crc')
          const frameLsn = lsnAt(chunkView, offset)
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
          if (frameLsn >= fromLsn) yield frameViewAt(chunk, chunkView, frameOffset, frameBytes)
        }
        assert(offset > 0, 'a chunk always holds at least one whole frame')
        position += offset
      }
    } finally {
      options.io.close(fd)
    }
    if (expected <= segment.lastLsn && expected <= toLsn) {
      throw new WalCorruptionError('FRAME_CORRUPT', { file: segment.path, offsetBytes: position, lsn: expected }, 'segment ended before its last frame')
    }
    lsn = expected
  }
}

function corrupt(file: string, offsetBytes: number, lsn: number, problem: FrameProblem): WalCorruptionError {
  return new WalCorruptionError('FRAME_CORRUPT', at(file, offsetBytes, lsn), `frame fails its ${problem} check on read`)
}

/** Where a read failed; built only on the error path (nothing is allocated for it per frame). */
function at(file: string, offsetBytes: number, lsn: number): { file: string; offsetBytes: number; lsn: number } {
  return { file, offsetBytes, lsn }
}
