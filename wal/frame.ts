/**
 * Frame layout (little-endian). One frame is one record.
 *
 *   0  u32  bodyBytes   bytes from offset 8 to the end of the frame
 *   4  u32  crc         CRC-32 of bytes [8, 8 + bodyBytes)
 *   8  [32] hash        chain hash: SHA-256(previous hash ‖ bytes [40, end))
 *  40  u64  lsn         dense, from 1
 *  48  u32  epoch       the writer's lease epoch (fencing token)
 *  52  u16  type        record type (the log does not know what it means)
 *  54  u16  version     schema version of the payload (bits 0-14); bit 15 set: more frames of the same append follow
 *  56  ...  payload
 *
 * The CRC covers the hash, so a torn or rotted frame fails the CRC; the hash covers everything after it, so an edited
 * frame with a fixed-up CRC fails the chain. The hash slot sits right before the content so the chain digest can be
 * computed over one contiguous range (see chain.ts).
 *
 * One append (one decision's records, Wal.append) is whole or absent after a crash: every frame of it but the last has
 * FRAME_APPEND_CONTINUES set, so an open that finds the log ending on such a frame knows the rest of its append never
 * reached the disk and cuts the part that did (scan.ts, recover.ts). A log written before the flag has it nowhere:
 * each of its frames reads as an append of its own, as before.
 */

import { assert } from './assert.ts'
import { chainHashInPlace } from './chain.ts'

export const FRAME_PREFIX_BYTES = 8
export const FRAME_HEADER_BYTES = 56
export const FRAME_HASH_OFFSET = 8
export const FRAME_CONTENT_OFFSET = 40
export const FRAME_PAYLOAD_OFFSET = 56
/** Payload bound: one record is an order event, never a bulk blob. */
export const PAYLOAD_BYTES_MAX = 1 << 20
export const TYPE_MAX = 0xffff
/** The frame format: 1 before the append flag, 2 with it (a reader of 1 would take a flagged version for an unknown one). */
export const FRAME_FORMAT_VERSION = 2
/** The version field's top bit: the frame is not the last of its append. Never part of the version a reader sees. */
export const FRAME_APPEND_CONTINUES = 0x8000
export const VERSION_MAX = 0x7fff

export interface RecordInput {
  type: number
  version: number
  payload: Uint8Array
}

/**
 * A frame read back from the log. `payload` is a view into the read buffer, valid until the reader moves to the next
 * frame: copy it to keep it (see copyFrame).
 */
export interface Frame {
  lsn: number
  epoch: number
  type: number
  version: number
  payload: Uint8Array
  /** This frame's chain hash (a view into the same buffer; a read frame makes it on demand). */
  hash: Uint8Array
  /** Total bytes on disk. */
  frameBytes: number
}

/** A frame whose payload and hash are owned copies (safe to keep). */
export interface OwnedFrame extends Frame {}

/** A frame that owns its bytes (a read frame's views are valid only until the next frame). */
export function copyFrame(frame: Frame): OwnedFrame {
  return { lsn: frame.lsn, epoch: frame.epoch, type: frame.type, version: frame.version, payload: frame.payload.slice(), hash: frame.hash.slice(), frameBytes: frame.frameBytes }
}

export function frameBytesFor(payloadBytes: number): number {
  return FRAME_HEADER_BYTES + payloadBytes
}

/**
 * Writes one frame at `offset` of `target` and returns its end offset. `previousHash` is the chain head before it;
 * the frame's own hash is written into `scratchHash` and into the frame (it is the new head). `view` is a DataView of
 * all of `target`. `continues`: more frames of the same append follow this one (FRAME_APPEND_CONTINUES). Members as
 * arguments: the log's batch write (batch-write.ts) makes no options object per record.
 */
export function encodeFrameAt(
  target: Uint8Array,
  view: DataView,
  offset: number,
  lsn: number,
  epoch: number,
  record: RecordInput,
  previousHash: Uint8Array,
  scratchHash: Uint8Array,
  continues: boolean,
): number {
  const end = offset + FRAME_HEADER_BYTES + record.payload.byteLength
  assert(end <= target.byteLength, 'frame does not fit its batch buffer')
  view.setUint32(offset, end - offset - FRAME_PREFIX_BYTES, true)
  view.setUint32(offset + 40, lsn % 0x1_0000_0000, true)
  view.setUint32(offset + 44, Math.floor(lsn / 0x1_0000_0000), true)
  view.setUint32(offset + 48, epoch, true)
  view.setUint16(offset + 52, record.type, true)
  view.setUint16(offset + 54, continues ? record.version | FRAME_APPEND_CONTINUES : record.version, true)
  target.set(record.payload, offset + FRAME_PAYLOAD_OFFSET)
  const body = target.subarray(offset + FRAME_HASH_OFFSET, end)
  target.set(previousHash, offset + FRAME_HASH_OFFSET)
  chainHashInPlace(body, scratchHash)
  target.set(scratchHash, offset + FRAME_HASH_OFFSET)
  view.setUint32(offset + 4, Bun.hash.crc32(body), true)
  return end
}

/** Validates a record before it is queued: refusal here means nothing was written. */
export function recordProblem(record: RecordInput): string | null {
  if (!Number.isInteger(record.type) || record.type < 0 || record.type > TYPE_MAX) {
    return `type must be an integer 0..${TYPE_MAX}, got ${record.type}`
  }
  if (!Number.isInteger(record.version) || record.version < 0 || record.version > VERSION_MAX) {
    return `version must be an integer 0..${VERSION_MAX}, got ${record.version}`
  }
  if (!(record.payload instanceof Uint8Array)) return 'payload must be a Uint8Array'
  if (record.payload.byteLength > PAYLOAD_BYTES_MAX) {
    return `payload must be ≤ ${PAYLOAD_BYTES_MAX} bytes, got ${record.payload.byteLength}`
  }
  return null
}
