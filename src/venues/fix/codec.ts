/**
 * FIX tag=value codec (FIX 4.2 / 4.4): encoding with computed BodyLength and CheckSum, and a streaming frame reader
 * that validates both on the way in.
 *
 * Everything from the wire is hostile until proven otherwise: the reader holds at most `bufferBytesMax` bytes per
 * connection, refuses a BodyLength above `messageBytesMax` before waiting for the body, and reports every defect as
 * a `FixCodecError` — never another exception, never a crash. Bytes map 1:1 to string characters (latin1), so
 * BodyLength and CheckSum are computed over exactly the bytes on the wire.
 */

import { FixMessage, type FixField, type FixMessageDefect } from './message.ts'
import { repeatedTagDefect } from './repeated-tags.ts'
import { SessionRejectReason, Tag } from './tags.ts'

const SOH = 0x01
const SOH_CHAR = '\x01'

export type FixCodecErrorCode =
  /** The stream does not start with `8=...<SOH>9=...<SOH>`: framing is lost. */
  | 'framing'
  /** BodyLength is not a number, or above messageBytesMax. */
  | 'body_length'
  /** The bytes where BodyLength says the trailer is are not `10=NNN<SOH>`. */
  | 'trailer'
  /** The CheckSum does not match the bytes. The frame itself was intact. */
  | 'checksum'
  /**
   * The fields cannot be split (no "=", no SOH, a data field shorter than its length says), or MsgType is not the third
   * field. A message that splits but breaks a field rule is returned with a `defect` instead (FixMessageDefect).
   */
  | 'field'
  /** The connection's buffer would exceed bufferBytesMax. */
  | 'buffer_full'
  /** An outgoing value cannot be encoded (SOH or a non-latin1 character in it): a bug in the caller. */
  | 'encode'

export class FixCodecError extends Error {
  override readonly name = 'FixCodecError'
  readonly code: FixCodecErrorCode
  /**
   * True when the bad frame was consumed whole and the next frame can be read (bad checksum, bad field): FIX treats
   * such a message as garbled and ignores it; the sequence gap it leaves is healed by a ResendRequest. False when
   * framing is lost and the connection must be dropped.
   */
  readonly recoverable: boolean
  /** MsgSeqNum of the offending message when it could be read (for a session-level Reject). */
  readonly seqNum: number | undefined

  constructor(code: FixCodecErrorCode, message: string, options: { recoverable: boolean; seqNum?: number }) {
    super(message)
    this.code = code
    this.recoverable = options.recoverable
    this.seqNum = options.seqNum
  }
}

export interface FixCodecLimits {
  /** Largest BodyLength accepted. */
  messageBytesMax: number
  /** Largest number of unread bytes held per connection. */
  bufferBytesMax: number
}

export const FIX_CODEC_LIMITS_DEFAULT: FixCodecLimits = { messageBytesMax: 64 * 1024, bufferBytesMax: 1024 * 1024 }

/** Length-prefixed data fields (length tag → data tag): their values may contain SOH. */
const DATA_FIELD_BY_LENGTH_TAG: ReadonlyMap<number, number> = new Map([
  [90, 91], [93, 89], [95, 96], [212, 213], [348, 349], [350, 351], [352, 353], [354, 355], [356, 357],
  [358, 359], [360, 361], [362, 363], [364, 365], [445, 446], [618, 619], [621, 622],
])
const LENGTH_TAG_BY_DATA_FIELD: ReadonlyMap<number, number> = new Map(
  [...DATA_FIELD_BY_LENGTH_TAG].map(([length, data]) => [data, length]),
)

// ── encoding ─────────────────────────────────────────────────────────────────────────────────────────────────────

/**
 * Encodes one message. `fields` start with MsgType (35) and carry the header (49, 56, 34, 52, …) and body in the
 * order they should appear; BeginString, BodyLength and CheckSum are added here.
 */
export function encodeFixMessage(beginString: string, fields: readonly FixField[]): Uint8Array {
  const first = fields[0]
  if (first === undefined || first[0] !== Tag.MsgType) {
    throw new FixCodecError('encode', 'the first field must be MsgType (35)', { recoverable: false })
  }
  let body = ''
  for (const [tag, value] of fields) {
    checkOutgoingField(tag, value)
    body += `${tag}=${value}${SOH_CHAR}`
  }
  checkOutgoingField(Tag.BeginString, beginString)
  const head = `8=${beginString}${SOH_CHAR}9=${body.length}${SOH_CHAR}`
  const withoutTrailer = latin1Bytes(head + body)
  const checksum = checksumOf(withoutTrailer, withoutTrailer.length)
  const out = new Uint8Array(withoutTrailer.length + 7)
  out.set(withoutTrailer, 0)
  out.set(latin1Bytes(`10=${formatChecksum(checksum)}${SOH_CHAR}`), withoutTrailer.length)
  return out
}

function checkOutgoingField(tag: number, value: string): void {
  if (!Number.isSafeInteger(tag) || tag <= 0) {
    throw new FixCodecError('encode', `tag must be a positive integer, got ${tag}`, { recoverable: false })
  }
  const isData = LENGTH_TAG_BY_DATA_FIELD.has(tag)
  // eslint-disable-next-line no-control-regex
  if (value.length === 0 || /[^\x00-\xff]/.test(value) || (!isData && value.includes(SOH_CHAR))) {
    throw new FixCodecError('encode', `tag ${tag}: a value must be non-empty latin1 without SOH, got ${JSON.stringify(value)}`, {
      recoverable: false,
    })
  }
}

export function checksumOf(bytes: Uint8Array, end: number): number {
  let sum = 0
  for (let i = 0; i < end; i++) sum += bytes[i] ?? 0
  return sum % 256
}

function formatChecksum(checksum: number): string {
  return checksum.toString().padStart(3, '0')
}

function latin1Bytes(text: string): Uint8Array {
  return Buffer.from(text, 'latin1')
}

// ── decoding ─────────────────────────────────────────────────────────────────────────────────────────────────────

/** Decodes exactly one complete frame (the whole of `bytes`). */
export function decodeFixMessage(bytes: Uint8Array, limits: FixCodecLimits = FIX_CODEC_LIMITS_DEFAULT): FixMessage {
  const reader = new FixFrameReader(limits)
  reader.push(bytes)
  const message = reader.next()
  if (message === null) throw new FixCodecError('framing', `truncated: ${bytes.length} bytes do not hold a whole message`, { recoverable: false })
  if (reader.bufferedBytes !== 0) {
    throw new FixCodecError('framing', `${reader.bufferedBytes} bytes follow the message`, { recoverable: false })
  }
  return message
}

/**
 * Splits a byte stream into FIX messages. `push` appends received bytes; `next` returns the next whole message,
 * null when more bytes are needed, or throws `FixCodecError`. After an unrecoverable error the reader stays broken.
 */
/**
 * A frame whose BodyLength is over messageBytesMax is not held whole: up to this many times messageBytesMax it is read
 * through (its CheckSum summed as it passes, its first OVERSIZED_HEAD_BYTES kept) and returned as a message with a
 * defect, so the session refuses it in its turn and consumes its number. Dropping the connection at it instead had the
 * venue resend it after every reconnect, each time dropping the connection again, for good, with every later message
 * (fills included) behind it. Beyond this factor the BodyLength is taken for garbage: framing is lost.
 */
export const OVERSIZED_MESSAGE_FACTOR_MAX = 16
/** Bytes of an oversized message's body kept to read its header and first fields (MsgType, MsgSeqNum, ClOrdID). */
const OVERSIZED_HEAD_BYTES = 4096

/** An oversized frame being read through (see OVERSIZED_MESSAGE_FACTOR_MAX). */
interface OversizedFrame {
  bodyLength: number
  bodyStart: number
  bodyEnd: number
  total: number
  consumed: number
  checksum: number
  /** The frame's first bytes, through the first OVERSIZED_HEAD_BYTES of the body. */
  head: Uint8Array
  /** Its last 7 bytes, the trailer. */
  trailer: Uint8Array
}

export class FixFrameReader {
  readonly #limits: FixCodecLimits
  #buffer: Uint8Array = new Uint8Array(0)
  #broken: FixCodecError | null = null
  #oversized: OversizedFrame | null = null

  constructor(limits: FixCodecLimits = FIX_CODEC_LIMITS_DEFAULT) {
    this.#limits = limits
  }

  get bufferedBytes(): number {
    return this.#buffer.length
  }

  push(bytes: Uint8Array): void {
    if (this.#broken !== null) throw this.#broken
    if (this.#buffer.length + bytes.length > this.#limits.bufferBytesMax) {
      this.#fail('buffer_full', `buffer would hold ${this.#buffer.length + bytes.length} bytes, bufferBytesMax is ${this.#limits.bufferBytesMax}`)
    }
    const joined = new Uint8Array(this.#buffer.length + bytes.length)
    joined.set(this.#buffer, 0)
    joined.set(bytes, this.#buffer.length)
    this.#buffer = joined
  }

  next(): FixMessage | null {
    if (this.#broken !== null) throw this.#broken
    if (this.#oversized !== null) return this.#readThroughOversized(this.#oversized)
    const frame = this.#frameLength()
    if (frame === null) return this.#oversized === null ? null : this.#readThroughOversized(this.#oversized)
    const bytes = this.#buffer.subarray(0, frame.total)
    this.#buffer = this.#buffer.subarray(frame.total)
    const received = readChecksum(bytes, frame.bodyEnd)
    const computed = checksumOf(bytes, frame.bodyEnd)
    const text = Buffer.from(bytes.subarray(0, frame.bodyEnd)).toString('latin1')
    if (received !== computed) {
      throw new FixCodecError('checksum', `CheckSum ${received} does not match computed ${computed}`, {
        recoverable: true,
        ...seqNumHint(text),
      })
    }
    return parseFields(text, frame.bodyStart)
  }

  /** Validates the `8=…|9=…|` prefix and returns the frame geometry, or null when more bytes are needed. */
  #frameLength(): { bodyStart: number; bodyEnd: number; total: number } | null {
    const buffer = this.#buffer
    if (buffer.length === 0) return null
    // "8=" then a BeginString of at most 16 bytes then SOH.
    if (!startsWith(buffer, [0x38, 0x3d])) return this.#fail('framing', `expected "8=" at the start of a message, got ${preview(buffer)}`)
    const beginEnd = indexOfByte(buffer, SOH, 2, 2 + 17)
    if (beginEnd === -1) return buffer.length >= 2 + 17 ? this.#fail('framing', `BeginString too long: ${preview(buffer)}`) : null
    const lengthStart = beginEnd + 1
    if (buffer.length < lengthStart + 2) return null
    if (buffer[lengthStart] !== 0x39 || buffer[lengthStart + 1] !== 0x3d) {
      return this.#fail('framing', `expected "9=" after BeginString, got ${preview(buffer.subarray(lengthStart))}`)
    }
    const digitsStart = lengthStart + 2
    const lengthEnd = indexOfByte(buffer, SOH, digitsStart, digitsStart + 8)
    if (lengthEnd === -1) return buffer.length >= digitsStart + 8 ? this.#fail('body_length', `BodyLength too long: ${preview(buffer)}`) : null
    const digits = Buffer.from(buffer.subarray(digitsStart, lengthEnd)).toString('latin1')
    if (!/^[0-9]{1,7}$/.test(digits)) return this.#fail('body_length', `BodyLength must be digits, got ${JSON.stringify(digits)}`)
    const bodyLength = Number(digits)
    if (bodyLength > this.#limits.messageBytesMax * OVERSIZED_MESSAGE_FACTOR_MAX) {
      return this.#fail('body_length', `BodyLength ${bodyLength} exceeds ${OVERSIZED_MESSAGE_FACTOR_MAX} × messageBytesMax ${this.#limits.messageBytesMax}`)
    }
    const bodyStart = lengthEnd + 1
    const bodyEnd = bodyStart + bodyLength
    const total = bodyEnd + 7
    if (bodyLength > this.#limits.messageBytesMax) {
      const head = new Uint8Array(bodyStart + Math.min(bodyLength, OVERSIZED_HEAD_BYTES))
      this.#oversized = { bodyLength, bodyStart, bodyEnd, total, consumed: 0, checksum: 0, head, trailer: new Uint8Array(7) }
      return null
    }
    if (total > this.#limits.bufferBytesMax) {
      return this.#fail('body_length', `a ${total}-byte message cannot fit bufferBytesMax ${this.#limits.bufferBytesMax}`)
    }
    if (buffer.length < total) return null
    if (!isTrailer(buffer, bodyEnd)) {
      return this.#fail('trailer', `BodyLength ${bodyLength} does not end at "10=NNN<SOH>": ${preview(buffer.subarray(Math.max(0, bodyEnd - 8)))}`)
    }
    return { bodyStart, bodyEnd, total }
  }

  /**
   * Reads an oversized frame through as its bytes come, holding only its head and trailer; once whole, returns it as a
   * message with a defect (its head's fields only), or throws as for any frame (bad trailer: framing lost; bad
   * CheckSum or an unreadable head: garbled).
   */
  #readThroughOversized(frame: OversizedFrame): FixMessage | null {
    const take = Math.min(this.#buffer.length, frame.total - frame.consumed)
    for (let index = 0; index < take; index++) {
      const at = frame.consumed + index
      const byte = this.#buffer[index] ?? 0
      if (at < frame.bodyEnd) frame.checksum += byte
      if (at < frame.head.length) frame.head[at] = byte
      else if (at >= frame.bodyEnd) frame.trailer[at - frame.bodyEnd] = byte
    }
    this.#buffer = this.#buffer.subarray(take)
    frame.consumed += take
    if (frame.consumed < frame.total) return null
    this.#oversized = null
    if (!isTrailer(frame.trailer, 0)) return this.#fail('trailer', `BodyLength ${frame.bodyLength} does not end at "10=NNN<SOH>": ${preview(frame.trailer)}`)
    const headText = Buffer.from(frame.head).toString('latin1')
    const text = headText.slice(0, headText.lastIndexOf(SOH_CHAR) + 1)
    const received = readChecksum(frame.trailer, 0)
    if (received !== frame.checksum % 256) {
      throw new FixCodecError('checksum', `CheckSum ${received} does not match computed ${frame.checksum % 256}`, { recoverable: true, ...seqNumHint(text) })
    }
    const read = parseFields(text, frame.bodyStart, { cut: true })
    return new FixMessage(read.beginString, read.fields, {
      reason: SessionRejectReason.valueIncorrect,
      refTagId: Tag.BodyLength,
      text: `BodyLength ${frame.bodyLength} exceeds messageBytesMax ${this.#limits.messageBytesMax}: the message was not read`,
    })
  }

  #fail(code: FixCodecErrorCode, message: string): never {
    this.#broken = new FixCodecError(code, message, { recoverable: false })
    throw this.#broken
  }
}

/**
 * `cut`: `text` is an oversized frame's kept head, cut short. A data field whose value runs past its end (the likely
 * reason the message is that large) ends the fields read: taken for garbled, the message was ignored, its number never
 * consumed, and the venue's resend of the same bytes ignored again, every later message queued above the gap for good.
 */
function parseFields(text: string, bodyStart: number, options: { cut: boolean } = { cut: false }): FixMessage {
  const beginString = text.slice(2, text.indexOf(SOH_CHAR))
  const fields: FixField[] = []
  let defect: FixMessageDefect | undefined
  let position = bodyStart
  let pendingDataLength: { dataTag: number; length: number } | null = null
  while (position < text.length) {
    const equals = text.indexOf('=', position)
    if (equals === -1) throw fieldError(`no "=" after byte ${position}`, text)
    const tagText = text.slice(position, equals)
    const tag = /^[1-9][0-9]{0,8}$/.test(tagText) ? Number(tagText) : Number.NaN
    let valueEnd: number
    if (pendingDataLength !== null && pendingDataLength.dataTag === tag) {
      valueEnd = equals + 1 + pendingDataLength.length
      if (options.cut && valueEnd >= text.length) break
      if (text.charCodeAt(valueEnd) !== SOH) throw fieldError(`data field ${tag} is not ${pendingDataLength.length} bytes long`, text)
    } else {
      valueEnd = text.indexOf(SOH_CHAR, equals + 1)
      if (valueEnd === -1) throw fieldError(`field ${tagText.slice(0, 16)} has no SOH`, text)
    }
    const value = text.slice(equals + 1, valueEnd)
    position = valueEnd + 1
    pendingDataLength = null
    const problem = fieldProblem(tagText, tag, value)
    if (problem !== null) {
      // Before MsgType the header is not readable: garbled. After it, the message is read and rejected (FixMessageDefect).
      if (fields.length === 0) throw fieldError(problem.text, text)
      defect ??= problem
      continue
    }
    fields.push([tag, value])
    const dataTag = DATA_FIELD_BY_LENGTH_TAG.get(tag)
    if (dataTag !== undefined) pendingDataLength = { dataTag, length: Number(value) }
  }
  const first = fields[0]
  if (first === undefined || first[0] !== Tag.MsgType) throw fieldError('MsgType (35) must be the third field', text)
  return new FixMessage(beginString, fields, defect ?? repeatedTagDefect(first[1], fields))
}

/** What is wrong with one field of a readable message, or null (`tag` is NaN when `tagText` is not a tag). */
function fieldProblem(tagText: string, tag: number, value: string): FixMessageDefect | null {
  if (Number.isNaN(tag)) {
    const text = `tag ${JSON.stringify(tagText.slice(0, 16))} is not a positive number`
    return /^-?[0-9]{1,9}$/.test(tagText) ? { reason: SessionRejectReason.invalidTagNumber, refTagId: Number(tagText), text } : { reason: SessionRejectReason.invalidTagNumber, text }
  }
  if (value.length === 0) return { reason: SessionRejectReason.tagWithoutValue, refTagId: tag, text: `tag ${tag} has no value` }
  if (DATA_FIELD_BY_LENGTH_TAG.has(tag) && !/^[0-9]{1,7}$/.test(value)) {
    return { reason: SessionRejectReason.incorrectDataFormat, refTagId: tag, text: `length field ${tag} must be digits, got ${JSON.stringify(value.slice(0, 16))}` }
  }
  return null
}

function fieldError(message: string, text: string): FixCodecError {
  return new FixCodecError('field', message, { recoverable: true, ...seqNumHint(text) })
}

/** MsgSeqNum read leniently from a message that failed validation, so a Reject can reference it. */
function seqNumHint(text: string): { seqNum?: number } {
  const match = /\x0134=([1-9][0-9]{0,9})\x01/.exec(text)
  if (match?.[1] === undefined) return {}
  const seqNum = Number(match[1])
  return Number.isSafeInteger(seqNum) ? { seqNum } : {}
}

function readChecksum(bytes: Uint8Array, bodyEnd: number): number {
  return ((bytes[bodyEnd + 3] ?? 0) - 0x30) * 100 + ((bytes[bodyEnd + 4] ?? 0) - 0x30) * 10 + ((bytes[bodyEnd + 5] ?? 0) - 0x30)
}

function isTrailer(buffer: Uint8Array, at: number): boolean {
  return (
    buffer[at] === 0x31 && buffer[at + 1] === 0x30 && buffer[at + 2] === 0x3d &&
    isDigit(buffer[at + 3]) && isDigit(buffer[at + 4]) && isDigit(buffer[at + 5]) && buffer[at + 6] === SOH
  )
}

function isDigit(byte: number | undefined): boolean {
  return byte !== undefined && byte >= 0x30 && byte <= 0x39
}

function startsWith(buffer: Uint8Array, bytes: readonly number[]): boolean {
  for (let i = 0; i < bytes.length; i++) {
    const byte = buffer[i]
    if (byte === undefined) return true // not enough bytes yet to disagree
    if (byte !== bytes[i]) return false
  }
  return true
}

function indexOfByte(buffer: Uint8Array, byte: number, from: number, until: number): number {
  const end = Math.min(buffer.length, until)
  for (let i = from; i < end; i++) if (buffer[i] === byte) return i
  return -1
}

function preview(bytes: Uint8Array): string {
  return JSON.stringify(Buffer.from(bytes.subarray(0, 32)).toString('latin1').replaceAll(SOH_CHAR, '|'))
}
