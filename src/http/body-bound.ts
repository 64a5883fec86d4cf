/**
 * The request body bound every route gets (app.ts): hono's bodyLimit, with its Content-Length case answered before it
 * is entered. That case — what HTTP clients send — is one comparison, but hono's middleware is async, so it made a
 * promise (and its generator) per request for it; here it is synchronous and hands on next()'s promise. A body
 * without a Content-Length (chunked, or a Request built in-process) goes through hono's middleware, which counts
 * what it reads. The answers are hono's: a body the header says is too large gets `onError`, whatever it holds.
 */

import type { Context, MiddlewareHandler } from 'hono'
import { bodyLimit as honoBodyLimit } from 'hono/body-limit'
import { bodyBrokenOff } from './body.ts'

export function boundBodies(options: { maxSize: number; onError: (c: Context) => Response | Promise<Response> }): MiddlewareHandler {
  const counted = honoBodyLimit(options)
  return function bodyLimit(c, next) {
    const raw = c.req.raw
    const declared = raw.headers.get('content-length')
    // hono's own test, in its order: a body, no Transfer-Encoding, a Content-Length; `raw.body` (a stream made on
    // first read) only looked at when the length is past the bound, or when there is none (hono's middleware looks).
    if (declared === null || raw.headers.has('transfer-encoding')) {
      if (raw.body === null) return next()
      // What hono's middleware throws is its read of the body (the routes' own errors are answered inside next()): a
      // body the client broke off is its 400, not an INTERNAL 500 (body.ts bodyBrokenOff).
      return counted(c, next).catch(rethrowBrokenOff)
    }
    if (Number.parseInt(declared || '0', 10) > options.maxSize && raw.body !== null) return overBound(options.onError, c)
    return next()
  }
}

function rethrowBrokenOff(error: unknown): never {
  throw bodyBrokenOff(error)
}

/** A body past the bound: the caller's answer (app.ts throws PAYLOAD_TOO_LARGE), as a promise as hono's middleware gives it. */
async function overBound(onError: (c: Context) => Response | Promise<Response>, c: Context): Promise<Response> {
  return onError(c)
}
