/**
 * Whether the bytes at an offset of a segment are a whole, CRC-valid frame, and where the next one lies after a bad one:
 * the independent reader's frame checks (log-scan.ts), which judge a damaged stretch torn or corrupt with them; the
 * forensics window (forensics-window.ts) finds a frame boundary with frameDamage. Zero pages are what a copy taken while
 * the gateway writes shows of the writer's preallocated zeros (log-scan.ts says why that matters).
 */

import { lsnCanLieAt, SEARCH_GAVE_UP, type FrameSearch } from '../../wal/index.ts'
import { FRAME_HEADER_BYTES, FRAME_PAYLOAD_BYTES_MAX, FRAME_PREFIX_BYTES, readU64 } from './layout.ts'

const PAGE_BYTES = 4096

/** Why the frame at `offset` is not a whole, CRC-valid frame; null when it is. (Also the forensics window's check.) */
export function frameDamage(bytes: Uint8Array, view: DataView, offset: number): string | null {
  const frameBytes = frameSpan(bytes, view, offset)
  if (typeof frameBytes === 'string') return frameBytes
  const crc = view.getUint32(offset + 4, true)
  return Bun.hash.crc32(bytes.subarray(offset + FRAME_PREFIX_BYTES, offset + frameBytes)) === crc ? null : 'crc'
}

/** The length of the frame at `offset` if its header is whole, its length plausible and it ends in `bytes` (no CRC). */
export function frameSpan(bytes: Uint8Array, view: DataView, offset: number): number | 'short' | 'length' {
  if (bytes.byteLength - offset < FRAME_HEADER_BYTES) return 'short'
  const frameBytes = view.getUint32(offset, true) + FRAME_PREFIX_BYTES
  if (frameBytes < FRAME_HEADER_BYTES || frameBytes - FRAME_HEADER_BYTES > FRAME_PAYLOAD_BYTES_MAX) return 'length'
  return offset + frameBytes > bytes.byteLength ? 'short' : frameBytes
}

/**
 * The offset of the first CRC-valid frame at or after `from` that the log could have written there after the bad frame
 * at `damageAt` (its LSN: wal/frame-search.ts, checked before the CRC), or null; SEARCH_GAVE_UP when the search's CRC
 * budget ran out first.
 */
export function nextValidFrame(bytes: Uint8Array, damageAt: number, from: number, search: FrameSearch): number | null | typeof SEARCH_GAVE_UP {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  for (let offset = from; offset + FRAME_HEADER_BYTES <= bytes.byteLength; offset++) {
    const frameBytes = frameSpan(bytes, view, offset)
    if (typeof frameBytes === 'string') continue
    if (!lsnCanLieAt(readU64(view, offset + 40), search.afterLsn, offset - damageAt)) continue
    if (!search.budget.spend(frameBytes - FRAME_PREFIX_BYTES)) return SEARCH_GAVE_UP
    if (frameDamage(bytes, view, offset) === null) return offset
  }
  return null
}

/** Whether `bytes` (a whole segment file, read from offset 0) holds a zero-filled, page-aligned page within from..to. */
export function holdsZeroPage(bytes: Uint8Array, from: number, to: number): boolean {
  // File offsets equal buffer offsets here: the whole segment file was read from offset 0.
  for (let page = Math.ceil(from / PAGE_BYTES) * PAGE_BYTES; page + PAGE_BYTES <= to; page += PAGE_BYTES) {
    if (allZero(bytes, page, page + PAGE_BYTES)) return true
  }
  return false
}

/** Whether every byte of `bytes` from `from` up to `to` is zero. */
export function allZero(bytes: Uint8Array, from: number, to: number): boolean {
  for (let index = from; index < to; index++) if (bytes[index] !== 0) return false
  return true
}
