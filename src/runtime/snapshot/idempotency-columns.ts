/**
 * The kernel's idempotency index in a snapshot. It is the one collection that grows with every order ever placed
 * (terminal orders leave the state, their keys stay: 283k entries at 2M events), so it is stored as binary columns
 * after the kernel section's JSON (state-codec.ts), not as JSON: parsing it was most of a snapshot load (the keys
 * column alone ~75 ms of JSON.parse, the 18 MB of hex digests another ~15 ms plus a ~25 ms hex check, measured on the
 * 2M bench snapshot).
 *
 *   u32 ×4   count, key text bytes, order id text bytes, rejected JSON bytes (little-endian)
 *   u16 ×n   each key's length in UTF-16 code units
 *   u16 ×n   each order id's length in UTF-16 code units
 *   u8  ×n   each outcome: 'a' accepted, 'r' rejected
 *   32  ×n   each body digest (SHA-256), raw
 *   [..]     every key, UTF-8, concatenated
 *   [..]     every order id, UTF-8, concatenated
 *   [..]     [position, reason, guard] of each rejected entry, UTF-8 JSON
 *   f64 ×n   each entry's decidedAtMs (little-endian; format 21 on: IDEMPOTENCY_TIMES_SHAPE)
 *
 * An older format's block has no times: its entries are read with decidedAtMs 0. No such log had the key window, and
 * the kernel stamps every entry it holds with the window's start when the window is adopted (src/kernel/key-window.ts),
 * as replaying the log does, so both reach the same state.
 * Keys and order ids are decoded as one string each and cut by their lengths; digests become one hex string cut every
 * 64 characters. Every part is checked on decode (sizes that add up exactly, valid UTF-8 whose length matches the
 * lengths, outcomes, a reason for exactly the rejected entries, no duplicate key), so a damaged block is refused, not
 * misread. `idempotencyColumnsSliced` writes the same bytes in slices (a live snapshot).
 */

import type { IdempotencyEntry } from '../../kernel/state.ts'
import { REASON_CODES } from '../../domain/reasons.ts'
import { CodecError } from './codec-kit.ts'
import { GenerationalMap } from '../../domain/generational-map.ts'

const DIGEST_BYTES = 32
const DIGEST_CHARS = DIGEST_BYTES * 2
const HEX_DIGEST = /^[0-9a-f]{64}$/
/** A lone surrogate has no UTF-8 form (it would come back as U+FFFD): refused when written. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/
const SURROGATE = /[\uD800-\uDFFF]/
const LENGTH_MAX = 0xffff
const HEADER_BYTES = 16
const OUTCOME_ACCEPTED = 97 // 'a'
const OUTCOME_REJECTED = 114 // 'r'
const REASON_SET = new Set<string>(REASON_CODES)

type Index = Map<string, IdempotencyEntry>
type Rejected = [number, IdempotencyEntry['reason'], string | null]

/** Hashed into the kernel-state schema id: a change of this layout refuses older snapshots. */
export const IDEMPOTENCY_COLUMNS_SHAPE =
  'idempotencyColumns/binary1(count,keyBytes,orderIdBytes,rejectedBytes:u32;keyLengths,orderIdLengths:u16;outcomes:u8(a|r);digests:sha256;keys,orderIds:utf8;rejected:json([num,nullable(reason),nullable(str)]))'

/** The times column (format 21 on), hashed into the schema id beside IDEMPOTENCY_COLUMNS_SHAPE. */
export const IDEMPOTENCY_TIMES_SHAPE = 'decidedAtMs:f64'

const TIME_BYTES = 8

/** Whether a block holds the times column: this build's format does, older ones do not. */
export interface ColumnsFormat {
  times: boolean
}

const WITH_TIMES: ColumnsFormat = { times: true }

/** Fills the fixed-width columns entry by entry (the index's size is known up front) and collects the text parts. */
class ColumnWriter {
  private at = 0
  private readonly lengths: DataView
  private readonly outcomes: Uint8Array
  private readonly digests: Uint8Array
  private keys: string[] = []
  private orderIds: string[] = []
  private digestText: string[] = []
  private flushed = 0
  /** Keys and order ids as UTF-8, one chunk per flush (whole strings, so no chunk ends inside a surrogate pair). */
  private readonly keyChunks: Uint8Array[] = []
  private readonly orderIdChunks: Uint8Array[] = []
  private readonly rejected: Rejected[] = []
  private readonly times: DataView

  constructor(private readonly count: number) {
    this.lengths = new DataView(new ArrayBuffer(count * 4))
    this.outcomes = new Uint8Array(count)
    this.digests = new Uint8Array(count * DIGEST_BYTES)
    this.times = new DataView(new ArrayBuffer(count * TIME_BYTES))
  }

  add(indexKey: string, entry: IdempotencyEntry): void {
    const at = this.at
    const where = `idempotency[${JSON.stringify(indexKey)}]`
    if (at >= this.count) throw new CodecError(`idempotency: more entries than the ${this.count} counted (the index changed while encoded)`)
    if (!HEX_DIGEST.test(entry.bodyDigest)) throw new CodecError(`${where}: body digest is not ${DIGEST_CHARS} lowercase hex characters`)
    if (indexKey.length > LENGTH_MAX || entry.orderId.length > LENGTH_MAX) throw new CodecError(`${where}: key or order id longer than ${LENGTH_MAX} characters`)
    if (!Number.isSafeInteger(entry.decidedAtMs) || entry.decidedAtMs < 0) throw new CodecError(`${where}: decidedAtMs ${entry.decidedAtMs} is not a time`)
    if (entry.outcome === 'rejected') this.rejected.push([at, entry.reason, entry.guard])
    else if (entry.reason !== null || entry.guard !== null) throw new CodecError(`${where}: an accepted entry holds a reason`)
    this.lengths.setUint16(at * 2, indexKey.length, true)
    this.lengths.setUint16((this.count + at) * 2, entry.orderId.length, true)
    this.outcomes[at] = entry.outcome === 'accepted' ? OUTCOME_ACCEPTED : OUTCOME_REJECTED
    this.times.setFloat64(at * TIME_BYTES, entry.decidedAtMs, true)
    this.keys.push(indexKey)
    this.orderIds.push(entry.orderId)
    this.digestText.push(entry.bodyDigest)
    this.at++
  }

  /**
   * Encodes what was added since the last flush: digests to bytes (one native hex decode), keys and order ids to
   * UTF-8 — per slice, so that the final assembly is only copies.
   */
  flush(): void {
    if (this.at === this.flushed) return
    this.digests.set(Buffer.from(this.digestText.join(''), 'hex'), this.flushed * DIGEST_BYTES)
    this.keyChunks.push(utf8Of(this.keys, 'keys'))
    this.orderIdChunks.push(utf8Of(this.orderIds, 'order ids'))
    this.flushed = this.at
    this.digestText = []
    this.keys = []
    this.orderIds = []
  }

  bytes(): Uint8Array {
    this.flush()
    if (this.at !== this.count) throw new CodecError(`idempotency: ${this.at} entries for the ${this.count} counted (the index changed while encoded)`)
    const rejected = new TextEncoder().encode(JSON.stringify(this.rejected))
    const parts = [new Uint8Array(this.lengths.buffer), this.outcomes, this.digests, ...this.keyChunks, ...this.orderIdChunks, rejected, new Uint8Array(this.times.buffer)]
    const bytes = new Uint8Array(HEADER_BYTES + parts.reduce((sum, part) => sum + part.byteLength, 0))
    const header = new DataView(bytes.buffer)
    const textBytes = (chunks: Uint8Array[]): number => chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0)
    ;[this.count, textBytes(this.keyChunks), textBytes(this.orderIdChunks), rejected.byteLength].forEach((value, index) => header.setUint32(index * 4, value, true))
    let offset = HEADER_BYTES
    for (const part of parts) {
      bytes.set(part, offset)
      offset += part.byteLength
    }
    return bytes
  }
}

/** The strings' UTF-8, concatenated; each string must be well-formed (checked one by one only if any surrogate is present). */
function utf8Of(strings: string[], column: string): Uint8Array {
  const text = strings.join('')
  if (SURROGATE.test(text) && strings.some((one) => LONE_SURROGATE.test(one))) throw new CodecError(`idempotency: the ${column} hold a lone surrogate (no UTF-8 form)`)
  return new TextEncoder().encode(text)
}

/** The index as binary columns. */
export function idempotencyColumns(index: Index): Uint8Array {
  const writer = new ColumnWriter(index.size)
  for (const [key, entry] of index) writer.add(key, entry)
  return writer.bytes()
}

/** The same bytes as idempotencyColumns, `entriesPerSlice` entries per step with a yield between. */
export async function idempotencyColumnsSliced(index: Index, options: { entriesPerSlice: number; pause: () => Promise<void> }): Promise<Uint8Array> {
  const writer = new ColumnWriter(index.size)
  let inSlice = 0
  for (const [key, entry] of index) {
    writer.add(key, entry)
    if (++inSlice < options.entriesPerSlice) continue
    writer.flush()
    inSlice = 0
    await options.pause()
  }
  return writer.bytes()
}

/** Decodes the columns (an older format's without times); throws CodecError naming the first problem. */
export function decodeIdempotencyColumns(bytes: Uint8Array, path: string, format: ColumnsFormat = WITH_TIMES): Index {
  const layout = layoutOf(bytes, path, format)
  const { count } = layout
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const keys = textOf(bytes, layout.keys, layout.keyLengths, view, count, `${path}.keys`)
  const orderIds = textOf(bytes, layout.orderIds, layout.orderIdLengths, view, count, `${path}.orderIds`)
  const digests = Buffer.from(bytes.buffer, bytes.byteOffset + layout.digests, count * DIGEST_BYTES).toString('hex')
  const details = rejectedDetails(bytes.subarray(layout.rejected, layout.times ?? bytes.byteLength), bytes.subarray(layout.outcomes, layout.outcomes + count), path)
  // Built as a plain Map and handed over whole: a GenerationalMap would look each new key up in every generation.
  const index = new Map<string, IdempotencyEntry>()
  let keyAt = 0
  let orderIdAt = 0
  for (let at = 0; at < count; at++) {
    const keyEnd = keyAt + view.getUint16(layout.keyLengths + at * 2, true)
    const orderIdEnd = orderIdAt + view.getUint16(layout.orderIdLengths + at * 2, true)
    const key = keys.slice(keyAt, keyEnd)
    const orderId = orderIds.slice(orderIdAt, orderIdEnd)
    const bodyDigest = digests.slice(at * DIGEST_CHARS, (at + 1) * DIGEST_CHARS)
    keyAt = keyEnd
    orderIdAt = orderIdEnd
    const outcome = bytes[layout.outcomes + at]
    const decidedAtMs = layout.times === null ? 0 : view.getFloat64(layout.times + at * TIME_BYTES, true)
    if (!Number.isSafeInteger(decidedAtMs) || decidedAtMs < 0) throw new CodecError(`${path}[${at}]: decidedAtMs ${decidedAtMs} is not a time`)
    if (outcome === OUTCOME_ACCEPTED) index.set(key, { bodyDigest, orderId, outcome: 'accepted', reason: null, guard: null, decidedAtMs })
    else {
      const detail = details.get(at)
      if (outcome !== OUTCOME_REJECTED || detail === undefined) throw new CodecError(`${path}[${at}]: outcome must be a (accepted) or r (rejected, with its reason)`)
      index.set(key, { bodyDigest, orderId, outcome: 'rejected', reason: detail.reason, guard: detail.guard, decidedAtMs })
    }
  }
  if (index.size !== count) throw new CodecError(`${path}: duplicate keys`)
  return new GenerationalMap(index)
}

interface Layout {
  count: number
  keyLengths: number
  orderIdLengths: number
  outcomes: number
  digests: number
  keys: { from: number; to: number }
  orderIds: { from: number; to: number }
  rejected: number
  /** Where the times start, null in an older format's block. */
  times: number | null
}

/** Where each column starts; the sizes must add up to the block exactly. */
function layoutOf(bytes: Uint8Array, path: string, format: ColumnsFormat): Layout {
  if (bytes.byteLength < HEADER_BYTES) throw new CodecError(`${path}: ${bytes.byteLength} bytes is shorter than the columns' header`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, HEADER_BYTES)
  const [count, keyBytes, orderIdBytes, rejectedBytes] = [0, 1, 2, 3].map((index) => view.getUint32(index * 4, true)) as [number, number, number, number]
  const keyLengths = HEADER_BYTES
  const orderIdLengths = keyLengths + count * 2
  const outcomes = orderIdLengths + count * 2
  const digests = outcomes + count
  const keys = digests + count * DIGEST_BYTES
  const orderIds = keys + keyBytes
  const rejected = orderIds + orderIdBytes
  const times = rejected + rejectedBytes
  if (times + (format.times ? count * TIME_BYTES : 0) !== bytes.byteLength) {
    throw new CodecError(`${path}: columns for ${count} entries (${keyBytes} + ${orderIdBytes} text bytes, ${rejectedBytes} rejected${format.times ? ', times' : ''}) do not add up to the block's ${bytes.byteLength} bytes`)
  }
  return { count, keyLengths, orderIdLengths, outcomes, digests, keys: { from: keys, to: orderIds }, orderIds: { from: orderIds, to: rejected }, rejected, times: format.times ? times : null }
}

/** One column's text, decoded at once (invalid UTF-8 refused), whose length must be the sum of the entries' lengths. */
function textOf(bytes: Uint8Array, range: { from: number; to: number }, lengthsAt: number, view: DataView, count: number, path: string): string {
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(range.from, range.to))
  } catch {
    throw new CodecError(`${path}: not valid UTF-8`)
  }
  let total = 0
  for (let at = 0; at < count; at++) total += view.getUint16(lengthsAt + at * 2, true)
  if (total !== text.length) throw new CodecError(`${path}: lengths add up to ${total} characters, the text holds ${text.length}`)
  return text
}

function rejectedDetails(json: Uint8Array, outcomes: Uint8Array, path: string): Map<number, { reason: IdempotencyEntry['reason']; guard: string | null }> {
  let rejected: unknown
  try {
    rejected = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(json))
  } catch {
    throw new CodecError(`${path}.rejected: not UTF-8 JSON`)
  }
  if (!Array.isArray(rejected)) throw new CodecError(`${path}.rejected: expected an array`)
  const details = new Map<number, { reason: IdempotencyEntry['reason']; guard: string | null }>()
  for (const item of rejected as unknown[]) {
    const [at, why, guard] = Array.isArray(item) && item.length === 3 ? item : []
    if (!Number.isSafeInteger(at) || (why !== null && (typeof why !== 'string' || !REASON_SET.has(why))) || (guard !== null && typeof guard !== 'string') || outcomes[at as number] !== OUTCOME_REJECTED) {
      throw new CodecError(`${path}.rejected: expected [position of a rejected entry, reason, guard], got ${JSON.stringify(item)?.slice(0, 60)}`)
    }
    details.set(at as number, { reason: why as IdempotencyEntry['reason'], guard: guard as string | null })
  }
  return details
}
