/**
 * The sim venue as its own process: a SimVenue behind JSONL over TCP, so gateways on both sides of a failover talk to
 * one venue whose order book outlives either of them. Every place request is appended (and fsynced) to a record file
 * before it reaches the book — the venue's own durable account of what it was asked, so duplicates are counted by the
 * venue and not by the gateway under test.
 *
 * A client line that is not a request (not UTF-8, not JSON, no integer id or string op) is logged and skipped; a request for an
 * unknown op or with arguments that do not fit it (requests.ts) is answered `rejected` before the book sees it. A
 * line past LINE_BYTES_MAX closes that client's connection.
 *
 * Each connection has at most requestsInFlightMax requests awaiting the book; one past it is answered `retryable`.
 *
 * A client may name its connection (`hello`, a gateway node's id): every place call is then counted, and recorded,
 * under that name, so a failover drill can tell which node called the venue and not only that someone did.
 *
 * A failed write or fsync of the record file is fatal, as a failed fsync of the gateway's log is (DESIGN §3): the
 * record may no longer hold what the venue was asked. The server answers every request in flight `unknown`
 * (venue_failed: the book may have taken them), hands nothing more to the book (a request read after it is answered
 * `retryable`: the venue did nothing), and `died` resolves with the failure, for its process to exit (sim-venue.ts).
 */

import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs'
import type { Socket, TCPSocketListener } from 'bun'
import type { SimVenue } from '../sim/index.ts'
import type { PlaceRequest, VenueOrder, VenueOutcome } from '../adapter.ts'
import { LINE_BYTES_MAX, LineReader, decodeLine, encodeLine } from './codec.ts'
import { LineWriter } from './line-writer.ts'
import { checkRequest, type CheckedRequest } from './requests.ts'
import { JsonlReason, withDetail } from './reasons.ts'

export interface JsonlVenueServerOptions {
  hostname: string
  port: number
  /** Append-only record of every place request (JSONL); null: none. */
  recordPath: string | null
  symbols: readonly string[]
  pricePushMs: number
  /** Requests of one connection the venue holds awaiting the book's answer; default REQUESTS_IN_FLIGHT_MAX. */
  requestsInFlightMax?: number
  log: (line: string) => void
  /** How the record file is written and synced: node:fs unless given (specs inject failures). */
  recordIo?: RecordIo
}

/** The file calls the record makes after its open. */
export interface RecordIo {
  writeSync(fd: number, data: string): number
  fsyncSync(fd: number): void
}

const nodeRecordIo: RecordIo = { writeSync: (fd, data) => writeSync(fd, data), fsyncSync }

/** A line that has the shape of a request; its op and arguments are checked next (requests.ts). */
interface Request {
  id: number
  op: string
  args: unknown
}

interface SocketData {
  lines: LineReader
  /** Whole lines out, in order, through backpressure (bounded; a client that reads nothing is dropped). */
  writer: LineWriter
  /** The name the client gave in `hello`, or UNNAMED_CLIENT. */
  client: string
  /** Requests read and not yet answered (bounded: requestsInFlightMax). */
  inFlight: number
  /** The ids of the requests in flight, answered `unknown` at once should the record fail. */
  pending: Set<number>
}

/** Bytes held for one client while its socket pushes back (reports and price pushes included). */
const CLIENT_OUTBOUND_BYTES_MAX = 16 << 20
/**
 * Requests of one connection awaiting the book's answer, at most: a client that pipelines without waiting for answers
 * is answered `retryable` past it (the venue did nothing), instead of growing the venue's pending work for good.
 */
export const REQUESTS_IN_FLIGHT_MAX = 10_000
/** Place calls of a connection that never said `hello`. */
export const UNNAMED_CLIENT = '(unnamed)'
/** Client names counted apart; place calls of any name beyond are counted under OTHER_CLIENTS (bounded memory). */
const CLIENT_NAMES_MAX = 64
const OTHER_CLIENTS = '(other)'

export interface JsonlVenueServer {
  port: number
  /** Resolves with the record file's failure (fatal: the process exits); never otherwise. */
  died: Promise<Error>
  stop(): void
}

export function serveJsonlVenue(venue: SimVenue, options: JsonlVenueServerOptions): JsonlVenueServer {
  const clients = new Set<Socket<SocketData>>()
  const placeCallsByClient = new Map<string, number>()
  const requestsInFlightMax = options.requestsInFlightMax ?? REQUESTS_IN_FLIGHT_MAX
  const recordFd = options.recordPath === null ? null : openSync(options.recordPath, 'a')
  const recordIo = options.recordIo ?? nodeRecordIo
  /** The record's failure, once it failed: nothing more goes to the book. */
  let failure: Error | null = null
  const { promise: died, resolve: die } = Promise.withResolvers<Error>()
  const sendLine = (socket: Socket<SocketData>, line: string): void => {
    if (!socket.data.writer.write(line)) {
      options.log('dropping a client that does not read its answers')
      clients.delete(socket)
      socket.terminate()
    }
  }
  const send = (socket: Socket<SocketData>, message: unknown): void => sendLine(socket, encodeLine(message))
  // An answer past LINE_BYTES_MAX would make the client drop the connection (and every request on it): it is answered
  // `unknown` instead, so the client reads what it asked for another way (an account's whole trade history, say).
  const sendAnswer = (socket: Socket<SocketData>, id: number, op: string, result: unknown): void => {
    const line = encodeLine({ id, result })
    if (Buffer.byteLength(line) <= LINE_BYTES_MAX) sendLine(socket, line)
    else {
      options.log(`answering ${op} request ${id}: ${Buffer.byteLength(line)} bytes, past the line bound; answered unknown`)
      send(socket, { id, result: { kind: 'unknown', reason: JsonlReason.answerTooLong } })
    }
  }
  const record = (request: PlaceRequest, client: string): void => {
    const counted = placeCallsByClient.has(client) || placeCallsByClient.size < CLIENT_NAMES_MAX ? client : OTHER_CLIENTS
    placeCallsByClient.set(counted, (placeCallsByClient.get(counted) ?? 0) + 1)
    if (recordFd === null) return
    try {
      const line = encodeLine({ atMs: Date.now(), op: 'place', client, clientOrderId: request.clientOrderId, account: request.account, symbol: request.symbol })
      const written = recordIo.writeSync(recordFd, line)
      // A short write (a full disk, a file size limit) left a torn line: as fatal as an error.
      if (written !== Buffer.byteLength(line)) throw new Error(`short write of the record: ${written} of ${Buffer.byteLength(line)} bytes`)
      recordIo.fsyncSync(recordFd)
    } catch (error) {
      fail(error instanceof Error ? error : new Error(String(error)))
      throw error
    }
  }
  /** The record failed: every request in flight is answered `unknown` now, and `died` says why. */
  const fail = (error: Error): void => {
    if (failure !== null) return
    failure = error
    options.log(`the record file failed: ${error.message}; answering the requests in flight unknown and stopping`)
    const unknown = { kind: 'unknown', reason: withDetail(JsonlReason.venueFailed, 'the venue stopped: its record file failed') }
    for (const socket of clients) {
      for (const id of socket.data.pending) send(socket, { id, result: unknown })
      socket.data.pending.clear()
    }
    die(error)
  }
  const answer = async (request: CheckedRequest, socket: Socket<SocketData>): Promise<unknown> => {
    switch (request.op) {
      case 'place':
        record(request.args, socket.data.client)
        return venue.place(request.args)
      case 'cancel':
        return venue.cancel(request.args)
      case 'amend':
        return venue.amend(request.args)
      case 'orderStatus':
        return venue.orderStatus(request.args)
      case 'openOrders': {
        const args = request.args
        if (args === undefined || typeof args === 'string') return venue.openOrders(args)
        return openOrdersPage(await venue.openOrders(args.account), args)
      }
      case 'trades':
        return venue.trades(request.args)
      case 'balances':
        return venue.balances(request.args)
      case 'inspect':
        return inspectView(venue, placeCallsByClient)
      case 'hello':
        socket.data.client = request.args.client
        return { kind: 'ok', value: null }
    }
  }
  const listener: TCPSocketListener<SocketData> = Bun.listen<SocketData>({
    hostname: options.hostname,
    port: options.port,
    socket: {
      open(socket) {
        socket.data = { lines: new LineReader(), writer: new LineWriter(socket, CLIENT_OUTBOUND_BYTES_MAX), client: UNNAMED_CLIENT, inFlight: 0, pending: new Set() }
        clients.add(socket)
        // What the client cannot ask the venue per request: how far back its trade history reaches (the back
        // office's venue_trades window, venue-trades.ts). Sent first, so a client that waits for prices has it.
        send(socket, { info: { tradeHistoryMs: venue.tradeHistoryMs } })
        const prices = options.symbols.map((symbol) => venue.referencePrice(symbol)).filter((price) => price !== null)
        send(socket, { prices })
      },
      data(socket, bytes) {
        let lines: string[]
        const notUtf8Before = socket.data.lines.notUtf8Lines
        try {
          lines = socket.data.lines.push(bytes)
        } catch (error) {
          options.log(`closing a client: ${String(error)}`)
          socket.end()
          return
        }
        const notUtf8 = socket.data.lines.notUtf8Lines - notUtf8Before
        if (notUtf8 > 0) options.log(`ignoring ${notUtf8} client line(s) that are not UTF-8`)
        for (const line of lines) {
          const request = requestOf(line)
          if (typeof request === 'string') {
            options.log(`ignoring a client line: ${request}`)
            continue
          }
          const checked = checkRequest(request.id, request.op, request.args)
          // Refused before the book sees it: the venue did nothing, so `rejected` is the truth.
          if (typeof checked === 'string') send(socket, { id: request.id, result: { kind: 'rejected', reason: checked } })
          else if (failure !== null) {
            // The venue is stopping (its record failed): the book never sees it, so the client may send it again.
            send(socket, { id: request.id, result: { kind: 'retryable', reason: withDetail(JsonlReason.venueFailed, 'the venue is stopping: its record file failed'), retryAfterMs: 1_000 } })
          } else if (socket.data.inFlight >= requestsInFlightMax) {
            // Not handed to the book: the venue did nothing, so the client may send it again.
            send(socket, { id: request.id, result: { kind: 'retryable', reason: withDetail(JsonlReason.venueBusy, 'too many requests in flight'), retryAfterMs: 50 } })
          } else {
            socket.data.inFlight++
            socket.data.pending.add(request.id)
            // The book answers every request it reads; what can still fail here is the venue's own record file.
            void answer(checked, socket)
              .catch((error: unknown): unknown => {
                options.log(`answering ${checked.op} request ${checked.id} failed: ${error instanceof Error ? error.message : String(error)}`)
                return { kind: 'unknown', reason: withDetail(JsonlReason.venueFailed, 'the venue failed while answering') }
              })
              .then((result) => {
                socket.data.inFlight--
                socket.data.pending.delete(request.id)
                // Once the record failed, every request in flight was answered `unknown` then: the book's word goes nowhere.
                if (failure === null) sendAnswer(socket, request.id, checked.op, result)
              })
          }
        }
      },
      drain(socket) {
        if (!socket.data.writer.drain()) clients.delete(socket)
      },
      close(socket) {
        clients.delete(socket)
      },
      error(socket, error) {
        options.log(`client error: ${error.message}`)
        clients.delete(socket)
      },
    },
  })
  // Started once the port is bound: a listen that fails (the port taken) throws above, and an interval started before
  // it kept the process alive after the error, for good (egress sim-venue printed it and hung).
  const unsubscribe = venue.onReport((report) => {
    for (const socket of clients) send(socket, { report })
  })
  const pushPrices = setInterval(() => {
    const prices = options.symbols.map((symbol) => venue.referencePrice(symbol)).filter((price) => price !== null)
    for (const socket of clients) send(socket, { prices })
  }, options.pricePushMs)
  return {
    port: listener.port,
    died,
    stop: () => {
      clearInterval(pushPrices)
      unsubscribe()
      listener.stop(true)
      try {
        if (recordFd !== null) closeSync(recordFd)
      } catch (error) {
        // A record that failed may fail its close too: the failure is known already.
        if (failure === null) throw error
      }
    },
  }
}

/** A client's line as a request, or what is wrong with it (not JSON, or no integer `id` and string `op`). */
function requestOf(line: string): Request | string {
  let message: unknown
  try {
    message = decodeLine(line)
  } catch {
    return `not JSON: ${line.slice(0, 80)}`
  }
  const { id, op } = (typeof message === 'object' && message !== null ? message : {}) as Partial<Request>
  if (!Number.isSafeInteger(id) || (id as number) < 0 || typeof op !== 'string') return `not a request (an integer id ≥ 0 and a string op): ${line.slice(0, 80)}`
  return message as Request
}

/** What the failover drill reads back: orders per client order id, duplicate place requests, place calls per client, trades. */
function inspectView(venue: SimVenue, placeCallsByClient: ReadonlyMap<string, number>): unknown {
  const view = venue.inspect()
  const perClientId = new Map<string, number>()
  for (const order of view.orders) perClientId.set(order.clientOrderId, (perClientId.get(order.clientOrderId) ?? 0) + 1)
  const duplicateClientOrderIds = [...perClientId].filter(([, count]) => count > 1).map(([id]) => id)
  return {
    orders: view.orders.length,
    clientOrderIds: [...perClientId.keys()],
    duplicateClientOrderIds,
    placeCalls: view.requests.calls.place,
    placeCallsByClient: Object.fromEntries(placeCallsByClient),
    duplicatePlaces: view.requests.duplicatePlaces,
    trades: view.trades.length,
  }
}

/**
 * One page of a venue's open orders: by client order id, then account, those after (`after`, `afterAccount`), at most
 * `limit`. A client id is unique per account only: paged by the id alone, a page ending at an id another account also
 * held hid that account's order from the listing (the next page began after the id). An older client sends no
 * `afterAccount`: after `after` alone, as before.
 */
function openOrdersPage(outcome: VenueOutcome<VenueOrder[]>, page: { after?: string; afterAccount?: string; limit: number }): VenueOutcome<VenueOrder[]> {
  if (outcome.kind !== 'ok') return outcome
  const { after, afterAccount } = page
  const isAfter = (order: VenueOrder): boolean =>
    after === undefined || order.clientOrderId > after || (afterAccount !== undefined && order.clientOrderId === after && order.account > afterAccount)
  const sorted = outcome.value.filter(isAfter).sort(byClientOrderIdThenAccount)
  return { kind: 'ok', value: sorted.slice(0, page.limit) }
}

function byClientOrderIdThenAccount(a: VenueOrder, b: VenueOrder): number {
  if (a.clientOrderId !== b.clientOrderId) return a.clientOrderId < b.clientOrderId ? -1 : 1
  return a.account < b.account ? -1 : a.account > b.account ? 1 : 0
}
