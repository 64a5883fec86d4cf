/**
 * The buffer binary payloads are written into (binary-layout.ts gives the format), and the primitives the compiled
 * record writers (binary-writer.ts) and the JSON part writer (json-part-writer.ts) call. Nothing here checks a value's
 * type: the callers do.
 *
 * Records are written back to back into a slab and each payload is a view of its own bytes there, not a copy: a slab
 * is never written again below the end of its last finished record (a refused record's bytes are only ever written
 * over by the next record, and are in no view), so a payload stays as written for as long as anyone holds it — which
 * then keeps its whole slab in memory (the log's append queue and a standby's comparison hold payloads until written
 * or compared). A record that outgrows the slab continues in a larger copy, at the same offsets; the next record then
 * starts a slab of the usual size, so small payloads never keep a large one alive.
 */

import { AssertionError } from '../assert.ts'
import { wordIndexOf } from './vocabulary.ts'

/** A new slab's size; a record larger than a slab gets a larger one. */
export const SLAB_BYTES = 65_536
/** A record starts in a new slab when less than this is left in the current one (a copy mid-record is wasted work). */
const RECORD_ROOM_BYTES_MIN = 4096
const encoder = new TextEncoder()

export class PayloadWriter {
  /** The slab's buffer, kept to make payload views from without the `buffer` getter. */
  private slab = new ArrayBuffer(SLAB_BYTES)
  bytes = new Uint8Array(this.slab)
  view = new DataView(this.slab)
  position = 0
  /** Where the record being written starts; the slab's bytes before it belong to finished records' payloads. */
  private recordStart = 0

  /** Starts a record after the last finished one (over a refused one's bytes). */
  begin(): void {
    if (this.bytes.length - this.recordStart < RECORD_ROOM_BYTES_MIN || this.bytes.length !== SLAB_BYTES) {
      this.useSlab(new ArrayBuffer(SLAB_BYTES))
      this.recordStart = 0
    }
    this.position = this.recordStart
  }

  /** The record written since begin(), as a view of the slab that is never written again. */
  finish(): Uint8Array {
    const start = this.recordStart
    this.recordStart = this.position
    return new Uint8Array(this.slab, start, this.position - start)
  }

  /** Makes room for `count` more bytes after the position. */
  reserve(count: number): void {
    if (this.position + count > this.bytes.length) this.grow(this.position + count)
  }

  byte(value: number): void {
    this.reserve(1)
    this.bytes[this.position++] = value
  }

  /** A non-negative safe integer, 7 bits per byte, low bits first, in its shortest form. */
  varint(value: number): void {
    this.reserve(8)
    this.position = this.varintAt(this.position, value)
  }

  /**
   * -0 is written as 0: they are equal (===), canonical JSON (version 1, and the command record a standby decides
   * from) writes both as `0`, so a standby deciding the same command must get the same bytes whichever it holds.
   */
  float64(value: number): void {
    this.reserve(8)
    this.view.setFloat64(this.position, value === 0 ? 0 : value, true)
    this.position += 8
  }

  /** Starts a length-prefixed object; endObject(its answer) writes the members' byte length into the u32 prefix. */
  beginObject(): number {
    this.reserve(4)
    const lengthAt = this.position
    this.position += 4
    return lengthAt
  }

  endObject(lengthAt: number): void {
    this.view.setUint32(lengthAt, this.position - lengthAt - 4, true)
  }

  /** A string as varint byte length + UTF-8. Throws AssertionError for a lone surrogate (UTF-8 cannot hold one). */
  string(value: string): void {
    this.prefixedText(value, 1)
  }

  /**
   * A string in the compact format (binary-layout.ts): a word of the vocabulary as the varint of 2 × its index + 1,
   * any other string as the varint of 2 × its byte length, then its UTF-8.
   */
  word(value: string): void {
    const index = wordIndexOf(value)
    if (index >= 0) this.varint(index * 2 + 1)
    else this.prefixedText(value, 2)
  }

  /** `value` after the varint of its UTF-8 byte length × `lengthScale`. */
  private prefixedText(value: string, lengthScale: 1 | 2): void {
    const length = value.length
    const prefix = length * lengthScale
    // ASCII (every id, code and decimal the kernel writes) goes straight in after its length, which is then its byte
    // count; anything else through the encoder, over what the ASCII attempt left.
    const prefixBytes = prefix < 0x80 ? 1 : varintBytes(prefix)
    this.reserve(prefixBytes + length)
    const start = this.position + prefixBytes
    if (this.asciiPrefix(value, start) === length) {
      this.varintAt(this.position, prefix)
      this.position = start + length
      return
    }
    this.nonAsciiString(value, lengthScale)
  }

  /**
   * Text already in its final form (JSON text, canonical decimals) as its UTF-8 bytes, without a length prefix. The
   * text must be well-formed (JSON.stringify's output always is): the encoder would write U+FFFD for a lone surrogate.
   */
  utf8(text: string): void {
    const length = text.length
    this.reserve(length)
    const start = this.position
    const index = this.asciiPrefix(text, start)
    if (index === length) {
      this.position = start + length
      return
    }
    this.position = start + index
    this.encodeRest(text.slice(index))
  }

  /** Copies `text`'s leading ASCII characters to `start` (room reserved); returns how many (its length if all). */
  private asciiPrefix(text: string, start: number): number {
    const bytes = this.bytes
    const length = text.length
    let index = 0
    for (; index < length; index++) {
      const code = text.charCodeAt(index)
      if (code >= 0x80) break
      bytes[start + index] = code
    }
    return index
  }

  /** Bytes as they are. */
  raw(source: Uint8Array): void {
    const length = source.length
    this.reserve(length)
    const bytes = this.bytes
    const start = this.position
    for (let index = 0; index < length; index++) bytes[start + index] = source[index] as number
    this.position = start + length
  }

  /** An integer of magnitude below 2^31 in decimal ASCII, as String writes it (-0 as 0). */
  integer(value: number): void {
    this.reserve(11)
    const bytes = this.bytes
    let magnitude = value < 0 ? -value : value
    if (value < 0) bytes[this.position++] = 0x2d
    let digits = 1
    for (let rest = magnitude; rest >= 10; rest = (rest / 10) | 0) digits++
    let at = this.position + digits
    this.position = at
    do {
      const quotient = (magnitude / 10) | 0
      bytes[--at] = 0x30 + magnitude - quotient * 10
      magnitude = quotient
    } while (magnitude > 0)
  }

  /**
   * Starts a member whose varint byte length is known only once it is written (a JSON part): one byte is kept for the
   * length, and endVarintPrefixed(its answer) writes it, moving the member up when it needs more.
   */
  beginVarintPrefixed(): number {
    this.reserve(1)
    return this.position++
  }

  endVarintPrefixed(lengthAt: number): void {
    const length = this.position - lengthAt - 1
    if (length < 0x80) {
      this.bytes[lengthAt] = length
      return
    }
    const extra = varintBytes(length) - 1
    this.reserve(extra)
    this.bytes.copyWithin(lengthAt + 1 + extra, lengthAt + 1, this.position)
    this.position += extra
    this.varintAt(lengthAt, length)
  }

  /** Writes the varint of `value` at `at`, over bytes already reserved; answers the index after it. */
  private varintAt(at: number, value: number): number {
    const bytes = this.bytes
    let index = at
    let rest = value
    while (rest >= 0x80) {
      bytes[index++] = (rest % 0x80) | 0x80
      rest = Math.floor(rest / 0x80)
    }
    bytes[index] = rest
    return index + 1
  }

  private nonAsciiString(value: string, lengthScale: 1 | 2): void {
    // UTF-8 cannot hold a lone surrogate (the encoder would write U+FFFD and the log would differ from the state):
    // commands are made well-formed before the kernel decides (src/domain/well-formed.ts), so this is a bug.
    if (!value.isWellFormed()) throw new AssertionError('a string with a lone surrogate cannot be logged: make commands well-formed before deciding')
    this.varint(utf8ByteLength(value) * lengthScale)
    this.encodeRest(value)
  }

  /** Well-formed text at the position: at most 3 bytes per UTF-16 code unit. */
  private encodeRest(text: string): void {
    this.reserve(text.length * 3)
    const { read, written } = encoder.encodeInto(text, this.bytes.subarray(this.position))
    if (read !== text.length) throw new AssertionError(`payload writer: encoded ${read} of ${text.length} code units`)
    this.position += written
  }

  /** A larger slab holding the record so far at the same offsets (positions kept by the caller stay valid). */
  private grow(needed: number): void {
    let size = this.bytes.length * 2
    while (size < needed) size *= 2
    const previous = this.bytes
    this.useSlab(new ArrayBuffer(size))
    this.bytes.set(previous.subarray(this.recordStart, this.position), this.recordStart)
  }

  private useSlab(slab: ArrayBuffer): void {
    this.slab = slab
    this.bytes = new Uint8Array(slab)
    this.view = new DataView(slab)
  }
}

/** How many bytes the varint of `value` takes. */
export function varintBytes(value: number): number {
  let count = 1
  let rest = value
  while (rest >= 0x80) {
    rest = Math.floor(rest / 0x80)
    count++
  }
  return count
}

/** The UTF-8 byte count of a well-formed string (a surrogate pair is one 4-byte code point). */
function utf8ByteLength(value: string): number {
  let count = 0
  const length = value.length
  for (let index = 0; index < length; index++) {
    const code = value.charCodeAt(index)
    if (code < 0x80) count += 1
    else if (code < 0x800) count += 2
    else if (code >= 0xd800 && code <= 0xdbff) {
      count += 4
      index++
    } else count += 3
  }
  return count
}
