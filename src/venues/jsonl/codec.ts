/**
 * The JSONL-over-TCP wire format: one JSON object per line (UTF-8, `\n`-terminated). Quantities and prices are bigint
 * units inside egress; on the wire a bigint is `{"$units":"<integer>"}` so no amount ever passes through a float.
 *
 * Messages:
 *   client → venue  {"id":N,"op":"place"|"cancel"|"amend"|"orderStatus"|"openOrders"|"trades"|"balances"|"inspect","args":…}
 *   venue → client  {"id":N,"result":…}                     the answer to request N (a VenueOutcome, or inspect's view)
 *   `openOrders` with {account?, after?, limit} answers one page: the open orders by client order id after `after`,
 *   at most `limit` (OPEN_ORDERS_PAGE_MAX); a page shorter than `limit` is the last.
 *   venue → client  {"report":ExecutionReport}              an execution report, to every connected client
 *   venue → client  {"prices":[{symbol,price,observedAtMs}]} reference prices, pushed periodically
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

/**
 * Splits a byte stream into lines, bounded by LINE_BYTES_MAX (counted in UTF-16 code units, as JavaScript measures a
 * string). A line past the bound, complete or not, ends the stream: where the next line starts can no longer be
 * trusted, so the caller drops the connection.
 */
export class LineReader {
  private pending = ''
  private readonly decoder = new TextDecoder()
  /** True once a line passed LINE_BYTES_MAX; nothing more is read. */
  overlong = false

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
    if (this.overlong) return []
    this.pending += this.decoder.decode(bytes, { stream: true })
    const parts = this.pending.split('\n')
    this.pending = parts.pop() ?? ''
    const lines: string[] = []
    for (const part of parts) {
      if (part.length > LINE_BYTES_MAX) {
        this.overlong = true
        break
      }
      if (part.length > 0) lines.push(part)
    }
    if (this.pending.length > LINE_BYTES_MAX) this.overlong = true
    if (this.overlong) this.pending = ''
    return lines
  }
}
