/**
 * A VenueAdapter for a venue behind JSONL over TCP (the standalone sim venue). Answers are classified as the adapter
 * contract requires: not connected before sending → `retryable` (the venue cannot have acted); connection lost or no
 * answer within `requestTimeoutMs` after sending → `unknown` (it may have acted: reconcile). Never rejects.
 * Reconnects with bounded backoff. Reference prices pushed by the venue are cached for the data-health guard.
 *
 * The venue sends a report once, to the clients connected then, and never again: every report of the time a connection
 * was down is lost (a fill included). So a connection made after a lost one asks the gateway to read back every order
 * open at the venue (onVenueReadBackWanted), as a FIX session whose numbering restarted does.
 *
 * Ordering (the adapter contract in ../adapter.ts): every call writes its request line synchronously, in call order,
 * on the one TCP connection, and the server hands lines to its venue in arrival order — so calls for one symbol reach
 * the venue in the order issued. Bun's socket.write is unbuffered (under backpressure it takes part of a line), so lines
 * go through a LineWriter that keeps the unwritten tail and later lines in a bounded FIFO flushed on drain; past the
 * bound the connection is dropped and every request on it is `unknown` (reconciled, never resent blindly).
 *
 * Everything the venue sends is checked (schemas in messages.ts) before it reaches a caller, the kernel's inbox or the
 * reference-price cache, and nothing it sends makes the socket callback throw. Bad input is logged as one line led by
 * a JsonlLogCode (reasons.ts) naming the path of the first issue, never the whole payload — at most INPUT_LOG_LINES_MAX
 * such lines per window, the rest counted into one summary line (input-log.ts) — and then:
 *   - an answer whose result does not fit its request's op (each pending id remembers its op: pending-requests.ts): the call resolves
 *     `unknown` with reason `jsonl_answer_invalid: <path>: <issue>` (every reason leads with a JsonlReason code), because the venue may have acted — reconciled,
 *     never assumed failed and never resent (`inspect`, for tests and drills, gets the venue's view as it comes);
 *   - a report, or one entry of a price push, that does not fit: dropped (a report naming an order of egress's asks
 *     it read back: onReadBackWanted); the valid entries of the push still apply
 *     (members of an entry the client does not read are left out and named once per connection: price-entry.ts);
 *     a report naming another venue than this connection's is dropped too;
 *   - a line that is not UTF-8, not JSON, or JSON of no known shape: skipped; the lines after it are read as usual
 *     (a call whose answer was skipped resolves `unknown` at its timeout);
 *   - an answer to an id with no call in flight (never asked, or settled already): logged and skipped;
 *   - a line past LINE_BYTES_MAX: the lines before it are read, then the connection is dropped (framing is lost), so
 *     requests in flight become `unknown` as on any lost connection, and the client reconnects;
 *   - nothing at all for silenceMsMax (a half-open connection, silence-watch.ts): dropped so too.
 */

import type { Socket } from 'bun'
import type * as v from 'valibot'
import {
  reasonCodeIn, type AmendRequest, type CancelRequest, type ExecutionReport, type PlaceAck, type PlaceRequest, type VenueAdapter, type VenueBalance,
  type VenueOrder, type VenueOutcome, type VenueTrade,
} from '../adapter.ts'
import { LINE_BYTES_MAX, LineReader, decodeLine, encodeLine } from './codec.ts'
import { InputLog, INPUT_LOG_LINES_MAX, INPUT_LOG_WINDOW_MS } from './input-log.ts'
import { LineWriter } from './line-writer.ts'
import { listOpenOrders, OPEN_ORDERS_PAGES_MAX } from './open-orders-page.ts'
import { REFERENCE_SYMBOLS_MAX, ReferencePrices, type ReferencePrice } from './reference-prices.ts'
import { INSPECT_SCHEMA, OUTCOME_SCHEMAS, preview, readBackOf, readVenueMessage, type JsonlOp, type OutcomeOp, type PriceEntry } from './messages.ts'
import { PendingRequests, type NotAnswered } from './pending-requests.ts'
import { JSONL_LOCAL_REASONS, JsonlLogCode, JsonlReason, withDetail } from './reasons.ts'
import { SilenceWatch } from './silence-watch.ts'
import { Subscribers } from './subscribers.ts'
import { UnknownMembersNotice } from './unknown-members.ts'

export { REFERENCE_SYMBOLS_MAX } from './reference-prices.ts'

/** Request bytes the client holds while the venue's socket pushes back; past it the connection is dropped. */
const OUTBOUND_BYTES_MAX = 4 << 20
/** The first reconnect's delay; each further one in a row doubles, up to reconnectMsMax. */
const RECONNECT_MS_MIN = 50
/**
 * How long a connection must have stayed up for its loss to start the reconnect delay again from RECONNECT_MS_MIN. A
 * venue that accepts and drops every connection at once keeps the delay growing: resetting it at every connect
 * dialled such a venue every 50 ms, for good.
 */
const CONNECTION_PROVEN_MS = 1_000

export interface JsonlVenueClientOptions {
  venue: string
  hostname: string
  port: number
  requestTimeoutMs: number
  /** Bound on requests awaiting an answer; beyond it calls answer `retryable` without sending. */
  pendingMax: number
  reconnectMsMax: number
  /** Nothing heard for this long drops the connection (silence-watch.ts); above the venue's pricePushMs. Unset: never. */
  silenceMsMax?: number
  /** Said in `hello` first on every connection, so the venue counts this client's place calls apart (a node's id). */
  clientName?: string
  log: (line: string) => void
}

export class JsonlVenueClient implements VenueAdapter {
  readonly venue: string
  /** Each request is answered `unknown` at it if the venue has not answered (pending-requests.ts): the executor's deadline. */
  readonly requestTimeoutMs: number
  /** A listing asks up to OPEN_ORDERS_PAGES_MAX pages, each up to twice (an older venue's cursor): a request timeout each. */
  readonly openOrdersTimeoutMs: number
  private readonly options: JsonlVenueClientOptions
  private socket: Socket<undefined> | null = null
  private writer: LineWriter | null = null
  private readonly pending: PendingRequests
  private readonly reportSubscribers: Subscribers<[ExecutionReport]>
  private readonly readBackSubscribers: Subscribers<[clientOrderId: string]>
  private readonly venueReadBackSubscribers: Subscribers<[]>
  /** Whether a connection was ever made: the next one follows a lost one, whose reports the venue did not keep. */
  private connectedBefore = false
  private readonly prices = new ReferencePrices()
  private readonly unknownMembers = new UnknownMembersNotice()
  /** Every refusal of venue input is logged through it: rate-limited, so a flood of bad lines cannot flood the log. */
  private readonly inputLog: InputLog
  /** How long the venue keeps trades, as its `info` message said; undefined until one arrives (or if it was bad). */
  private tradeHistoryMsSaid: number | undefined = undefined
  private closed = false
  private reconnectMs = RECONNECT_MS_MIN
  /** The one reconnect waiting, if any: a lost connection schedules it, close() cancels it. */
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null

  private constructor(options: JsonlVenueClientOptions) {
    this.options = options
    this.venue = options.venue
    this.requestTimeoutMs = options.requestTimeoutMs
    this.openOrdersTimeoutMs = 2 * OPEN_ORDERS_PAGES_MAX * options.requestTimeoutMs
    this.inputLog = new InputLog({ log: options.log, windowMs: INPUT_LOG_WINDOW_MS, linesMax: INPUT_LOG_LINES_MAX, nowMs: () => performance.now() })
    this.reportSubscribers = new Subscribers('report', options.log)
    this.readBackSubscribers = new Subscribers('read-back', options.log)
    this.venueReadBackSubscribers = new Subscribers('venue read-back', options.log)
    this.pending = new PendingRequests({ requestTimeoutMs: options.requestTimeoutMs, log: (code, text) => this.inputLog.line(code, text) })
  }

  /** Connects (retrying until `connectWaitMs`) and resolves once the first price push has arrived. */
  static async connect(options: JsonlVenueClientOptions & { connectWaitMs: number }): Promise<JsonlVenueClient> {
    const client = new JsonlVenueClient(options)
    const deadline = Date.now() + options.connectWaitMs
    await client.open()
    while (client.prices.size === 0) {
      if (Date.now() > deadline) {
        // Closed, or its connection stayed open and reconnected for good behind a caller that was told it failed.
        client.close()
        throw new Error(`venue at ${options.hostname}:${options.port} sent no prices within ${options.connectWaitMs} ms`)
      }
      await Bun.sleep(10)
    }
    return client
  }

  close(): void {
    this.closed = true
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer)
    this.reconnectTimer = null
    // Told first: ending the socket runs onClose at once, which would answer them as a lost connection instead.
    this.pending.failAll(JsonlReason.closed)
    this.socket?.end()
    this.inputLog.flush()
  }

  /** The venue's trade history (VenueAdapter.tradeHistoryMs), as it said on connecting; undefined before it did. */
  get tradeHistoryMs(): number | undefined {
    return this.tradeHistoryMsSaid
  }

  referencePrice(symbol: string): ReferencePrice | null {
    return this.prices.get(symbol)
  }

  place(request: PlaceRequest): Promise<VenueOutcome<PlaceAck>> {
    // The protocol has no resend flag (the venue dedupes by client order id), and its request schema is strict.
    const { possibleResend: _possibleResend, ...args } = request
    return this.call('place', args, OUTCOME_SCHEMAS.place)
  }

  cancel(request: CancelRequest): Promise<VenueOutcome<{ accepted: true }>> {
    return this.call('cancel', request, OUTCOME_SCHEMAS.cancel)
  }

  amend(request: AmendRequest): Promise<VenueOutcome<{ accepted: true }>> {
    return this.call('amend', request, OUTCOME_SCHEMAS.amend)
  }

  orderStatus(clientOrderId: string): Promise<VenueOutcome<VenueOrder | null>> {
    return this.call('orderStatus', clientOrderId, OUTCOME_SCHEMAS.orderStatus)
  }

  /** Every open order (of `account`), a page at a time: listOpenOrders (open-orders-page.ts). */
  openOrders(account?: string): Promise<VenueOutcome<VenueOrder[]>> {
    return listOpenOrders((args) => this.call('openOrders', args, OUTCOME_SCHEMAS.openOrders), account, (problem) => {
      this.inputLog.line(JsonlLogCode.messageInvalid, `${JsonlLogCode.messageInvalid}: an openOrders page (${problem}); the listing's outcome is unknown`)
    })
  }

  trades(options: { account?: string; clientOrderId?: string }): Promise<VenueOutcome<VenueTrade[]>> {
    return this.call('trades', options, OUTCOME_SCHEMAS.trades)
  }

  balances(account: string): Promise<VenueOutcome<VenueBalance[]>> {
    return this.call('balances', account, OUTCOME_SCHEMAS.balances)
  }

  /** The venue's own account of its orders (tests and drills), as it sends it. */
  async inspect(): Promise<unknown> {
    return this.request('inspect', null, INSPECT_SCHEMA)
  }

  /**
   * Whether the connection to the venue is up (VenueAdapter.sessionActive): venue health scores a JSONL venue without
   * one CRITICAL, as a FIX session not logged on, instead of scoring the `jsonl_not_connected` answers given meanwhile.
   */
  sessionActive(): boolean {
    return this.socket !== null && !this.closed
  }

  /** Its own bound's answer (too many in flight), or no connection to ask on: the venue was not asked (VenueAdapter.answeredLocally). */
  answeredLocally(outcome: VenueOutcome<unknown>): boolean {
    return reasonCodeIn(outcome, JSONL_LOCAL_REASONS)
  }

  onReport(handler: (report: ExecutionReport) => void): () => void {
    return this.reportSubscribers.add(handler)
  }

  /**
   * A connection was made after one was lost: the venue's reports of the time between reached no one, so every order
   * open there is read back (VenueAdapter.onVenueReadBackWanted). Not on the first connection: bootstrap reads back.
   */
  onVenueReadBackWanted(handler: () => void): () => void {
    return this.venueReadBackSubscribers.add(handler)
  }

  /**
   * A report refused (it does not fit: messages.ts) that names an order of egress's: what it said — a fill, say — is
   * lost, as the venue never sends it again, so the order is read back (VenueAdapter.onReadBackWanted), as FIX does.
   */
  onReadBackWanted(handler: (clientOrderId: string) => void): () => void {
    return this.readBackSubscribers.add(handler)
  }

  /** `schema` is OUTCOME_SCHEMAS[op]; passed in so the answer's type follows from it without a cast. */
  private async call<T>(op: OutcomeOp, args: unknown, schema: v.GenericSchema<unknown, VenueOutcome<T>>): Promise<VenueOutcome<T>> {
    if (this.socket === null) return { kind: 'retryable', reason: JsonlReason.notConnected, retryAfterMs: this.reconnectMs }
    if (this.pending.size >= this.options.pendingMax) {
      return { kind: 'retryable', reason: withDetail(JsonlReason.tooManyInFlight, `${this.pending.size} awaiting an answer`), retryAfterMs: 50 }
    }
    return this.request(op, args, schema)
  }

  private request<R>(op: JsonlOp, args: unknown, schema: v.GenericSchema<unknown, R>): Promise<R | NotAnswered> {
    const socket = this.socket
    if (socket === null) return Promise.resolve({ kind: 'retryable', reason: JsonlReason.notConnected, retryAfterMs: this.reconnectMs })
    return this.pending.open(op, schema, (id) => {
      // Refused (closed, or the venue reads nothing): drop the connection; onClose answers this request `unknown`.
      if (this.writer?.write(encodeLine({ id, op, args })) !== true) socket.terminate()
    })
  }

  /**
   * One connection attempt. Its loss (the socket's close, or the connect failing) is told to onClose once, which
   * schedules the one reconnect. A connection whose close came before the connect resolved is not kept: Bun resolves
   * the connect from the socket's open and runs the continuation before the next socket event, so this does not happen
   * today, but a dead socket kept would take every call until its timeout, and a second onClose from the catch would
   * schedule a second reconnect chain.
   */
  private async open(): Promise<void> {
    // A reconnect timer that fired as close() ran (or a caller after it): nothing to connect for.
    if (this.closed) return
    const lines = new LineReader()
    this.unknownMembers.reset()
    const connection = { lost: false, openedAtMs: 0 }
    let silence: SilenceWatch | null = null
    try {
      const socket = await Bun.connect<undefined>({
        hostname: this.options.hostname,
        port: this.options.port,
        socket: {
          data: (socket, bytes) => {
            silence?.heard()
            this.onData(socket, lines, bytes)
          },
          drain: (socket) => {
            if (this.writer?.drain() === false) socket.terminate()
          },
          close: () => {
            silence?.stop()
            if (connection.lost) return
            connection.lost = true
            this.onClose(connection.openedAtMs === 0 ? 0 : performance.now() - connection.openedAtMs)
          },
          error: (_socket, error) => this.options.log(`venue connection error: ${error.message}`),
        },
      })
      // Closed while connecting: this connection is not wanted (its close finds `closed` and does not reconnect).
      // Lost already: its close has cleared the state and scheduled the reconnect; keeping it would keep a dead socket.
      if (this.closed || connection.lost) return void socket.end()
      this.socket = socket
      this.writer = new LineWriter(socket, OUTBOUND_BYTES_MAX)
      connection.openedAtMs = performance.now()
      if (this.options.silenceMsMax !== undefined) silence = this.watchSilence(socket, this.options.silenceMsMax)
      // The first line on the connection, so every call after it is counted under the name. An older venue answers
      // `rejected` (unknown op); nothing depends on the answer.
      if (this.options.clientName !== undefined) void this.request('hello', { client: this.options.clientName }, INSPECT_SCHEMA)
      if (this.connectedBefore) this.venueReadBackSubscribers.tell([])
      this.connectedBefore = true
    } catch (error) {
      this.options.log(`venue connect failed: ${String(error)}`)
      if (!connection.lost) this.onClose(0)
    }
  }

  /** Drops `socket` once the venue is silent past silenceMsMax: its close reconnects, which asks a read-back. */
  private watchSilence(socket: Socket<undefined>, silenceMsMax: number): SilenceWatch {
    return new SilenceWatch({ silenceMsMax, nowMs: () => performance.now(), onSilent: (silentMs) => {
      if (this.closed) return
      this.options.log(`${JsonlLogCode.venueSilent}: nothing heard from the venue for ${Math.round(silentMs)} ms (silenceMsMax ${silenceMsMax}); dropping the connection`)
      socket.terminate()
    } })
  }

  /** Reads the lines a chunk completes, in order; never throws (see the header for what happens to bad input). */
  private onData(socket: Socket<undefined>, lines: LineReader, bytes: Uint8Array): void {
    const notUtf8Before = lines.notUtf8Lines
    for (const line of lines.read(bytes)) this.onLine(line)
    const notUtf8 = lines.notUtf8Lines - notUtf8Before
    if (notUtf8 > 0) this.inputLog.line(JsonlLogCode.lineMalformed, `${JsonlLogCode.lineMalformed}: skipped ${notUtf8} line(s) that are not UTF-8`, notUtf8)
    if (!lines.overlong) return
    this.options.log(`${JsonlLogCode.lineTooLong}: the venue sent a line longer than ${LINE_BYTES_MAX} bytes; dropping the connection`)
    socket.terminate()
  }

  private onLine(line: string): void {
    let message: unknown
    try {
      message = decodeLine(line)
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error)
      this.inputLog.line(JsonlLogCode.lineMalformed, `${JsonlLogCode.lineMalformed}: skipped a line that is not JSON (${why}): ${preview(line)}`)
      return
    }
    this.onMessage(message)
  }

  private onMessage(message: unknown): void {
    const read = readVenueMessage(message)
    switch (read.kind) {
      case 'answer':
        return this.pending.answer(read.id, read.result)
      case 'report':
        // A report naming another venue would be booked against orders it is not about (the inbox keys on venue). Dropped,
        // what it said is lost as for a refused report: the orders of ours it names are read back (each at its own venue).
        if (read.report.venue !== this.venue) {
          return this.dropReport(`dropped a report for venue ${preview(read.report.venue)}; this connection is to ${this.venue}`, readBackOf(read.report).readBack ?? [])
        }
        this.reportSubscribers.tell([read.report], read.report.execId)
        return
      case 'prices': {
        const unknown = this.unknownMembers.lineFor(read.unknownMembers)
        if (unknown !== null) this.options.log(unknown)
        return this.notePrices(read.prices, read.dropped, read.problem)
      }
      case 'info':
        return this.noteInfo(read.info)
      case 'invalid':
        return this.dropReport(`dropped a venue message (${read.problem})`, read.readBack ?? [])
    }
  }

  /** Logs a dropped message and asks the orders of ours it names (`readBack`) read back: the venue never sends it again. */
  private dropReport(why: string, readBack: readonly string[]): void {
    this.inputLog.line(JsonlLogCode.messageInvalid, `${JsonlLogCode.messageInvalid}: ${why}${readBack.length === 0 ? '' : `; read back: ${preview(readBack)}`}`)
    for (const clientOrderId of readBack) this.readBackSubscribers.tell([clientOrderId])
  }

  /** Symbols with a reference price cached (at most REFERENCE_SYMBOLS_MAX). */
  get referencePricesHeld(): number {
    return this.prices.size
  }

  private notePrices(prices: readonly PriceEntry[], dropped: number, problem: string | null): void {
    const beyond = this.prices.note(prices)
    if (problem !== null) this.inputLog.line(JsonlLogCode.messageInvalid, `${JsonlLogCode.messageInvalid}: dropped ${dropped} of ${dropped + prices.length} price entries (first: ${problem})`, dropped)
    if (beyond > 0) this.inputLog.line(JsonlLogCode.messageInvalid, `${JsonlLogCode.messageInvalid}: dropped prices for ${beyond} new symbols, past the ${REFERENCE_SYMBOLS_MAX} symbols cached`, beyond)
  }

  /** The venue's `info` message: a trade history that is not a non-negative whole number of ms is logged and ignored. */
  private noteInfo(info: unknown): void {
    const tradeHistoryMs = typeof info === 'object' && info !== null && 'tradeHistoryMs' in info ? info.tradeHistoryMs : undefined
    if (typeof tradeHistoryMs === 'number' && Number.isSafeInteger(tradeHistoryMs) && tradeHistoryMs >= 0) {
      this.tradeHistoryMsSaid = tradeHistoryMs
      return
    }
    this.tradeHistoryMsSaid = undefined
    this.inputLog.line(JsonlLogCode.messageInvalid, `${JsonlLogCode.messageInvalid}: venue info ignored: tradeHistoryMs must be a non-negative integer of ms, got ${preview(tradeHistoryMs)}`)
  }

  /** A connection lost (or never made), after `upMs` of it: the reconnect is scheduled, its delay as CONNECTION_PROVEN_MS says. */
  private onClose(upMs: number): void {
    this.socket = null
    this.writer = null
    // Requests already written may have been acted on: their outcome is unknown, never assumed.
    this.pending.failAll(withDetail(JsonlReason.disconnected, 'venue connection lost'))
    if (this.closed) return
    if (this.reconnectTimer !== null) return
    if (upMs >= CONNECTION_PROVEN_MS) this.reconnectMs = RECONNECT_MS_MIN
    const delayMs = this.reconnectMs
    this.reconnectMs = Math.min(this.reconnectMs * 2, this.options.reconnectMsMax)
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null
      void this.open()
    }, delayMs)
  }
}
