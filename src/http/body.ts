/**
 * Reading request bodies: bounded in size (the app mounts hono's bodyLimit; this checks Content-Length again so a
 * lying client cannot get past it), sent as JSON, parsed as JSON with no member name repeated in an object, a JSON
 * object at the top, failures in the one error shape.
 */

import type { Context } from 'hono'
import { firstDuplicateMember } from './duplicate-members.ts'
import { ApiError } from './errors.ts'

/** Parses the body as JSON; an empty body is `{}` when `emptyAsObject`, otherwise MALFORMED_REQUEST. */
export async function readJson(c: Context, options: { bodyBytesMax: number; emptyAsObject?: boolean }): Promise<unknown> {
  const text = await c.req.text()
  if (Buffer.byteLength(text, 'utf8') > options.bodyBytesMax) {
    throw new ApiError('PAYLOAD_TOO_LARGE', `request body exceeds ${options.bodyBytesMax} bytes`, { details: { bodyBytesMax: options.bodyBytesMax } })
  }
  if (text.trim() === '') {
    if (options.emptyAsObject === true) return {}
    throw new ApiError('MALFORMED_REQUEST', 'a JSON body is required')
  }
  requireJsonMediaType(c.req.header('Content-Type'))
  let parsed: unknown
  try {
    parsed = JSON.parse(text) as unknown
  } catch (error) {
    const reason = error instanceof Error ? error.message : 'invalid JSON'
    throw new ApiError('MALFORMED_REQUEST', 'the request body is not valid JSON', { details: { parser: reason.slice(0, 200) } })
  }
  // JSON.parse keeps the last of a repeated name; another reader of the same bytes may keep the first (duplicate-members.ts).
  const repeated = firstDuplicateMember(text)
  if (repeated !== null) {
    throw new ApiError('MALFORMED_REQUEST', `the request body names the member ${JSON.stringify(repeated.slice(0, 128))} twice in one object`, {
      details: { member: repeated.slice(0, 128) },
    })
  }
  // Every body of the API is an object. valibot's object schemas take an array for one (`[]` passed as `{}` where
  // every member is optional: a kill switch, flatten, a snapshot), so the shape is checked here, for every route.
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ApiError('VALIDATION_FAILED', 'body: expected a JSON object', { details: { issues: [{ path: '', message: 'expected a JSON object' }] } })
  }
  return parsed
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
