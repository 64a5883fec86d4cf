/**
 * W3C Trace Context on the routes that write for orders (create, cancel, amend, flatten: TRACED_ROUTES): the
 * request's `traceparent`, if valid, names the caller's trace; egress takes part in it as one span of its own, with a
 * new span id. Without one — absent, or
 * malformed (the recommendation: a receiver that cannot parse it starts a new trace; it is never a 4xx) — egress
 * starts a new trace. Either way the answer carries `traceresponse` (Trace Context level 2) with egress's span:
 * `00-<trace id>-<egress span id>-<flags>`, the value the command records on what it writes (src/kernel/commands.ts).
 *
 * Only the sampled flag is kept from the caller (level 1 defines no other bit); a trace egress starts is sampled, as
 * egress records every command. `tracestate` is not read: egress calls no one with it.
 */

import type { Context } from 'hono'
import { formatTraceparent, parseTraceparent } from '../domain/trace-context.ts'
import { cryptoRandomHex, type RandomHex } from './trace-ids.ts'

export const TRACEPARENT_HEADER = 'traceparent'
export const TRACERESPONSE_HEADER = 'traceresponse'

export interface RequestTraceContext {
  /** Egress's span in the trace, as a version-00 `traceparent`: recorded with the command and answered as `traceresponse`. */
  traceparent: string
}

/** The trace context of each request traced so far, by its context: one span per request, however often asked. */
const TRACED = new WeakMap<Context, RequestTraceContext>()

/**
 * The request's trace context: egress's span in the caller's trace or in a new one, drawn once per request (the app
 * draws it before the request is authenticated, isTracedRequest; the route then reads the same). Sets `traceresponse`
 * on whatever the route answers (its errors included).
 */
export function requestTrace(c: Context, random: RandomHex = defaultRandomHex): RequestTraceContext {
  const known = TRACED.get(c)
  if (known !== undefined) return known
  const caller = parseTraceparent(c.req.header(TRACEPARENT_HEADER))
  const traceparent =
    caller === null
      ? random.newTraceparent()
      : formatTraceparent({ traceId: caller.traceId, parentId: random.spanId(), flags: (Number.parseInt(caller.flags, 16) & 1) === 1 ? '01' : '00' })
  c.header(TRACERESPONSE_HEADER, traceparent)
  const context = { traceparent }
  TRACED.set(c, context)
  return context
}

/** The traced routes (POST): order create, cancel and amend, and account flatten — the requests that write for orders. */
export const TRACED_ROUTES = ['/v1/orders', '/v1/orders/:id/cancel', '/v1/orders/:id/amend', '/v1/accounts/:id/flatten'] as const

/** TRACED_ROUTES as one pattern of request paths: a `:param` is one whole path segment, as hono's router matches it. */
const TRACED_PATH = new RegExp(`^(?:${TRACED_ROUTES.map((route) => route.replace(/:[^/]+/g, '[^/]+')).join('|')})$`)

/**
 * Whether `c` is a request of a traced route, whose trace context the app draws before anything can refuse it
 * (app.ts), so every answer of a traced route carries `traceresponse`: a 401, a 413 or a draining 503 as much as the
 * route's own answers and errors. Such a refusal records nothing (the request never reached the kernel); the header
 * still names egress's span in the caller's trace, to log beside the refusal. Told from the path, not by a middleware
 * mounted on these routes: each middleware in hono's chain costs a promise and closures per request.
 */
export function isTracedRequest(c: Context): boolean {
  return c.req.method === 'POST' && TRACED_PATH.test(c.req.path)
}

const defaultRandomHex = cryptoRandomHex()
