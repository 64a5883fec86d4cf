/**
 * Reading frames back: seek with the sparse index, then stream the segment in bounded chunks, checking every frame's
 * CRC, LSN order and (optionally) chain as it goes — the pair assertion to the writer's checks before writing.
 */

import { assert } from './assert.ts'
import type { SegmentCatalog } from './catalog.ts'
import { HASH_BYTES } from './chain.ts'
import { WalCorruptionError } from './errors.ts'
import { FRAME_HEADER_BYTES, PAYLOAD_BYTES_MAX, decodeFrame, verifyFrameHash, type Frame } from './frame.ts'
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
  let lsn = fromLsn
  while (lsn <= options.toLsn) {
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
      while (position < segmentEnd && expected <= options.toLsn && expected <= segment.lastLsn) {
        const chunk = readFully(options.io, fd, position, Math.min(chunkBytes, segmentEnd - position))
        const chunkView = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength)
        let offset = 0
        while (offset < chunk.byteLength && expected <= options.toLsn && expected <= segment.lastLsn) {
          const check = decodeFrame(chunk, offset, chunk.byteLength, chunkView)
          if (!check.ok && check.reason === 'short' && offset > 0) break // frame continues in the next chunk
          if (!check.ok) throw new WalCorruptionError('FRAME_CORRUPT', at(segment.path, position + offset, expected), `frame fails its ${check.reason} check on read`)
          const frame = check.frame
          if (frame.lsn !== expected) throw new WalCorruptionError('LSN_GAP', at(segment.path, position + offset, expected), `expected LSN ${expected}, read ${frame.lsn}`)
          if (verifyChain) {
            if (!verifyFrameHash(chunk, offset, frame.frameBytes, previousHash, scratchHash)) {
              throw new WalCorruptionError('CHAIN_BREAK', at(segment.path, position + offset, expected), 'the frame hash does not follow from the previous frame')
            }
            previousHash.set(frame.hash)
          }
          offset += frame.frameBytes
          expected++
          if (frame.lsn >= fromLsn) yield frame
        }
        assert(offset > 0, 'a chunk always holds at least one whole frame')
        position += offset
      }
    } finally {
      options.io.close(fd)
    }
    if (expected <= segment.lastLsn && expected <= options.toLsn) {
      throw new WalCorruptionError('FRAME_CORRUPT', { file: segment.path, offsetBytes: position, lsn: expected }, 'segment ended before its last frame')
    }
    lsn = expected
  }
}

/** Where a read failed; built only on the error path (nothing is allocated for it per frame). */
function at(file: string, offsetBytes: number, lsn: number): { file: string; offsetBytes: number; lsn: number } {
  return { file, offsetBytes, lsn }
}
