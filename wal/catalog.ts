/**
 * The in-memory catalog of a log's segments: where each starts and ends, and a sparse index of frame offsets. All of
 * it is derived data, rebuilt by scanning on open and extended by the writer as it appends.
 */

import { assert } from './assert.ts'

/** One sparse index point: the frame with `lsn` starts at `offsetBytes`; `previousHash` is the chain head before it. */
export interface IndexPoint {
  lsn: number
  offsetBytes: number
  previousHash: Uint8Array
}

export interface SegmentInfo {
  path: string
  name: string
  firstLsn: number
  /** firstLsn - 1 while the segment holds no frame. */
  lastLsn: number
  sizeBytes: number
  /** The chain head before firstLsn, from the segment header. */
  previousHash: Uint8Array
  index: IndexPoint[]
  /**
   * False for a sealed segment skipped on open (below a chain anchor): its frames have not been read, its index is
   * empty, and readers scan it from its start (the chain check of Wal.verifyChainBelowAnchor indexes it).
   */
  indexed: boolean
}

export class SegmentCatalog {
  readonly segments: SegmentInfo[] = []
  readonly indexStrideFrames: number

  constructor(indexStrideFrames: number) {
    assert(indexStrideFrames >= 1, 'indexStrideFrames must be ≥ 1')
    this.indexStrideFrames = indexStrideFrames
  }

  get last(): SegmentInfo | undefined {
    return this.segments[this.segments.length - 1]
  }

  get firstLsn(): number {
    return this.segments[0]?.firstLsn ?? 1
  }

  get lastLsn(): number {
    const last = this.last
    return last === undefined ? 0 : last.lastLsn
  }

  add(segment: SegmentInfo): void {
    const last = this.last
    assert(last === undefined || segment.firstLsn === last.lastLsn + 1, 'segments must be contiguous')
    this.segments.push(segment)
  }

  /** Records a frame appended to (or scanned in) `segment`, indexing every `indexStrideFrames`-th one. */
  noteFrame(segment: SegmentInfo, lsn: number, offsetBytes: number, previousHash: Uint8Array): void {
    if ((lsn - segment.firstLsn) % this.indexStrideFrames === 0) {
      segment.index.push({ lsn, offsetBytes, previousHash: previousHash.slice() })
    }
    segment.lastLsn = lsn
  }

  /** The segment holding `lsn`, or undefined if it is outside the log. */
  segmentFor(lsn: number): SegmentInfo | undefined {
    const list = this.segments
    let low = 0
    let high = list.length - 1
    while (low <= high) {
      const middle = (low + high) >>> 1
      const segment = list[middle]
      assert(segment !== undefined, 'binary search stays in bounds')
      if (lsn < segment.firstLsn) high = middle - 1
      else if (lsn > segment.lastLsn) low = middle + 1
      else return segment
    }
    return undefined
  }

  /** The index point at or before `lsn` in `segment` (the segment start if none). */
  seek(segment: SegmentInfo, lsn: number, headerBytes: number): IndexPoint {
    return indexPointAtOrBefore(segment.index, lsn) ?? { lsn: segment.firstLsn, offsetBytes: headerBytes, previousHash: segment.previousHash }
  }

  /** The segments whose every LSN is below `lsn`, oldest first, without dropping them. Never the last one. */
  removableBelow(lsn: number): SegmentInfo[] {
    const removable: SegmentInfo[] = []
    for (const segment of this.segments.slice(0, -1)) {
      if (segment.lastLsn >= lsn) break
      removable.push(segment)
    }
    return removable
  }

  /** Drops `segment`, which must be the first and not the last, once its file is gone. */
  dropFirst(segment: SegmentInfo): void {
    assert(this.segments[0] === segment && this.segments.length > 1, 'only the first of several segments is dropped')
    this.segments.shift()
  }
}

/** The last point of a sparse index (ascending by LSN) at or before `lsn`; undefined when none is. */
export function indexPointAtOrBefore<P extends { readonly lsn: number }>(index: readonly P[], lsn: number): P | undefined {
  let best: P | undefined
  let low = 0
  let high = index.length - 1
  while (low <= high) {
    const middle = (low + high) >>> 1
    const point = index[middle]
    assert(point !== undefined, 'binary search stays in bounds')
    if (point.lsn <= lsn) {
      best = point
      low = middle + 1
    } else {
      high = middle - 1
    }
  }
  return best
}
