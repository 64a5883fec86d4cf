/**
 * Checking frames where they lie in a read buffer, for the loops that walk a whole log (open, read, replication).
 * The same checks as ever — length bound, CRC-32 of every frame, the chain hash recomputed — arranged so a frame costs
 * as few typed-array views as possible: each `subarray` is a native call plus an object, and on a 300k-record log
 * the per-frame views were a quarter of the read and open time. A walker creates one DataView per buffer, one `body`
 * view per frame (bytes [8, end): what the CRC covers and, with the previous hash laid into its slot, what the chain
 * digest covers), and a payload view only for a frame it hands out.
 */

import { HASH_BYTES, chainHashInPlace } from './chain.ts'
import { FRAME_APPEND_CONTINUES, FRAME_HASH_OFFSET, FRAME_HEADER_BYTES, FRAME_PAYLOAD_OFFSET, FRAME_PREFIX_BYTES, PAYLOAD_BYTES_MAX, type Frame } from './frame.ts'

/** Why a frame failed: too few bytes for it (a torn write at the tail), an impossible length, or a CRC mismatch. */
export type FrameProblem = 'short' | 'length' | 'crc'

/** `frameBytesAt` results below zero: the frame's problem. */
export const FRAME_SHORT = -1
export const FRAME_BAD_LENGTH = -2

/**
 * The length of the frame at `offset` if its header is whole, its length field plausible and the frame ends by
 * `limit`; otherwise FRAME_SHORT or FRAME_BAD_LENGTH. Does not look at the CRC (see `crcHolds`).
 */
export function frameBytesAt(view: DataView, offset: number, limit: number): number {
  if (limit - offset < FRAME_HEADER_BYTES) return FRAME_SHORT
  const frameBytes = view.getUint32(offset, true) + FRAME_PREFIX_BYTES
  if (frameBytes < FRAME_HEADER_BYTES || frameBytes - FRAME_HEADER_BYTES > PAYLOAD_BYTES_MAX) return FRAME_BAD_LENGTH
  return offset + frameBytes > limit ? FRAME_SHORT : frameBytes
}

export function lengthProblem(code: number): FrameProblem {
  return code === FRAME_BAD_LENGTH ? 'length' : 'short'
}

/** `body` is the frame's bytes [8, end) (see `frameBody`); the CRC stored at byte 4 must be theirs. */
export function crcHolds(view: DataView, offset: number, body: Uint8Array): boolean {
  return Bun.hash.crc32(body) === view.getUint32(offset + 4, true)
}

/** The frame's bytes from its hash slot to its end: what the CRC covers and what the chain digest is taken over. */
export function frameBody(source: Uint8Array, offset: number, frameBytes: number): Uint8Array {
  return source.subarray(offset + FRAME_HASH_OFFSET, offset + frameBytes)
}

export function lsnAt(view: DataView, offset: number): number {
  return view.getUint32(offset + 40, true) + view.getUint32(offset + 44, true) * 0x1_0000_0000
}

export function epochAt(view: DataView, offset: number): number {
  return view.getUint32(offset + 48, true)
}

export function typeAt(view: DataView, offset: number): number {
  return view.getUint16(offset + 52, true)
}

/** The payload's schema version (the version field without its FRAME_APPEND_CONTINUES bit). */
export function versionAt(view: DataView, offset: number): number {
  return view.getUint16(offset + 54, true) & ~FRAME_APPEND_CONTINUES
}

/** Does the whole frame `raw` (its bytes from offset 0) say more frames of its append follow (frame.ts)? */
export function frameContinues(raw: Uint8Array): boolean {
  return ((raw[55] as number) & (FRAME_APPEND_CONTINUES >> 8)) !== 0
}

/** Do more frames of the same append follow this one (frame.ts)? */
export function continuesAt(view: DataView, offset: number): boolean {
  return (view.getUint16(offset + 54, true) & FRAME_APPEND_CONTINUES) !== 0
}

/**
 * Recomputes the chain hash of the frame at `offset` (its `body` given) from `previousHash` and compares it with the
 * stored one; on success `scratchHash` holds it (the new head). The frame's hash slot is borrowed for the digest and
 * restored before returning, so `source` reads as it did. Byte loops instead of slot views: 32 bytes copied by the
 * JIT cost less than a `subarray` and a `set`.
 */
export function chainHolds(source: Uint8Array, offset: number, body: Uint8Array, previousHash: Uint8Array, scratchHash: Uint8Array): boolean {
  const slot = offset + FRAME_HASH_OFFSET
  const stored = storedHashScratch
  for (let index = 0; index < HASH_BYTES; index++) {
    stored[index] = source[slot + index] as number
    source[slot + index] = previousHash[index] as number
  }
  chainHashInPlace(body, scratchHash)
  let same = true
  for (let index = 0; index < HASH_BYTES; index++) {
    const byte = stored[index] as number
    if (scratchHash[index] !== byte) same = false
    source[slot + index] = byte
  }
  return same
}

/** Holds a frame's stored hash while its slot is borrowed; checks are synchronous, so one buffer serves all. */
const storedHashScratch = new Uint8Array(HASH_BYTES)

/** What a detached FrameView points at: no bytes. */
const DETACHED_BYTES = new Uint8Array(0)

/** Copies the frame's stored chain hash into `target` (32 bytes) without making a view of it. */
export function copyStoredHash(source: Uint8Array, offset: number, target: Uint8Array): void {
  const slot = offset + FRAME_HASH_OFFSET
  for (let index = 0; index < HASH_BYTES; index++) target[index] = source[slot + index] as number
}

/**
 * A frame over the buffer it was read into. Its payload and hash are views made on demand: restart replay decodes
 * straight from `bytes` at `payloadAt` (a view per frame was a measurable part of replay), and most readers never look
 * at the hash, which lies 48 bytes before the payload in the same buffer. The object holds nothing the buffer does not.
 */
export class FrameView implements Frame {
  lsn = 0
  epoch = 0
  type = 0
  version = 0
  /** The buffer the frame lies in; valid until the reader moves past the frame (wal/reader.ts). */
  bytes: Uint8Array = DETACHED_BYTES
  /** Where the payload starts in `bytes`; it ends at payloadAt + frameBytes - FRAME_PAYLOAD_OFFSET. */
  payloadAt = 0
  frameBytes = 0

  constructor(lsn: number, epoch: number, type: number, version: number, bytes: Uint8Array, payloadAt: number, frameBytes: number) {
    this.moveTo(lsn, epoch, type, version, bytes, payloadAt, frameBytes)
  }

  /** Points this view at another frame (the commit listeners' views are reused from batch to batch: batch-write.ts). */
  moveTo(lsn: number, epoch: number, type: number, version: number, bytes: Uint8Array, payloadAt: number, frameBytes: number): void {
    this.lsn = lsn
    this.epoch = epoch
    this.type = type
    this.version = version
    this.bytes = bytes
    this.payloadAt = payloadAt
    this.frameBytes = frameBytes
  }

  /**
   * Lets go of the buffer once the commit listeners were told (group-commit.ts): a reused view would otherwise keep
   * the last batch large enough to use it alive until another one is. A view kept past its callback reads an empty
   * payload and hash between callbacks, and within a later batch's callback that batch's frame: a listener copies
   * what it keeps.
   */
  detach(): void {
    this.bytes = DETACHED_BYTES
    this.payloadAt = FRAME_PAYLOAD_OFFSET
    this.frameBytes = FRAME_PAYLOAD_OFFSET
  }

  get payloadEnd(): number {
    return this.payloadAt + this.frameBytes - FRAME_PAYLOAD_OFFSET
  }

  get payload(): Uint8Array {
    return this.bytes.subarray(this.payloadAt, this.payloadEnd)
  }

  get hash(): Uint8Array {
    const start = this.payloadAt - (FRAME_PAYLOAD_OFFSET - FRAME_HASH_OFFSET)
    return this.bytes.subarray(start, start + HASH_BYTES)
  }
}

/** The frame at `offset` (already checked) as a FrameView: no view made, the fields read from `view`. */
export function frameViewAt(source: Uint8Array, view: DataView, offset: number, frameBytes: number): FrameView {
  return new FrameView(lsnAt(view, offset), epochAt(view, offset), typeAt(view, offset), versionAt(view, offset), source, offset + FRAME_PAYLOAD_OFFSET, frameBytes)
}

export type FrameCheck =
  | { ok: true; frame: FrameView }
  /** Not enough bytes for a header or for the length the header claims: a torn write if at the tail. */
  | { ok: false; reason: FrameProblem }

/**
 * Reads and CRC-checks the frame at `offset` (one frame; the walkers use the functions above). Does not check LSN
 * order, epoch or chain: the caller does that with context. `limit` is the end of valid data in `source`.
 */
export function decodeFrame(source: Uint8Array, offset: number, limit: number): FrameCheck {
  const view = new DataView(source.buffer, source.byteOffset, source.byteLength)
  const frameBytes = frameBytesAt(view, offset, limit)
  if (frameBytes < 0) return { ok: false, reason: lengthProblem(frameBytes) }
  if (!crcHolds(view, offset, frameBody(source, offset, frameBytes))) return { ok: false, reason: 'crc' }
  return { ok: true, frame: frameViewAt(source, view, offset, frameBytes) }
}

/** `chainHolds` for one frame given by offset and length. */
export function verifyFrameHash(source: Uint8Array, offset: number, frameBytes: number, previousHash: Uint8Array, scratchHash: Uint8Array): boolean {
  return chainHolds(source, offset, frameBody(source, offset, frameBytes), previousHash, scratchHash)
}

/** Whether `bytes` are whole frames of exactly one append: every frame but the last has the append flag (frame.ts). */
export function isOneAppend(bytes: Uint8Array): boolean {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let offset = 0
  while (offset < bytes.byteLength) {
    const frameBytes = frameBytesAt(view, offset, bytes.byteLength)
    if (frameBytes < 0) return false
    const last = offset + frameBytes === bytes.byteLength
    if (continuesAt(view, offset) === last) return false
    offset += frameBytes
  }
  return true
}
