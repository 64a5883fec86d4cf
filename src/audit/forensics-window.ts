/**
 * The forensics bundle's reads of the problem's own segment, bounded to a window around the problem. A segment may be
 * up to 1 GiB (wal.segmentBytesMax): the seals were collected by re-deriving the chain over the whole of it, one
 * synchronous stretch on the event loop of a gateway that has just gone to CANCEL_ONLY or HALT (half a second per
 * 64 MiB measured, eight for a full segment), and the slice's frame boundary was found by walking every frame's length
 * from the segment's header, one read each. The segments before it were bounded already (forensics.ts segmentsNear).
 *
 * In a window, a frame boundary is found by its CRC (the first whole, CRC-valid frame at or after the window's start),
 * and the chain is re-derived from that frame's stored hash, taken as the window's base as a compacted log's first
 * header is: the frames after it are checked, and the walk stops at the first damage, as the whole scan does.
 */

import { closeSync, fstatSync, openSync, readSync } from 'node:fs'
import { chainHashReference, FrameSearchBudget, hashesEqual } from '../../wal/index.ts'
import { HeadHistory } from './head-history.ts'
import { FRAME_CONTENT_OFFSET, FRAME_HASH_OFFSET, FRAME_PAYLOAD_OFFSET, FRAME_PREFIX_BYTES, FRAME_VERSION_BITS, SEGMENT_HEADER_BYTES, readU64 } from './layout.ts'
import { frameDamage, frameSpan } from './frame-damage.ts'
import { isAuditRecordType } from './records.ts'
import { SealChecker, type SealEntry } from './seal-check.ts'

/** Frame bytes walked between two yields to the event loop. */
const YIELD_EVERY_BYTES = 4 * 1024 * 1024

/** Counts what the bundle read of segment files (a spec's probe: the reads are bounded). */
export const forensicsReads = { bytes: 0 }

/** `length` bytes of `fd` from `position` (fewer at the end of the file). */
export function readAt(fd: number, position: number, length: number): Uint8Array {
  const bytes = new Uint8Array(length)
  let filled = 0
  while (filled < length) {
    const count = readSync(fd, bytes, filled, length - filled, position + filled)
    if (count <= 0) break
    filled += count
  }
  forensicsReads.bytes += filled
  return bytes.subarray(0, filled)
}

/**
 * The first whole, CRC-valid frame starting in `bytes` at or after `from` and before `before`; null when none does, or
 * when the CRC work it may do (wal/frame-search.ts: bytes crafted to read as frame lengths everywhere made a 1 MiB window
 * seconds of CRC on the event loop) is spent first — the callers then take the window as it is, or find no seals in it.
 */
export function firstFrameIn(bytes: Uint8Array, from: number, before: number): number | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const budget = new FrameSearchBudget(bytes.byteLength)
  for (let at = from; at < Math.min(before, bytes.byteLength); at++) {
    const frameBytes = frameSpan(bytes, view, at)
    if (typeof frameBytes === 'string') continue
    if (!budget.spend(frameBytes - FRAME_PREFIX_BYTES)) return null
    if (frameDamage(bytes, view, at) === null) return at
  }
  return null
}

/**
 * [start, end) of `file` to read seals from: `bytesMax` around the problem's offset (a finding located by LSN only —
 * the anchors' — has none in the segment: the segment's last `bytesMax`, where a log's end is). Null when the segment
 * is within `bytesMax`: scanned whole, as before.
 */
export function sealsWindowOf(file: string, offsetBytes: number | null, bytesMax: number): { start: number; end: number } | null {
  const fd = openSync(file, 'r')
  let size: number
  try {
    size = fstatSync(fd).size
  } finally {
    closeSync(fd)
  }
  if (size <= bytesMax) return null
  const center = offsetBytes ?? size - Math.floor(bytesMax / 2)
  const start = Math.max(SEGMENT_HEADER_BYTES, Math.min(center, size) - Math.floor(bytesMax / 2))
  return { start, end: Math.min(size, start + bytesMax) }
}

/** The seals among the frames of `file` in `window`, from its first frame up to the first damage (file comment). */
export async function sealsInWindow(file: string, window: { start: number; end: number }): Promise<SealEntry[]> {
  const fd = openSync(file, 'r')
  let bytes: Uint8Array
  try {
    bytes = readAt(fd, window.start, window.end - window.start)
  } finally {
    closeSync(fd)
  }
  const seals: SealEntry[] = []
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const first = firstFrameIn(bytes, 0, bytes.byteLength)
  if (first === null) return seals
  let at = first
  const heads = new HeadHistory(1)
  const checker = new SealChecker({ keys: null, headsFromLsn: readU64(view, at + 40) })
  let head: Uint8Array | null = null
  let lastLsn = 0
  let lastEpoch = 0
  let yieldAt = at + YIELD_EVERY_BYTES
  while (at < bytes.byteLength && frameDamage(bytes, view, at) === null) {
    const end: number = at + view.getUint32(at, true) + FRAME_PREFIX_BYTES
    const lsn = readU64(view, at + 40)
    const epoch = view.getUint32(at + 48, true)
    const stored = bytes.subarray(at + FRAME_HASH_OFFSET, at + FRAME_CONTENT_OFFSET)
    if (head !== null) {
      if (lsn !== lastLsn + 1 || epoch < lastEpoch) break
      if (!hashesEqual(chainHashReference(head, bytes.subarray(at + FRAME_CONTENT_OFFSET, end)), stored)) break
    }
    const type = view.getUint16(at + 52, true)
    if (isAuditRecordType(type)) {
      const before = checker.last
      const frame = { lsn, epoch, type, version: view.getUint16(at + 54, true) & FRAME_VERSION_BITS, payload: bytes.subarray(at + FRAME_PAYLOAD_OFFSET, end), file, offsetBytes: window.start + at }
      checker.observe(frame, heads)
      if (checker.last !== null && checker.last !== before) seals.push(checker.last)
    }
    head = stored
    lastLsn = lsn
    lastEpoch = epoch
    at = end
    if (at >= yieldAt) {
      yieldAt = at + YIELD_EVERY_BYTES
      await new Promise<void>((resolve) => setImmediate(resolve))
    }
  }
  return seals
}
