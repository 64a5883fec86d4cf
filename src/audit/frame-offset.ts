/**
 * Where a segment's frame of a given LSN starts, found by walking the frames' length fields from the nearest point of
 * the log's sparse index (wal/catalog.ts) at or before it: for a finding's report (the self-check's file and byte
 * offset). A segment may be up to 1 GiB (wal.segmentBytesMax) and the walk runs on the serving process's event loop
 * just as tampering is found: it was a read of the whole file and a walk from its header, and is now a walk of at most
 * one index stride, read in chunks of WINDOW_BYTES.
 */

import { closeSync, openSync, readSync } from 'node:fs'
import { indexPointAtOrBefore } from '../../wal/index.ts'
import { FRAME_PREFIX_BYTES, SEGMENT_HEADER_BYTES } from './layout.ts'

/** Bytes read at once while walking; a frame longer than this is stepped over with one read at its end. */
const WINDOW_BYTES = 64 * 1024

/** Counts the bytes the walk read (a spec's probe: the reads are bounded by the frames walked, not the file). */
export const frameOffsetReads = { bytes: 0 }

/** A segment as the walk needs it: its file, first LSN and sparse index points (absent or empty: walked from its header). */
export interface WalkedSegment {
  readonly path: string
  readonly firstLsn: number
  readonly index?: readonly { readonly lsn: number; readonly offsetBytes: number }[]
}

/** The byte offset of the frame `lsn` in `segment`; 0 when the walk leaves the file or it cannot be read. */
export function frameOffset(segment: WalkedSegment, lsn: number): number {
  const start = indexPointAtOrBefore(segment.index ?? [], lsn) ?? { lsn: segment.firstLsn, offsetBytes: SEGMENT_HEADER_BYTES }
  let fd: number
  try {
    fd = openSync(segment.path, 'r')
  } catch {
    return 0
  }
  try {
    const window = Buffer.alloc(WINDOW_BYTES)
    let windowStart = 0
    let windowBytes = 0
    const lengthAt = (offset: number): number | null => {
      if (offset < windowStart || offset + FRAME_PREFIX_BYTES > windowStart + windowBytes) {
        windowStart = offset
        windowBytes = readSync(fd, window, 0, WINDOW_BYTES, offset)
        frameOffsetReads.bytes += windowBytes
        if (windowBytes < FRAME_PREFIX_BYTES) return null
      }
      return window.readUInt32LE(offset - windowStart)
    }
    let offset = start.offsetBytes
    for (let step = start.lsn; step < lsn; step++) {
      const length = lengthAt(offset)
      if (length === null) return 0
      offset += length + FRAME_PREFIX_BYTES
    }
    // The frame itself must start inside the file (its prefix readable), as the whole-file walk required.
    return lengthAt(offset) === null ? 0 : offset
  } catch {
    return 0
  } finally {
    closeSync(fd)
  }
}

