/**
 * The snapshot file: the projections at LSN x, as named sections, with the chain head at x and a SHA-256 over
 * everything, so a torn, truncated or edited file is detected before any of it is used.
 *
 *   [8]   magic "EGSNAP01"
 *   u32   header length in bytes (little-endian)
 *   [n]   header, UTF-8 JSON (SnapshotHeader)
 *   [..]  section bodies, in header order
 *   [32]  SHA-256 of every byte before it (the content digest)
 *
 * Sections are opaque bytes named by their projection: `kernel` (the kernel state, state-codec.ts) always; others
 * (the back office's SQLite image, say) are added by name and restored by whoever owns them.
 */

import { bytesToHex } from '@noble/hashes/utils.js'

/**
 * Bun's native SHA-256: a snapshot is tens of MB and pure-JS hashing would add that much to the event-loop block;
 * specs/runtime/snapshot/file.test.ts checks it against @noble/hashes.
 */
function sha256(bytes: Uint8Array): Uint8Array {
  return Bun.SHA256.hash(bytes) as Uint8Array
}

export const SNAPSHOT_FORMAT = 'egress.snapshot'
export const SNAPSHOT_FORMAT_VERSION = 1
export const KERNEL_SECTION = 'kernel'
const MAGIC = new TextEncoder().encode('EGSNAP01')
const DIGEST_BYTES = 32
/** A header is a few hundred bytes; anything near this is not a header. */
const HEADER_BYTES_MAX = 1 << 20

export type SnapshotProblemCode =
  | 'UNREADABLE'
  | 'TRUNCATED'
  | 'BAD_MAGIC'
  | 'DIGEST_MISMATCH'
  | 'HEADER_INVALID'
  | 'FORMAT_VERSION'
  | 'SCHEMA_MISMATCH'
  | 'STATE_INVALID'
  | 'LOG_BEHIND'
  | 'LOG_COMPACTED'
  | 'CHAIN_MISMATCH'
  | 'SEAL_INVALID'

/** Why a snapshot cannot be used. Never thrown past the store: a failing snapshot is reported and skipped. */
export class SnapshotError extends Error {
  override readonly name = 'SnapshotError'
  constructor(
    readonly code: SnapshotProblemCode,
    message: string,
  ) {
    super(message)
  }
}

export interface SectionInfo {
  name: string
  bytes: number
  sha256: string
}

export interface SnapshotHeader {
  format: typeof SNAPSHOT_FORMAT
  version: number
  /** Every record up to and including this LSN is folded into the sections. */
  lsn: number
  /** Chain head (hex) at `lsn`: the hash of frame `lsn`. Restart checks it against the log before trusting anything. */
  chainHead: string
  createdAtMs: number
  /** The kernel state encoding's schema id (state-codec.ts KERNEL_STATE_SCHEMA). */
  kernelSchema: string
  sections: SectionInfo[]
}

export interface SnapshotContent {
  header: SnapshotHeader
  /** SHA-256 (hex) of the file up to its trailer. */
  digest: string
  sections: Map<string, Uint8Array>
}

type EncodedSnapshot = { bytes: Uint8Array; digest: string; header: SnapshotHeader }

export function encodeSnapshot(meta: Omit<SnapshotHeader, 'format' | 'version' | 'sections'>, sections: Map<string, Uint8Array>): EncodedSnapshot {
  const steps = snapshotEncodeSteps(meta, sections, Number.POSITIVE_INFINITY)
  for (let step = steps.next(); ; step = steps.next()) if (step.done === true) return step.value
}

/** The same file in steps (a running snapshot's: take.ts), a yield after each `bytesPerSlice` hashed or copied. */
export function* snapshotEncodeSteps(
  meta: Omit<SnapshotHeader, 'format' | 'version' | 'sections'>,
  sections: Map<string, Uint8Array>,
  bytesPerSlice: number,
): Generator<void, EncodedSnapshot> {
  const infos: SectionInfo[] = []
  for (const [name, body] of sections) infos.push({ name, bytes: body.byteLength, sha256: bytesToHex(yield* sha256Steps(body, bytesPerSlice)) })
  const header: SnapshotHeader = { format: SNAPSHOT_FORMAT, version: SNAPSHOT_FORMAT_VERSION, ...meta, sections: infos }
  const headerBytes = new TextEncoder().encode(JSON.stringify(header))
  const bodyBytes = infos.reduce((sum, info) => sum + info.bytes, 0)
  const total = MAGIC.byteLength + 4 + headerBytes.byteLength + bodyBytes + DIGEST_BYTES
  const bytes = new Uint8Array(total)
  bytes.set(MAGIC, 0)
  new DataView(bytes.buffer).setUint32(MAGIC.byteLength, headerBytes.byteLength, true)
  let offset = MAGIC.byteLength + 4
  bytes.set(headerBytes, offset)
  offset += headerBytes.byteLength
  for (const body of sections.values()) {
    for (let from = 0; from < body.byteLength; from += bytesPerSlice) {
      bytes.set(body.subarray(from, from + bytesPerSlice), offset + from)
      if (from + bytesPerSlice < body.byteLength) yield
    }
    offset += body.byteLength
  }
  const digest = yield* sha256Steps(bytes.subarray(0, offset), bytesPerSlice)
  bytes.set(digest, offset)
  return { bytes, digest: bytesToHex(digest), header }
}

/** The SHA-256 of `bytes`, `bytesPerSlice` of them hashed between two yields. */
function* sha256Steps(bytes: Uint8Array, bytesPerSlice: number): Generator<void, Uint8Array> {
  if (bytes.byteLength <= bytesPerSlice) return sha256(bytes)
  const hasher = new Bun.CryptoHasher('sha256')
  for (let from = 0; from < bytes.byteLength; from += bytesPerSlice) {
    if (from > 0) yield
    hasher.update(bytes.subarray(from, from + bytesPerSlice))
  }
  return hasher.digest() as Uint8Array
}

/** Checks and splits a snapshot file. Throws SnapshotError naming what is wrong. */
export function decodeSnapshot(bytes: Uint8Array): SnapshotContent {
  const fixed = MAGIC.byteLength + 4
  if (bytes.byteLength < fixed + DIGEST_BYTES) throw new SnapshotError('TRUNCATED', `${bytes.byteLength} bytes is shorter than any snapshot`)
  for (let index = 0; index < MAGIC.byteLength; index++) {
    if (bytes[index] !== MAGIC[index]) throw new SnapshotError('BAD_MAGIC', 'not an egress snapshot (bad magic)')
  }
  const end = bytes.byteLength - DIGEST_BYTES
  const digest = bytesToHex(sha256(bytes.subarray(0, end)))
  if (digest !== bytesToHex(bytes.subarray(end))) {
    throw new SnapshotError('DIGEST_MISMATCH', 'content digest does not match (torn, truncated or edited file)')
  }
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, fixed).getUint32(MAGIC.byteLength, true)
  if (headerLength > HEADER_BYTES_MAX || fixed + headerLength > end) throw new SnapshotError('HEADER_INVALID', `header length ${headerLength} does not fit the file`)
  const header = parseHeader(bytes.subarray(fixed, fixed + headerLength))
  const sections = new Map<string, Uint8Array>()
  let offset = fixed + headerLength
  for (const info of header.sections) {
    if (offset + info.bytes > end) throw new SnapshotError('HEADER_INVALID', `section ${info.name} overruns the file`)
    sections.set(info.name, bytes.subarray(offset, offset + info.bytes))
    offset += info.bytes
  }
  if (offset !== end) throw new SnapshotError('HEADER_INVALID', `sections end at ${offset}, the file's content at ${end}`)
  if (!sections.has(KERNEL_SECTION)) throw new SnapshotError('HEADER_INVALID', 'no kernel section')
  return { header, digest, sections }
}

function parseHeader(bytes: Uint8Array): SnapshotHeader {
  let value: unknown
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  } catch (error) {
    throw new SnapshotError('HEADER_INVALID', `header is not JSON: ${String(error)}`)
  }
  const header = value as Partial<SnapshotHeader> | null
  if (header === null || typeof header !== 'object' || header.format !== SNAPSHOT_FORMAT) throw new SnapshotError('HEADER_INVALID', 'header names another format')
  if (header.version !== SNAPSHOT_FORMAT_VERSION) {
    throw new SnapshotError('FORMAT_VERSION', `snapshot format version ${String(header.version)}, this build reads ${SNAPSHOT_FORMAT_VERSION}`)
  }
  const valid =
    Number.isSafeInteger(header.lsn) && (header.lsn as number) >= 1 &&
    typeof header.chainHead === 'string' && /^[0-9a-f]{64}$/.test(header.chainHead) &&
    typeof header.createdAtMs === 'number' && typeof header.kernelSchema === 'string' &&
    Array.isArray(header.sections) &&
    header.sections.every((info) => typeof info?.name === 'string' && Number.isSafeInteger(info.bytes) && info.bytes >= 0 && typeof info.sha256 === 'string')
  if (!valid) throw new SnapshotError('HEADER_INVALID', 'header fields missing or of the wrong type')
  return header as SnapshotHeader
}
