/**
 * Reading request bodies: bounded in size (the app mounts hono's bodyLimit; this checks Content-Length again so a
 * lying client cannot get past it), parsed as JSON, failures in the one error shape.
 */

import type { Context } from 'hono'
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
  try {
    return JSON.parse(text) as unknown
  } catch (error) {
    const reason = error instanceof Error ? error.message : 'invalid JSON'
    throw new ApiError('MALFORMED_REQUEST', 'the request body is not valid JSON', { details: { parser: reason.slice(0, 200) } })
  }
}
