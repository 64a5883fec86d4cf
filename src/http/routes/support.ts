/** Helpers shared by the routes: running gateway commands, readiness, header validation. */

import type { Context } from 'hono'
import { EngineOverloadedError } from '../../runtime/engine.ts'
import { WalClosedError, WalFatalError, WalFullError, LeaseError } from '../../../wal/index.ts'
import { ApiError } from '../errors.ts'
import type { Admission, ShedScope } from '../backpressure/index.ts'
import type { Principal } from '../auth/index.ts'
import type { Services } from '../services.ts'

/** The requests the gateway decided (its answer may rest on records the standby does not hold yet). */
const decidedByGateway = new WeakSet<Context>()

/**
 * Runs a gateway command for the request `c`, turning the runtime's operating errors into client-visible answers.
 * A command that came back decided marks `c` (answeredByGateway): whatever its answer, 202 or a logged rejection, a
 * leader under synchronous replication holds it until the standby has the log (routes/replication.ts).
 */
export function runCommand<T>(c: Context, run: () => Promise<T>): Promise<T> {
  try {
    return run().then((result) => {
      markDecided(c)
      return result
    }, rejectAsCommandError)
  } catch (error) {
    return Promise.reject(commandError(error))
  }
}

/** Marks `c` decided by a gateway command (what runCommand does once its command resolves). */
export function markDecided(c: Context): void {
  decidedByGateway.add(c)
}

/** Did a gateway command decide this request (see runCommand)? */
export function answeredByGateway(c: Context): boolean {
  return decidedByGateway.has(c)
}

function rejectAsCommandError(error: unknown): never {
  throw commandError(error)
}

export function commandError(error: unknown): unknown {
  if (error instanceof EngineOverloadedError || error instanceof WalFullError) {
    return new ApiError('RATE_LIMITED', 'the log is at capacity; retry shortly', { headers: { 'Retry-After': '1' }, details: { scope: 'log' } })
  }
  if (error instanceof WalClosedError || error instanceof WalFatalError) {
    return new ApiError('UNAVAILABLE', 'the log is not accepting records', { headers: { 'Retry-After': '5' } })
  }
  if (error instanceof LeaseError) return new ApiError('NOT_LEADER', 'this node does not hold the lease')
  return error
}

/**
 * Whether a command's error (commandError's answer) refused it before it did any work: the log at capacity (429), not
 * accepting records, or this node not holding the lease (503). The admission's rate tokens then go back, as for a
 * refusal for load: a client answered "retry" must not also lose its place at the rate limit (review: only the 429 did).
 */
export function refusedUndone(answered: unknown): boolean {
  return answered instanceof ApiError && UNDONE_CODES.has(answered.code)
}

/** What commandError answers for a command refused before it was written. */
const UNDONE_CODES: ReadonlySet<string> = new Set(['RATE_LIMITED', 'UNAVAILABLE', 'NOT_LEADER'])

/**
 * The load shedder's answer for a request on `accountId` by `principal`: the account's bucket, a bot's own too, and the
 * instrument's (`venue:symbol`) for an order or amend on one.
 */
export function admitFor(services: Services, accountId: string, principal: Principal, instrument: string | null = null): Admission {
  return services.shedder.admit(accountId, principal.roles.includes('bot') ? principal.sub : null, instrument)
}

/** The 429 for a request the load shedder refused (new orders, amends, idle flattens), with when to retry. */
export function shedError(what: string, refusal: { scope: ShedScope; retryAfterSec: number }): ApiError {
  return new ApiError('RATE_LIMITED', `${what} are being shed (${refusal.scope} limit); retry later`, {
    headers: { 'Retry-After': String(refusal.retryAfterSec) },
    details: { scope: refusal.scope, retry_after_sec: refusal.retryAfterSec },
  })
}

/**
 * Answers `body`, read from the kernel's memory (an order, the order list, an order's events and explanation: each
 * tells whether an order exists), once the log holds everything memory held when it was read. Memory runs ahead of
 * the log by the batch being written: answered at once, a read could show an order (accepted, canceled, filled) that a
 * crash before the batch was durable then loses, the order gone or back in its old state after the restart, while no
 * POST was ever answered for it. The wait is a batch's write at most and nothing when the log is idle; a log that died
 * answers 503 and one with too many answers waiting 429, as a write would. A log that has not moved within
 * `limits.readDurableWaitMsMax` (a stalled disk) answers 503 UNAVAILABLE with Retry-After: the read waited for good
 * before, until the client or the server's idle timeout gave up with no answer.
 *
 * A `body` that also reads the log's durable records (through the log index) is a function, called after the wait
 * (what it shows of memory read before, and passed in): read with memory, the log's part lagged memory by the batch
 * being written, and an order memory already showed Rejected was answered without the venue refusal that rejected it
 * (`venue_reject: null`), its /explain and /events without the refusal's record.
 */
export async function durableAnswer(c: Context, services: Services, body: Record<string, unknown> | (() => Record<string, unknown>)): Promise<Response> {
  await appliedDurable(services)
  return c.json(typeof body === 'function' ? body() : body)
}

/** Resolves once the log holds everything memory held when called (durableAnswer); rejects with the API's error. */
export async function appliedDurable(services: Services): Promise<void> {
  const engine = services.gateway.engine
  // Nothing in memory the log does not hold (as Engine.appliedDurable would answer at once): no timer to arm.
  if (engine.appendedLsn <= engine.wal.lastLsn) return
  const durable = engine.appliedDurable().catch((error: unknown) => {
    throw commandError(error)
  })
  const waitMs = services.limits.readDurableWaitMsMax
  let timer: ReturnType<typeof setTimeout> | undefined
  const stalled = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new ApiError('UNAVAILABLE', `the log has not made the state this read shows durable within ${waitMs} ms (is the disk stalled?); retry`, { headers: { 'Retry-After': '1' } })),
      waitMs,
    )
  })
  try {
    await Promise.race([durable, stalled])
  } finally {
    clearTimeout(timer)
  }
}

/** Refuses writes while the gateway is not ready (bootstrap running, log dead). */
export function requireReady(services: Services): void {
  if (!services.gateway.ready) throw new ApiError('UNAVAILABLE', 'the gateway is not ready for requests', { headers: { 'Retry-After': '1' } })
}

const KEY_PATTERN = /^[\x21-\x7e]{1,128}$/

/** The `Idempotency-Key` header: absent → null; present → 1–128 printable ASCII characters or 400. */
export function idempotencyKeyOf(c: Context): string | null {
  const raw = c.req.header('Idempotency-Key')
  if (raw === undefined) return null
  if (!KEY_PATTERN.test(raw)) {
    throw new ApiError('VALIDATION_FAILED', 'Idempotency-Key: expected 1–128 printable ASCII characters', {
      details: { issues: [{ path: 'header.Idempotency-Key', message: 'expected 1–128 printable ASCII characters' }] },
    })
  }
  return raw
}

/** Path ids: the same alphabet as order ids; anything else cannot name an order. */
export function pathId(c: Context, name: string): string {
  const value = c.req.param(name) ?? ''
  if (!KEY_PATTERN.test(value)) throw new ApiError('NOT_FOUND', `no such ${name === 'id' ? 'resource' : name}`)
  return value
}
