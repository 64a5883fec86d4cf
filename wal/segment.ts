/**
 * Segment files. A log is a directory of segments named by their first LSN (zero-padded so names sort by LSN).
 * Each segment starts with a 64-byte header that records its first LSN and the chain head just before it, so any
 * segment can be verified on its own and the log survives compaction of the segments before it.
 *
 * Header (little-endian):
 *   0  [8]  magic "EGRSWAL1"
 *   8  u32  format version (1)
 *  12  u32  CRC-32 of bytes [16, 64)
 *  16  u64  first LSN
 *  24  [32] chain hash before the first LSN
 *  56  u32  epoch of the writer that created the segment
 *  60  u32  reserved (0)
 */

import { join } from 'node:path'
import { HASH_BYTES } from './chain.ts'

export const SEGMENT_HEADER_BYTES = 64
export const SEGMENT_FORMAT_VERSION = 1
const MAGIC = new TextEncoder().encode('EGRSWAL1')
const NAME_PATTERN = /^(\d{20})\.seg$/
export const SEGMENT_TEMP_SUFFIX = '.tmp'

export interface SegmentHeader {
  firstLsn: number
  previousHash: Uint8Array
  epoch: number
}

export function segmentName(firstLsn: number): string {
  return `${String(firstLsn).padStart(20, '0')}.seg`
}

export function segmentPath(dir: string, firstLsn: number): string {
  return join(dir, segmentName(firstLsn))
}

/** The first LSN a segment file name claims, or null if the name is not a segment's. */
export function parseSegmentName(name: string): number | null {
  const match = NAME_PATTERN.exec(name)
  return match === null ? null : Number(match[1])
}

/**
 * Whether `name` is a segment's temp file (`<first LSN>.seg.tmp`, a roll that crashed before its rename): the only
 * temp files of the log, which an open removes. Any other name ending in `.tmp` is not the log's (an operator's file,
 * another tool's) and is left alone.
 */
export function isSegmentTempName(name: string): boolean {
  return name.endsWith(SEGMENT_TEMP_SUFFIX) && parseSegmentName(name.slice(0, -SEGMENT_TEMP_SUFFIX.length)) !== null
}

export function encodeSegmentHeader(header: SegmentHeader): Uint8Array {
  const bytes = new Uint8Array(SEGMENT_HEADER_BYTES)
  const view = new DataView(bytes.buffer)
  bytes.set(MAGIC, 0)
  view.setUint32(8, SEGMENT_FORMAT_VERSION, true)
  view.setUint32(16, header.firstLsn % 0x1_0000_0000, true)
  view.setUint32(20, Math.floor(header.firstLsn / 0x1_0000_0000), true)
  bytes.set(header.previousHash, 24)
  view.setUint32(56, header.epoch, true)
  view.setUint32(12, Bun.hash.crc32(bytes.subarray(16)), true)
  return bytes
}

/** Decodes a header, or returns why it is not one. */
export function decodeSegmentHeader(bytes: Uint8Array): SegmentHeader | string {
  if (bytes.byteLength < SEGMENT_HEADER_BYTES) return `header is ${bytes.byteLength} bytes, expected ${SEGMENT_HEADER_BYTES}`
  for (let index = 0; index < MAGIC.length; index++) {
    if (bytes[index] !== MAGIC[index]) return 'bad magic (not an egress WAL segment)'
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, SEGMENT_HEADER_BYTES)
  const version = view.getUint32(8, true)
  if (version !== SEGMENT_FORMAT_VERSION) return `format version ${version}, this build reads ${SEGMENT_FORMAT_VERSION}`
  if (Bun.hash.crc32(bytes.subarray(16, SEGMENT_HEADER_BYTES)) !== view.getUint32(12, true)) return 'header CRC mismatch'
  return {
    firstLsn: view.getUint32(16, true) + view.getUint32(20, true) * 0x1_0000_0000,
    previousHash: bytes.slice(24, 24 + HASH_BYTES),
    epoch: view.getUint32(56, true),
  }
}
