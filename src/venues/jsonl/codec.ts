/**
 * The JSONL-over-TCP wire format: one JSON object per line (UTF-8, `\n`-terminated). Quantities and prices are bigint
 * units inside egress; on the wire a bigint is `{"$units":"<integer>"}` so no amount ever passes through a float.
 *
 * Messages:
 *   client → venue  {"id":N,"op":"place"|"cancel"|"amend"|"orderStatus"|"openOrders"|"trades"|"balances"|"inspect","args":…}
 *   venue → client  {"id":N,"result":…}                     the answer to request N (a VenueOutcome, or inspect's view)
 *   `openOrders` with {account?, after?, afterAccount?, limit} answers one page: the open orders by client order id,
 *   then account, after (`after`, `afterAccount`: the last order of the page before), at most `limit`
 *   (OPEN_ORDERS_PAGE_MAX); a page shorter than `limit` is the last. An older venue refuses `afterAccount` (its schema
 *   is strict) and pages by `after` alone: the client asks it again so (client.ts openOrders).
 *   venue → client  {"report":ExecutionReport}              an execution report, to every connected client
 *   venue → client  {"prices":[{symbol,price,observedAtMs,touch?}]} reference prices, pushed periodically; a newer
 *                   venue may add members to an entry (or its touch) but never changes what one it had means, so a
 *                   client reads the members it knows and names the others (price-entry.ts)
 *   venue → client  {"info":{"tradeHistoryMs":N}}          once, on connect: how long the venue keeps trades
 *
 * This module only frames and parses: decodeLine throws on a line that is not JSON, and a line past LINE_BYTES_MAX
 * ends the stream (LineReader). What a decoded venue message must look like is checked in messages.ts.
 */

/** A line longer than this is refused (a broken peer): bounds the reassembly buffer. */
export const LINE_BYTES_MAX = 1024 * 1024

/**
 * Open orders per `openOrders` page. An order is at most about 700 bytes on the wire (four ids of up to 128
 * characters, three amounts), so a page stays well inside LINE_BYTES_MAX; one answer with every open order did not
 * (about 4,600 typical orders), and the client dropped the connection at every sweep (review of b1b05e6).
 */
export const OPEN_ORDERS_PAGE_MAX = 1_000

export function encodeLine(message: unknown): string {
  return `${JSON.stringify(message, (_key, value: unknown) => (typeof value === 'bigint' ? { $units: value.toString() } : value))}\n`
}

/**
 * The most digits a `$units` integer may have: far above any amount (2^128 has 39), and it keeps a peer from making
 * BigInt parse a megabyte of digits (~0.1 s of event loop per line). A longer one stays the object it was, which no
 * message schema accepts.
 */
export const UNITS_DIGITS_MAX = 40
const UNITS_PATTERN = new RegExp(`^-?\\d{1,${UNITS_DIGITS_MAX}}$`)

export function decodeLine(line: string): unknown {
  return JSON.parse(line, (_key, value: unknown) => {
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      const units = (value as { $units?: unknown }).$units
      if (typeof units === 'string' && Object.keys(value).length === 1 && UNITS_PATTERN.test(units)) return BigInt(units)
    }
    return value
  })
}

const NOTHING_PENDING = new Uint8Array(0)
/** The first size of the line-under-way buffer: a line split across two chunks fits it or one doubling. */
const PENDING_BYTES_MIN = 256

/**
 * Splits a byte stream into lines, bounded by LINE_BYTES_MAX bytes. A line past the bound, complete or not, ends the
 * stream: where the next line starts can no longer be trusted, so the caller drops the connection. Each line is
 * decoded as strict UTF-8 on its own (a `\n` byte never occurs inside a multi-byte character): a line that is not
 * UTF-8 is skipped and counted in `notUtf8Lines`, never read as text with replacement characters (an id with U+FFFD
 * in it passed every schema that takes a string).
 */
export class LineReader {
  /**
   * The bytes of the line under way, from earlier chunks (copied: the socket may reuse its buffer), in one buffer grown
   * by doubling up to LINE_BYTES_MAX. A copy per chunk kept about 100 bytes of heap per byte for a peer trickling a line
   * a byte per segment: some 100 MB held under the 1 MiB bound, per connection.
   */
  private pending: Uint8Array = NOTHING_PENDING
  private pendingBytes = 0
  private readonly decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
  /** True once a line passed LINE_BYTES_MAX; nothing more is read. */
  overlong = false
  /** Lines skipped so far because they were not UTF-8. */
  notUtf8Lines = 0

  /** The whole lines `bytes` completes; throws RangeError once a line passes LINE_BYTES_MAX. */
  push(bytes: Uint8Array): string[] {
    const lines = this.read(bytes)
    if (this.overlong) throw new RangeError(`a JSONL line exceeds ${LINE_BYTES_MAX} bytes`)
    return lines
  }

  /**
   * As `push`, but never throws: on a line past the bound it returns the lines before it and sets `overlong`, for a
   * caller (a socket callback) that must not throw and still wants the complete lines that came first.
   */
  read(bytes: Uint8Array): string[] {
    const lines: string[] = []
    let start = 0
    while (!this.overlong) {
      const newline = bytes.indexOf(0x0a, start)
      if (newline < 0) break
      const line = this.complete(bytes.subarray(start, newline))
      start = newline + 1
      if (line.byteLength > LINE_BYTES_MAX) this.overlong = true
      else if (line.byteLength > 0) this.decode(line, lines)
    }
    if (!this.overlong && start < bytes.byteLength) {
      if (this.pendingBytes + bytes.byteLength - start > LINE_BYTES_MAX) this.overlong = true
      else this.hold(bytes.subarray(start))
    }
    if (this.overlong) {
      this.pending = NOTHING_PENDING
      this.pendingBytes = 0
    }
    return lines
  }

  /** Appends `part` to the line under way (the caller keeps it within LINE_BYTES_MAX). */
  private hold(part: Uint8Array): void {
    const needed = this.pendingBytes + part.byteLength
    if (needed > this.pending.byteLength) {
      const grown = new Uint8Array(Math.min(LINE_BYTES_MAX, Math.max(needed, this.pending.byteLength * 2, PENDING_BYTES_MIN)))
      grown.set(this.pending.subarray(0, this.pendingBytes))
      this.pending = grown
    }
    this.pending.set(part, this.pendingBytes)
    this.pendingBytes = needed
  }

  /** The line that ends with `tail`: the pending bytes joined with it. */
  private complete(tail: Uint8Array): Uint8Array {
    if (this.pendingBytes === 0) return tail
    const line = new Uint8Array(this.pendingBytes + tail.byteLength)
    line.set(this.pending.subarray(0, this.pendingBytes))
    line.set(tail, this.pendingBytes)
    this.pending = NOTHING_PENDING
    this.pendingBytes = 0
    return line
  }

  private decode(line: Uint8Array, lines: string[]): void {
    try {
      lines.push(this.decoder.decode(line))
    } catch {
      this.notUtf8Lines++
    }
  }
}
