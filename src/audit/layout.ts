/**
 * The on-disk layout of segments and frames, restated here on purpose. wal/frame.ts and wal/segment.ts document it;
 * the audit reader parses it again from those docs rather than calling the writer's decoder, so that a bug in the
 * writer's reader cannot hide the same bug from the audit (specs/audit prove both read the same logs).
 *
 * Segment header (64 bytes, little-endian): magic "EGRSWAL1" | u32 format 1 | u32 CRC-32 of [16, 64) | u64 first LSN |
 * [32] chain hash before the first LSN | u32 epoch | u32 reserved.
 * Frame: u32 bodyBytes (from offset 8 to the end) | u32 CRC-32 of [8, end) | [32] chain hash | u64 LSN | u32 epoch |
 * u16 type | u16 version | payload. Chain hash = SHA-256(previous hash ‖ bytes [40, end)). The version field's top
 * bit says more frames of the same append follow; the payload's version is the other 15 bits.
 */

export const SEGMENT_HEADER_BYTES = 64
export const SEGMENT_NAME_PATTERN = /^(\d{20})\.seg$/
export const FRAME_HEADER_BYTES = 56
export const FRAME_PREFIX_BYTES = 8
export const FRAME_HASH_OFFSET = 8
export const FRAME_CONTENT_OFFSET = 40
export const FRAME_PAYLOAD_OFFSET = 56
export const FRAME_PAYLOAD_BYTES_MAX = 1 << 20
export const HASH_BYTES = 32
/** The bits of a frame's version field that are the payload's version (the top bit is the append flag). */
export const FRAME_VERSION_BITS = 0x7fff
/** The version field's top bit: more frames of the same append follow this one. */
export const FRAME_APPEND_FLAG = 0x8000

const MAGIC = 'EGRSWAL1'
const FORMAT_VERSION = 1

export interface SegmentHeaderFields {
  firstLsn: number
  previousHash: Uint8Array
  epoch: number
}

export function readSegmentHeader(bytes: Uint8Array): SegmentHeaderFields | string {
  if (bytes.byteLength < SEGMENT_HEADER_BYTES) return `the file is ${bytes.byteLength} bytes, shorter than a segment header`
  if (new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) return 'bad magic (not an egress WAL segment)'
  const view = new DataView(bytes.buffer, bytes.byteOffset, SEGMENT_HEADER_BYTES)
  const version = view.getUint32(8, true)
  if (version !== FORMAT_VERSION) return `format version ${version}, the audit reads ${FORMAT_VERSION}`
  if (Bun.hash.crc32(bytes.subarray(16, SEGMENT_HEADER_BYTES)) !== view.getUint32(12, true)) return 'header CRC mismatch'
  return {
    firstLsn: readU64(view, 16),
    previousHash: bytes.slice(24, 24 + HASH_BYTES),
    epoch: view.getUint32(56, true),
  }
}

export function readU64(view: DataView, offset: number): number {
  return view.getUint32(offset, true) + view.getUint32(offset + 4, true) * 0x1_0000_0000
}
