/**
 * A VenueAdapter for a venue behind JSONL over TCP (the standalone sim venue). Answers are classified as the adapter
 * contract requires: not connected before sending → `retryable` (the venue cannot have acted); connection lost or no
 * answer within `requestTimeoutMs` after sending → `unknown` (it may have acted: reconcile). Never rejects.
 * Reconnects with bounded backoff. Reference prices pushed by the venue are cached for the data-health guard.
 *
 * Ordering (the adapter contract in ../adapter.ts): every call writes its request line synchronously, in call order,
 * on the one TCP connection, and the server hands lines to its venue in arrival order — so calls for one symbol reach
 * the venue in the order issued. Bun's socket.write is unbuffered (under backpressure it takes part of a line), so lines
 * go through a LineWriter that keeps the unwritten tail and later lines in a bounded FIFO flushed on drain; past the
 * bound the connection is dropped and every request on it is `unknown` (reconciled, never resent blindly).
 */

import type { Socket } from 'bun'
import type { Units } from '../../domain/decimal.ts'
import type {
  AmendRequest, CancelRequest, ExecutionReport, PlaceAck, PlaceRequest, VenueAdapter, VenueBalance, VenueOrder, VenueOutcome, VenueTrade,
} from '../adapter.ts'
import { LineReader, decodeLine, encodeLine } from './codec.ts'
import { LineWriter } from './line-writer.ts'

/** Request bytes the client holds while the venue's socket pushes back; past it the connection is dropped. */
const OUTBOUND_BYTES_MAX = 4 << 20

export interface JsonlVenueClientOptions {
  venue: string
  hostname: string
  port: number
  requestTimeoutMs: number
  /** Bound on requests awaiting an answer; beyond it calls answer `retryable` without sending. */
  pendingMax: number
  reconnectMsMax: number
  log: (line: string) => void
}

interface Pending {
  resolve: (result: unknown) => void
  timer: ReturnType<typeof setTimeout>
}

export class JsonlVenueClient implements VenueAdapter {
  readonly venue: string
  private readonly options: JsonlVenueClientOptions
  private socket: Socket<undefined> | null = null
  private writer: LineWriter | null = null
  private readonly pending = new Map<number, Pending>()
  private readonly handlers = new Set<(report: ExecutionReport) => void>()
  private readonly prices = new Map<string, { price: Units; observedAtMs: number }>()
  private nextId = 1
  /** How long the venue keeps trades, as its `info` message said; undefined until one arrives (or if it was bad). */
  private tradeHistoryMsSaid: number | undefined = undefined
  private closed = false
  private reconnectMs = 50

  private constructor(options: JsonlVenueClientOptions) {
    this.options = options
    this.venue = options.venue
  }

  /** Connects (retrying until `connectWaitMs`) and resolves once the first price push has arrived. */
  static async connect(options: JsonlVenueClientOptions & { connectWaitMs: number }): Promise<JsonlVenueClient> {
    const client = new JsonlVenueClient(options)
    const deadline = Date.now() + options.connectWaitMs
    await client.open()
    while (client.prices.size === 0) {
      if (Date.now() > deadline) throw new Error(`venue at ${options.hostname}:${options.port} sent no prices within ${options.connectWaitMs} ms`)
      await Bun.sleep(10)
    }
    return client
  }

  close(): void {
    this.closed = true
    this.socket?.end()
    this.failPending('adapter closed')
  }

  /** The venue's trade history (VenueAdapter.tradeHistoryMs), as it said on connecting; undefined before it did. */
  get tradeHistoryMs(): number | undefined {
    return this.tradeHistoryMsSaid
  }

  referencePrice(symbol: string): { price: Units; observedAtMs: number } | null {
    return this.prices.get(symbol) ?? null
  }

  place(request: PlaceRequest): Promise<VenueOutcome<PlaceAck>> {
    return this.call('place', request)
  }

  cancel(request: CancelRequest): Promise<VenueOutcome<{ accepted: true }>> {
    return this.call('cancel', request)
  }

  amend(request: AmendRequest): Promise<VenueOutcome<{ accepted: true }>> {
    return this.call('amend', request)
  }

  orderStatus(clientOrderId: string): Promise<VenueOutcome<VenueOrder | null>> {
    return this.call('orderStatus', clientOrderId)
  }

  openOrders(account?: string): Promise<VenueOutcome<VenueOrder[]>> {
    return this.call('openOrders', account)
  }

  trades(options: { account?: string; clientOrderId?: string }): Promise<VenueOutcome<VenueTrade[]>> {
    return this.call('trades', options)
  }

  balances(account: string): Promise<VenueOutcome<VenueBalance[]>> {
    return this.call('balances', account)
  }

  /** The venue's own account of its orders (tests and drills). */
  async inspect(): Promise<unknown> {
    return this.request('inspect', null)
  }

  onReport(handler: (report: ExecutionReport) => void): () => void {
    this.handlers.add(handler)
    return () => this.handlers.delete(handler)
  }

  private async call<T>(op: string, args: unknown): Promise<VenueOutcome<T>> {
    if (this.socket === null) return { kind: 'retryable', reason: 'venue not connected', retryAfterMs: this.reconnectMs }
    if (this.pending.size >= this.options.pendingMax) return { kind: 'retryable', reason: 'too many requests in flight', retryAfterMs: 50 }
    const result = await this.request(op, args)
    return result as VenueOutcome<T>
  }

  private request(op: string, args: unknown): Promise<unknown> {
    const socket = this.socket
    if (socket === null) return Promise.resolve({ kind: 'retryable', reason: 'venue not connected', retryAfterMs: this.reconnectMs })
    const id = this.nextId++
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        resolve({ kind: 'unknown', reason: `no answer within ${this.options.requestTimeoutMs} ms` })
      }, this.options.requestTimeoutMs)
      this.pending.set(id, { resolve, timer })
      // Refused (closed, or the venue reads nothing): drop the connection; onClose answers this request `unknown`.
      if (this.writer?.write(encodeLine({ id, op, args })) !== true) socket.terminate()
    })
  }

  private async open(): Promise<void> {
    const lines = new LineReader()
    try {
      this.socket = await Bun.connect({
        hostname: this.options.hostname,
        port: this.options.port,
        socket: {
          data: (_socket, bytes) => {
            for (const line of lines.push(bytes)) this.onMessage(decodeLine(line))
          },
          drain: (socket) => {
            if (this.writer?.drain() === false) socket.terminate()
          },
          close: () => this.onClose(),
          error: (_socket, error) => this.options.log(`venue connection error: ${error.message}`),
        },
      })
      this.writer = new LineWriter(this.socket, OUTBOUND_BYTES_MAX)
      this.reconnectMs = 50
    } catch (error) {
      this.options.log(`venue connect failed: ${String(error)}`)
      this.onClose()
    }
  }

  private onMessage(message: unknown): void {
    const object = message as { id?: number; result?: unknown; report?: ExecutionReport; prices?: { symbol: string; price: Units; observedAtMs: number }[]; info?: unknown }
    if (typeof object.id === 'number') {
      const pending = this.pending.get(object.id)
      if (pending === undefined) return // answered after its timeout: the caller was told `unknown` and reconciles
      this.pending.delete(object.id)
      clearTimeout(pending.timer)
      pending.resolve(object.result)
    } else if (object.report !== undefined) {
      for (const handler of this.handlers) handler(object.report)
    } else if (object.prices !== undefined) {
      for (const price of object.prices) this.prices.set(price.symbol, { price: price.price, observedAtMs: price.observedAtMs })
    } else if (object.info !== undefined) {
      this.noteInfo(object.info)
    }
  }

  /** The venue's `info` message: a trade history that is not a non-negative whole number of ms is logged and ignored. */
  private noteInfo(info: unknown): void {
    const tradeHistoryMs = (info as { tradeHistoryMs?: unknown } | null)?.tradeHistoryMs
    if (typeof tradeHistoryMs === 'number' && Number.isSafeInteger(tradeHistoryMs) && tradeHistoryMs >= 0) {
      this.tradeHistoryMsSaid = tradeHistoryMs
      return
    }
    this.tradeHistoryMsSaid = undefined
    this.options.log(`venue info ignored: tradeHistoryMs must be a non-negative integer of ms, got ${JSON.stringify(tradeHistoryMs)}`)
  }

  private onClose(): void {
    this.socket = null
    this.writer = null
    // Requests already written may have been acted on: their outcome is unknown, never assumed.
    this.failPending('venue connection lost')
    if (this.closed) return
    const delayMs = this.reconnectMs
    this.reconnectMs = Math.min(this.reconnectMs * 2, this.options.reconnectMsMax)
    setTimeout(() => void this.open(), delayMs)
  }

  private failPending(reason: string): void {
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer)
      this.pending.delete(id)
      pending.resolve({ kind: 'unknown', reason })
    }
  }
}
