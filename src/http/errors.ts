/**
 * The one error shape of the HTTP API (DESIGN §8): `{ "error": { "code", "message", "details" } }`.
 *
 * Every failure a client can see goes through here: handlers throw `ApiError`, valibot failures become
 * VALIDATION_FAILED with one entry per issue, Hono's own HTTPExceptions keep their 4xx status, and anything else is a
 * bug — a 500 with code INTERNAL whose body says nothing about the cause (the cause goes to stderr).
 *
 * Order reason codes (why the kernel rejected an order) are a separate dictionary in src/domain; the routes map them
 * onto these transport codes.
 */

import type { Context, ErrorHandler, NotFoundHandler } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import * as v from 'valibot'
import { reasonInfo, type ReasonCode } from '../domain/reasons.ts'
import { PATH_SHOWN_CHARS_MAX, shownText } from './shown-text.ts'

/** The transport error codes and the HTTP status each one is sent with. Stable: clients match on the code. */
export const ERROR_CODES = {
  VALIDATION_FAILED: 400,
  MALFORMED_REQUEST: 400,
  /**
   * A new order with both an Idempotency-Key header and a client_order_id that differ: each names the order, and a
   * retry sent with only one of them would place it a second time.
   */
  IDEMPOTENCY_KEY_MISMATCH: 400,
  /** A new order whose key (Idempotency-Key or client_order_id) starts with `flatten:`: flatten's closing orders' keys. */
  IDEMPOTENCY_KEY_RESERVED: 400,
  UNAUTHENTICATED: 401,
  /** A token whose signature and claims are good, revoked by an admin (POST /v1/admin/revocations) before its expiry. */
  TOKEN_REVOKED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  /** The path exists, served with other methods (listed in `Allow` and `details.allowed`). */
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  /**
   * A repeat of an idempotency key whose order was accepted, then retired from the kernel state and its records
   * compacted out of the log: the repeat is still never placed again, but the first answer can no longer be rebuilt.
   */
  ANSWER_NOT_RETAINED: 409,
  /**
   * A list cursor handed out before the gateway restarted (or rebuilt its order list) whose order has retired since:
   * where it stood cannot be found again (src/http/order-list/cursor.ts); start the walk again. Only for a cursor whose
   * seal verifies: a made-up one is VALIDATION_FAILED.
   */
  CURSOR_NOT_RETAINED: 410,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  /**
   * HA: a standby whose build cannot read what this leader writes (record types or versions, snapshot parts), or that
   * does not say (a build older than the check): upgrade standbys before their leader (src/runtime/ha/log-reads.ts).
   */
  STANDBY_TOO_OLD: 409,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  NOT_LEADER: 503,
  /** Synchronous replication, fail_closed, standby gone: the order was refused before anything was written. */
  STANDBY_UNAVAILABLE: 503,
  /** Synchronous replication: the write is recorded on the leader but the standby did not confirm it in time. */
  REPLICATION_UNCONFIRMED: 503,
  UNAVAILABLE: 503,
  /**
   * New orders and amends while the data dir's free space is below config `storage.freeBytesMin` (or cannot be read, or
   * has not been read yet, with a floor set): refused before anything was recorded, with Retry-After; cancels and flattens still pass (http/disk/).
   */
  DISK_LOW: 503,
  /**
   * A back-office read (positions, balances, PnL, fills, ledger) while the query model cannot be written
   * (QUERY_MODEL_WRITE_FAILED: SQLITE_BUSY, SQLITE_FULL, …): `details.reason` `write_failing` with Retry-After (the rows
   * are retried each flush interval), or `stopped` (failed writes reached their bound: until a restart rebuilds it).
   * Orders are not affected (src/backoffice/write-failures.ts).
   */
  QUERY_MODEL_UNAVAILABLE: 503,
} as const satisfies Record<string, ContentfulStatusCode>

export type ErrorCode = keyof typeof ERROR_CODES

/**
 * What `error.code` may hold: a transport code above, or — when the kernel decided — the order reason code from the
 * domain dictionary itself (`INSUFFICIENT_FUNDS`, `IDEMPOTENCY_CONFLICT`), so clients match on one stable name.
 */
export type ApiErrorCode = ErrorCode | ReasonCode

export type ErrorDetails = Record<string, unknown>

export interface ErrorBody {
  error: { code: ApiErrorCode; message: string; details: ErrorDetails }
}

export interface ApiErrorOptions {
  details?: ErrorDetails
  /** Extra response headers, e.g. `Retry-After` for RATE_LIMITED or `WWW-Authenticate` for UNAUTHENTICATED. */
  headers?: Record<string, string>
  /** Overrides the code's usual status; rarely needed. */
  status?: ContentfulStatusCode
  cause?: unknown
}

/** An error meant for the client: its code, message and details are sent as they are. */
export class ApiError extends Error {
  override readonly name = 'ApiError'
  readonly status: ContentfulStatusCode
  readonly code: ApiErrorCode
  readonly details: ErrorDetails
  readonly headers: Record<string, string>

  constructor(code: ErrorCode, message: string, options?: ApiErrorOptions)
  constructor(code: ReasonCode, message: string, options: ApiErrorOptions & { status: ContentfulStatusCode })
  constructor(code: ApiErrorCode, message: string, options: ApiErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.status = options.status ?? (ERROR_CODES as Record<string, ContentfulStatusCode>)[code] ?? 500
    this.details = options.details ?? {}
    this.headers = options.headers ?? {}
  }

  toBody(): ErrorBody {
    return { error: { code: this.code, message: this.message, details: this.details } }
  }
}

export interface ValidationIssue {
  /** Dotted path into the input (`legs.0.qty`); empty for the input as a whole. */
  path: string
  message: string
}

/**
 * The error for a kernel reason code: the code itself, the dictionary's description and HTTP status. A reason whose
 * status is not an error (the dictionary also holds outcomes like USER_CANCEL) is sent as 422. A 429 (the kernel's
 * load bounds: LANE_FULL, OVERLOADED, OPEN_ORDERS_LIMIT) carries `Retry-After` like every other 429 of the API.
 */
export function reasonError(reason: ReasonCode, options: { details?: ErrorDetails; headers?: Record<string, string> } = {}): ApiError {
  const info = reasonInfo(reason)
  const status = (info.httpStatus >= 400 && info.httpStatus <= 599 ? info.httpStatus : 422) as ContentfulStatusCode
  const headers = status === 429 ? { 'Retry-After': KERNEL_SHED_RETRY_AFTER_SEC, ...options.headers } : (options.headers ?? {})
  return new ApiError(reason, info.description, { status, details: { reason, ...options.details }, headers })
}

/** The kernel sheds by queue depth, which drains as calls complete: a second, as for the global in-flight bound. */
const KERNEL_SHED_RETRY_AFTER_SEC = '1'

/**
 * The issues a VALIDATION_FAILED answer lists. Every issue was listed: a 16 KiB order list of 5,000 empty legs was
 * answered with 27,000 of them, 2.6 MB (review), so an answer grew with what a body could make the schema find rather
 * than with the body. The first ISSUES_LISTED_MAX are listed, and `issues_total` counts them all when some were left out.
 */
export const ISSUES_LISTED_MAX = 20

/** `details` of a VALIDATION_FAILED answer for `issues` (at most ISSUES_LISTED_MAX of them listed). */
export function issueDetails(issues: readonly ValidationIssue[]): ErrorDetails {
  if (issues.length <= ISSUES_LISTED_MAX) return { issues }
  return { issues: issues.slice(0, ISSUES_LISTED_MAX), issues_total: issues.length }
}

/**
 * Turns valibot issues into one VALIDATION_FAILED error listing each issue with its path (the first
 * ISSUES_LISTED_MAX: issueDetails). `pathPrefix` says where the input came from when it is not the body (`query`:
 * `query.limit`), as header issues say `header.Idempotency-Key`.
 */
export function validationError(issues: readonly v.BaseIssue<unknown>[], pathPrefix?: string): ApiError {
  const listed: ValidationIssue[] = issues.slice(0, ISSUES_LISTED_MAX).map((issue) => ({ path: prefixed(pathPrefix, v.getDotPath(issue) ?? ''), message: issue.message }))
  const first = listed[0]
  const summary = first === undefined ? 'request is invalid' : `${first.path || 'body'}: ${first.message}`
  const details = issues.length > ISSUES_LISTED_MAX ? { issues: listed, issues_total: issues.length } : { issues: listed }
  return new ApiError('VALIDATION_FAILED', summary, { details })
}

function prefixed(prefix: string | undefined, path: string): string {
  if (prefix === undefined) return path
  return path === '' ? prefix : `${prefix}.${path}`
}

/**
 * Parses `input` with `schema`, or throws VALIDATION_FAILED (issue paths under `pathPrefix`, when given). Routes use
 * this rather than `v.parse`.
 */
export function parseOrThrow<TSchema extends v.GenericSchema>(schema: TSchema, input: unknown, pathPrefix?: string): v.InferOutput<TSchema> {
  const result = v.safeParse(schema, input)
  if (!result.success) throw validationError(result.issues, pathPrefix)
  return result.output
}

/** Builds the JSON response for an ApiError. */
export function errorResponse(c: Context, error: ApiError): Response {
  for (const [name, value] of Object.entries(error.headers)) c.header(name, value)
  return c.json(error.toBody(), error.status)
}

const CODE_BY_STATUS: Partial<Record<number, ErrorCode>> = {
  400: 'MALFORMED_REQUEST',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  429: 'RATE_LIMITED',
  503: 'UNAVAILABLE',
}

export interface ErrorHandlerOptions {
  /** Where unexpected errors are reported; stderr by default. Never the response. */
  log?: (message: string, error: unknown) => void
}

function logToStderr(message: string, error: unknown): void {
  console.error(message, error)
}

/** Maps a thrown value to the response the client sees. */
export function toApiError(error: unknown): ApiError | null {
  if (error instanceof ApiError) return error
  if (error instanceof v.ValiError) return validationError(error.issues)
  if (error instanceof HTTPException && error.status < 500) {
    // Hono's own middleware (body limit, JSON validator) throws these for client mistakes; keep the status.
    const code = CODE_BY_STATUS[error.status] ?? 'MALFORMED_REQUEST'
    return new ApiError(code, error.message || 'request rejected', { status: error.status })
  }
  return null
}

/** The app's `onError`: ApiError/valibot/4xx HTTPException as they are, anything else as an opaque 500. */
export function createErrorHandler(options: ErrorHandlerOptions = {}): ErrorHandler {
  const log = options.log ?? logToStderr
  return function onError(error, c) {
    const known = toApiError(error)
    if (known !== null) return errorResponse(c, known)
    log(`unexpected error on ${c.req.method} ${c.req.path}`, error)
    return errorResponse(c, new ApiError('INTERNAL', 'internal error'))
  }
}

/** The app's `notFound`: the same shape as every other error. */
export const notFound: NotFoundHandler = function notFound(c) {
  return errorResponse(c, new ApiError('NOT_FOUND', `no route for ${c.req.method} ${shownText(c.req.path, PATH_SHOWN_CHARS_MAX)}`))
}
