/**
 * The JSONL-over-TCP wire format: one JSON object per line (UTF-8, `\n`-terminated). Quantities and prices are bigint
 * units inside egress; on the wire a bigint is `{"$units":"<integer>"}` so no amount ever passes through a float.
 *
 * Messages:
 *   client → venue  {"id":N,"op":"place"|"cancel"|"amend"|"orderStatus"|"openOrders"|"trades"|"balances"|"inspect","args":…}
 *   venue → client  {"id":N,"result":…}                     the answer to request N (a VenueOutcome, or inspect's view)
 *   venue → client  {"report":ExecutionReport}              an execution report, to every connected client
 *   venue → client  {"prices":[{symbol,price,observedAtMs}]} reference prices, pushed periodically
 *   venue → client  {"info":{"tradeHistoryMs":N}}          once, on connect: how long the venue keeps trades
 */

/** A line longer than this is refused (a broken peer): bounds the reassembly buffer. */
export const LINE_BYTES_MAX = 1024 * 1024

export function encodeLine(message: unknown): string {
  return `${JSON.stringify(message, (_key, value: unknown) => (typeof value === 'bigint' ? { $units: value.toString() } : value))}\n`
}

export function decodeLine(line: string): unknown {
  return JSON.parse(line, (_key, value: unknown) => {
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      const units = (value as { $units?: unknown }).$units
      if (typeof units === 'string' && Object.keys(value).length === 1 && /^-?\d+$/.test(units)) return BigInt(units)
    }
    return value
  })
}

/** Splits a byte stream into lines; bounded by LINE_BYTES_MAX. */
export class LineReader {
  private pending = ''
  private readonly decoder = new TextDecoder()

  push(bytes: Uint8Array): string[] {
    this.pending += this.decoder.decode(bytes, { stream: true })
    const lines = this.pending.split('\n')
    this.pending = lines.pop() ?? ''
    if (this.pending.length > LINE_BYTES_MAX) throw new RangeError(`a JSONL line exceeds ${LINE_BYTES_MAX} bytes`)
    return lines.filter((line) => line.length > 0)
  }
}
