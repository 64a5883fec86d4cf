/**
 * SSE streams: `/v1/stream` (everything; ops, auditor, admin), `/v1/accounts/:id/stream` (readers of the account),
 * `/v1/orders/:id/stream` (readers of the order's account). `Last-Event-ID` (or `?last_event_id=` for clients that
 * cannot set headers) resumes from the log.
 */

import { Hono, type Context } from 'hono'
import * as v from 'valibot'
import { bearerTokenOf, canHalt, canRead, canReadAudit, principalOf, type AuthEnv } from '../auth/index.ts'
import { ApiError } from '../errors.ts'
import { queryOf, queryPath } from '../query.ts'
import type { Services } from '../services.ts'
import { parseLastEventId, type StreamAuthority, type StreamScope } from '../sse/index.ts'
import { findOrderRef } from './order-lookup.ts'
import { appliedDurable, pathId } from './support.ts'

/**
 * The streams' query: `last_event_id` stands in for the header, which wins when both are sent. Any string passes here;
 * it is then checked exactly as the header is (parseLastEventId), so a bad one is the header's 400. Any other
 * parameter, or one given twice, is 400 as on every route (src/http/query.ts); a stream is never cached, so there is no
 * cache to defeat with one.
 */
export const STREAM_QUERY = v.strictObject({ last_event_id: v.exactOptional(v.string()) })

export function streamRoutes(services: Services): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>()
  app.get('/v1/stream', (c) => {
    const principal = principalOf(c)
    if (!canHalt(principal) && !canReadAudit(principal)) throw new ApiError('FORBIDDEN', 'the global stream needs the ops, auditor or admin role')
    return open(c, services, { kind: 'global' }, lastEventIdOf(c))
  })
  app.get('/v1/accounts/:id/stream', (c) => {
    const accountId = pathId(c, 'id')
    if (!canRead(principalOf(c), accountId)) throw new ApiError('FORBIDDEN', `not allowed to read account ${accountId}`, { details: { account: accountId } })
    return open(c, services, { kind: 'account', accountId }, lastEventIdOf(c))
  })
  app.get('/v1/orders/:id/stream', async (c) => {
    // The query first, as GET /v1/orders/:id reads it: a bad one is 400 whether or not the order is found.
    const lastEventId = lastEventIdOf(c)
    const found = findOrderRef(services, principalOf(c), pathId(c, 'id'))
    // Found in memory, the order may not be durable yet: a 200 at once told a client of an order that a crash before
    // its batch was written then lost. Answered, as the other reads of an order are (durableAnswer), once the log
    // holds what memory held; the stream is opened first, so the events that become durable meanwhile (the order's
    // acceptance among them) are on it, and closed again if the log fails instead.
    const response = open(c, services, { kind: 'order', orderId: found.orderId }, lastEventId)
    try {
      await appliedDurable(services)
    } catch (error) {
      await response.body?.cancel().catch(() => undefined)
      throw error
    }
    return response
  })
  return app
}

function open(c: Context<AuthEnv>, services: Services, scope: StreamScope, lastEventId: number | null): Response {
  // HEAD gets the headers alone: Hono answers it with the GET handler's response minus the body and never cancels a
  // stream, so opening one here would hold a subscriber slot that no client reads.
  if (c.req.method === 'HEAD') return new Response(null, { status: 200, headers: STREAM_HEADERS })
  const opened = services.hub.open(scope, lastEventId, tokenAuthority(services, bearerTokenOf(c)), principalOf(c).sub)
  if (!opened.ok && opened.reason === 'too_many_subscribers_for_principal') {
    throw new ApiError('RATE_LIMITED', 'too many open streams for this caller; close one first', {
      headers: { 'Retry-After': '5' },
      details: { reason: opened.reason, subscribersPerPrincipalMax: services.hub.subscribersPerPrincipalMax },
    })
  }
  if (!opened.ok) {
    throw new ApiError('UNAVAILABLE', opened.reason === 'closed' ? 'the gateway is shutting down' : 'too many open streams; retry later', {
      headers: { 'Retry-After': '5' },
      details: { reason: opened.reason },
    })
  }
  return new Response(opened.stream, { status: 200, headers: STREAM_HEADERS })
}

/**
 * The stream's authority is its token's, followed by the verifier (TokenWatch): the stream ends once the token expires
 * or its key is rotated out or stale, and the token is verified again only when the key set changed. The token's
 * claims cannot change, so the scope checked at open holds for as long as the token does.
 */
function tokenAuthority(services: Services, token: string): StreamAuthority {
  return services.verifier.watch(token)
}

/**
 * Where to resume: the `Last-Event-ID` header, else `?last_event_id=`, as an LSN (null: live from the log's end). An
 * empty (or blank) header counts as absent, as parseLastEventId reads it, so it does not hide the query. A bad value
 * of either, used or not, is 400 VALIDATION_FAILED with the issue under the path it came from (`query.last_event_id`
 * first, then `header.Last-Event-ID`).
 */
function lastEventIdOf(c: Context<AuthEnv>): number | null {
  // Read and checked whole even when the header wins, so a parameter the streams do not take, or a bad value of the one
  // they do, is refused either way (a bad query behind a good header passed unread).
  const query = validLastEventId(queryOf(c, STREAM_QUERY).last_event_id, queryPath('last_event_id'))
  const header = c.req.header('Last-Event-ID')
  if (header !== undefined && header.trim() !== '') return validLastEventId(header, 'header.Last-Event-ID')
  return query
}

/** `path`: where the value came from, the start of the message as for every other query or body issue. */
function validLastEventId(raw: string | undefined, path: string): number | null {
  const lsn = parseLastEventId(raw)
  if (lsn !== 'invalid') return lsn
  throw new ApiError('VALIDATION_FAILED', `${path}: expected an event id (a non-negative integer)`, {
    details: { issues: [{ path, message: 'expected a non-negative integer' }] },
  })
}

const STREAM_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  'X-Accel-Buffering': 'no',
} as const
