/**
 * The requests a JsonlVenueClient has sent and awaits an answer to, by request id: each settles once, with the venue's
 * answer if it fits the op asked (checked against that op's schema), else `unknown` — on an answer that does not fit,
 * no answer within `requestTimeoutMs`, or failAll (connection lost, adapter closed), because the venue may have acted.
 * An answer to an id with nothing in flight (never asked, or settled already) settles nothing and is logged.
 * The client bounds how many are in flight (`pendingMax`, against `size`) before it opens one.
 */

import type * as v from 'valibot'
import type { VenueOutcome } from '../adapter.ts'
import { readResult, type JsonlOp } from './messages.ts'
import type { InputLog } from './input-log.ts'
import { JsonlLogCode, JsonlReason, withDetail } from './reasons.ts'

/** What a call settles with when the venue cannot have acted or may have: fits every op's outcome type. */
export type NotAnswered = VenueOutcome<never>

interface Pending {
  /** The op asked, named in the log line when its answer does not fit; `answer` checks against that op's schema. */
  op: JsonlOp
  timer: ReturnType<typeof setTimeout>
  /** Settles the call with the venue's answer if it fits the op's schema; else `unknown`, returning what did not fit. */
  answer: (result: unknown) => string | null
  /** Settles the call `unknown` (no answer, connection lost, adapter closed): the venue may have acted. */
  fail: (reason: string) => void
}

export interface PendingRequestsOptions {
  requestTimeoutMs: number
  /** Logs an answer refused, led by its code (the client's InputLog: rate-limited). */
  log: InputLog['line']
}

export class PendingRequests {
  private readonly pending = new Map<number, Pending>()
  private nextId = 1
  private readonly options: PendingRequestsOptions

  constructor(options: PendingRequestsOptions) {
    this.options = options
  }

  /** Requests awaiting an answer. */
  get size(): number {
    return this.pending.size
  }

  /**
   * Takes the next request id, starts its timeout, and calls `send` with the id to write the request line: it runs
   * once the request is in flight, so a `send` that drops the connection has this request answered `unknown` by the
   * failAll that follows. A `send` that throws rejects the returned promise.
   */
  open<R>(op: JsonlOp, schema: v.GenericSchema<unknown, R>, send: (id: number) => void): Promise<R | NotAnswered> {
    const id = this.nextId++
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        resolve({ kind: 'unknown', reason: withDetail(JsonlReason.timeout, `no answer within ${this.options.requestTimeoutMs} ms`) })
      }, this.options.requestTimeoutMs)
      const answer = (result: unknown): string | null => {
        const read = readResult(schema, result)
        resolve(read.ok ? read.value : { kind: 'unknown', reason: withDetail(JsonlReason.answerInvalid, read.problem) })
        return read.ok ? null : read.problem
      }
      this.pending.set(id, { op, timer, answer, fail: (reason) => resolve({ kind: 'unknown', reason }) })
      send(id)
    })
  }

  /** The venue's answer to request `id`; never throws (a result that does not fit, or an id not in flight, is logged). */
  answer(id: number, result: unknown): void {
    const pending = this.pending.get(id)
    // Settled already (answered, timed out, its connection lost: the caller reconciles), or never asked: nothing to
    // settle, but a venue that answers ids it was not asked, or twice, is worth a line.
    if (pending === undefined) {
      const why = id < this.nextId ? 'settled already (answered, timed out or its connection lost)' : 'never asked'
      return this.options.log(JsonlLogCode.answerUnexpected, `${JsonlLogCode.answerUnexpected}: skipped an answer to request ${id}, ${why}`)
    }
    this.pending.delete(id)
    clearTimeout(pending.timer)
    const problem = pending.answer(result)
    if (problem !== null) this.options.log(JsonlLogCode.messageInvalid, `${JsonlLogCode.messageInvalid}: the answer to ${pending.op} request ${id} does not fit it (${problem}); its outcome is unknown`)
  }

  /** Settles every request in flight `unknown` with `reason`: they may have been acted on, their outcome is never assumed. */
  failAll(reason: string): void {
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer)
      this.pending.delete(id)
      pending.fail(reason)
    }
  }
}
