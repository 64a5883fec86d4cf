/**
 * Reading request bodies: bounded in size (the app mounts hono's bodyLimit; this checks Content-Length again so a
 * lying client cannot get past it), UTF-8, sent as JSON, parsed as JSON with no member name repeated in an object, a
 * JSON object at the top, failures in the one error shape.
 */

import type { Context } from 'hono'
import { firstDuplicateMember, flatMemberCount } from './duplicate-members.ts'
import { ApiError } from './errors.ts'

/** Parses the body as JSON; an empty body is `{}` when `emptyAsObject`, otherwise MALFORMED_REQUEST. */
export async function readJson(c: Context, options: { bodyBytesMax: number; emptyAsObject?: boolean }): Promise<unknown> {
  return jsonBodyOf(c, await requestBytes(c), options)
}

/**
 * The request's body, read whole. A read the client broke off (it closed the connection before the body's end, or
 * sent a chunked encoding that does not parse: Bun ends the body with an AbortError) is 400 MALFORMED_REQUEST: the
 * client's doing. It was an opaque 500 INTERNAL, logged with its stack as an unexpected error and counted as one, so
 * any client could raise the gateway's internal-error count and fill its log by cutting its uploads short.
 */
export async function requestBytes(c: Context): Promise<ArrayBuffer> {
  try {
    return await c.req.arrayBuffer()
  } catch (error) {
    throw bodyBrokenOff(error)
  }
}

/** What reading the request's body threw, as the API's error when the client broke the body off; else as it was. */
export function bodyBrokenOff(error: unknown): unknown {
  if (!(error instanceof DOMException && error.name === 'AbortError')) return error
  return new ApiError('MALFORMED_REQUEST', 'the request body ended before it was complete (the connection closed, or its chunked encoding broke)', {
    details: { reason: 'body_incomplete' },
    cause: error,
  })
}

/**
 * readJson's checks and parse of a body already read (`await requestBytes(c)`): synchronous, so a route that reads
 * the body itself (POST /v1/orders) spares readJson's promise per request.
 */
export function jsonBodyOf(c: Context, body: ArrayBuffer, options: { bodyBytesMax: number; emptyAsObject?: boolean }): unknown {
  if (body.byteLength > options.bodyBytesMax) {
    throw new ApiError('PAYLOAD_TOO_LARGE', `request body exceeds ${options.bodyBytesMax} bytes`, { details: { bodyBytesMax: options.bodyBytesMax } })
  }
  // Read once: each read of a header is a new string.
  const contentType = c.req.header('Content-Type')
  const text = utf8Text(body, contentType)
  if (text.trim() === '') {
    if (options.emptyAsObject === true) return {}
    throw new ApiError('MALFORMED_REQUEST', 'a JSON body is required')
  }
  requireJsonMediaType(contentType)
  let parsed: unknown
  try {
    parsed = JSON.parse(text) as unknown
  } catch (error) {
    const reason = error instanceof Error ? error.message : 'invalid JSON'
    throw new ApiError('MALFORMED_REQUEST', 'the request body is not valid JSON', { details: { parser: reason.slice(0, 200) } })
  }
  // JSON.parse keeps the last of a repeated name; another reader of the same bytes may keep the first (duplicate-members.ts).
  // A flat object whose member count is its key count repeats none: the common case, told without a string per name.
  const repeated = isRecord(parsed) && flatMemberCount(text) === keyCountOf(parsed) ? null : firstDuplicateMember(text)
  if (repeated !== null) {
    throw new ApiError('MALFORMED_REQUEST', `the request body names the member ${JSON.stringify(repeated.slice(0, 128))} twice in one object`, {
      details: { member: repeated.slice(0, 128) },
    })
  }
  // The text decoded strictly, so a lone surrogate can only come from a `\u` escape: most bodies have none to walk for.
  const illFormed = text.includes('\\u') ? firstIllFormedString(parsed) : null
  if (illFormed !== null) {
    throw new ApiError('MALFORMED_REQUEST', 'the request body holds a string that is not valid Unicode (an unpaired surrogate escape such as \\ud800)', {
      details: { path: illFormed },
    })
  }
  // Every body of the API is an object. valibot's object schemas take an array for one (`[]` passed as `{}` where
  // every member is optional: a kill switch, flatten, a snapshot), so the shape is checked here, for every route.
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ApiError('VALIDATION_FAILED', 'body: expected a JSON object', { details: { issues: [{ path: '', message: 'expected a JSON object' }] } })
  }
  return parsed
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

/** The keys of an object JSON.parse made (all its own, all enumerable), counted without an array of them. */
function keyCountOf(parsed: Record<string, unknown>): number {
  let count = 0
  for (const _name in parsed) count++
  return count
}

/** Strict: a byte sequence that is not UTF-8 throws instead of becoming U+FFFD. A leading BOM is dropped, as before. */
const UTF8 = new TextDecoder('utf-8', { fatal: true })

/**
 * The body as text, decoded from the buffer itself (no view of it made per request). JSON exchanged between systems
 * must be UTF-8 (RFC 8259 §8.1). A lenient decode turned each bad byte into U+FFFD without a word, so a free-text
 * member (a kill switch's or a mode change's note) was logged as something the client never sent, and two bodies that
 * differ only there read as one.
 */
function utf8Text(bytes: ArrayBuffer, contentType: string | undefined): string {
  try {
    return UTF8.decode(bytes)
  } catch {
    // Not JSON by its own account: the media type is the client's first mistake, as for any other such body.
    requireJsonMediaType(contentType)
    throw new ApiError('MALFORMED_REQUEST', 'the request body is not valid UTF-8', { details: { encoding: 'utf-8' } })
  }
}

/**
 * The path of the first string (member name or value) in `value` holding an unpaired surrogate, which valid UTF-8
 * cannot carry but a JSON escape can (`"\ud800"`): the log stores text as UTF-8, where it would become U+FFFD, so the
 * record would say something other than what was decided. Iterative, so a deeply nested body cannot exhaust the stack.
 */
function firstIllFormedString(value: unknown): string | null {
  const pending: { value: unknown; path: string }[] = [{ value, path: '' }]
  for (let item = pending.pop(); item !== undefined; item = pending.pop()) {
    if (typeof item.value === 'string') {
      if (!item.value.isWellFormed()) return item.path
    } else if (Array.isArray(item.value)) {
      item.value.forEach((element: unknown, index) => pending.push({ value: element, path: joinPath(item.path, String(index)) }))
    } else if (item.value !== null && typeof item.value === 'object') {
      for (const [name, member] of Object.entries(item.value)) {
        const path = joinPath(item.path, name)
        if (!name.isWellFormed()) return path
        pending.push({ value: member, path })
      }
    }
  }
  return null
}

function joinPath(path: string, name: string): string {
  return path === '' ? name : `${path}.${name}`
}

/** `application/json` or a `+json` type, any parameters, any case (RFC 9110 §8.3.1: media types are case-insensitive). */
const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;.*)?$/i

/**
 * A body must say it is JSON. Reading any body as JSON whatever its type would let a browser's "simple" cross-origin
 * request (text/plain, a form) act on the API without the preflight that JSON needs, and hides client mistakes.
 */
function requireJsonMediaType(contentType: string | undefined): void {
  if (contentType !== undefined && JSON_MEDIA_TYPE.test(contentType.trim())) return
  throw new ApiError('UNSUPPORTED_MEDIA_TYPE', 'the request body must be sent as Content-Type: application/json', {
    details: { content_type: contentType?.slice(0, 200) ?? null, expected: 'application/json' },
  })
}
