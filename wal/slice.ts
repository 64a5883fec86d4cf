/**
 * A stretch of the durable log described as plain data (structured-cloneable), so a reader in another thread — which
 * has no catalog of its own — can read it from the segment files: each segment's path, LSN range, written size and
 * chain head, and the sparse-index point to start at. The writer keeps appending meanwhile; the slice stops at
 * `toLsn`, which was durable when it was made, so everything it names is on disk and never rewritten.
 *
 * Compaction may remove a named segment before the reader gets to it: the read then ends quietly where the file is
 * missing, and `firstLsn` reports the log as no longer holding what followed (a gap, never a silent skip).
 */

import { SegmentCatalog, type IndexPoint, type SegmentInfo } from './catalog.ts'
import type { Frame } from './frame.ts'
import { nodeIo, type WalIo } from './io.ts'
import { readFrames } from './reader.ts'
import { SEGMENT_HEADER_BYTES } from './segment.ts'

/** A segment as the slice names it: the catalog's entry without its index (the slice carries its one start point). */
export type LogSliceSegment = Pick<SegmentInfo, 'path' | 'name' | 'firstLsn' | 'lastLsn' | 'sizeBytes' | 'previousHash'>

export interface LogSlice {
  /** The log's first LSN when the slice was made (a compaction had removed everything below it). */
  firstLsn: number
  fromLsn: number
  /** Inclusive; durable when the slice was made. */
  toLsn: number
  segments: LogSliceSegment[]
  /** Where in the first segment to start reading (at or before fromLsn). */
  start: IndexPoint
}

/** The slice fromLsn..toLsn of `catalog` (empty segments list when nothing in it is held). */
export function sliceOfCatalog(catalog: SegmentCatalog, fromLsn: number, toLsn: number): LogSlice {
  const from = Math.max(fromLsn, catalog.firstLsn)
  const segments: LogSliceSegment[] = []
  let start: IndexPoint = { lsn: from, offsetBytes: SEGMENT_HEADER_BYTES, previousHash: new Uint8Array(0) }
  for (const segment of catalog.segments) {
    if (segment.lastLsn < from || segment.firstLsn > toLsn) continue
    if (segments.length === 0) {
      const point = catalog.seek(segment, from, SEGMENT_HEADER_BYTES)
      start = { lsn: point.lsn, offsetBytes: point.offsetBytes, previousHash: point.previousHash.slice() }
    }
    segments.push({ path: segment.path, name: segment.name, firstLsn: segment.firstLsn, lastLsn: Math.min(segment.lastLsn, toLsn), sizeBytes: segment.sizeBytes, previousHash: segment.previousHash.slice() })
  }
  return { firstLsn: catalog.firstLsn, fromLsn: from, toLsn, segments, start }
}

/** What a slice reader offers: the shape of Wal's `firstLsn` and `read`, over the slice alone. */
export interface SliceLog {
  /** The slice's firstLsn; past every LSN once a segment it names turned out removed. */
  readonly firstLsn: number
  read(fromLsn: number, options?: { toLsn?: number; chunkBytes?: number }): Generator<Frame>
}

/** Reads `slice` from its files (CRCs and LSN order checked as Wal.read does). */
export function openSlice(slice: LogSlice, io: WalIo = nodeIo): SliceLog {
  const catalog = new SegmentCatalog(Number.MAX_SAFE_INTEGER)
  for (const [index, segment] of slice.segments.entries()) {
    catalog.add({ ...segment, index: index === 0 ? [slice.start] : [], indexed: true })
  }
  let removed = false
  function* read(fromLsn: number, options: { toLsn?: number; chunkBytes?: number } = {}): Generator<Frame> {
    try {
      const toLsn = Math.min(options.toLsn ?? slice.toLsn, slice.toLsn)
      yield* readFrames(catalog, options.chunkBytes === undefined ? { io, fromLsn, toLsn } : { io, fromLsn, toLsn, chunkBytes: options.chunkBytes })
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'ENOENT') throw error
      removed = true
    }
  }
  return {
    get firstLsn() {
      return removed ? Number.MAX_SAFE_INTEGER : slice.firstLsn
    },
    read,
  }
}
