/** The SSE streams part of the document (routes/streams.ts): events from the log, resumable by LSN. */

import { STREAM_QUERY } from '../routes/streams.ts'
import { ACCOUNT_ID, errorResponse, operation, ORDER_ID, queryParameters, type DocumentPart, type ErrorStatus, type Json } from './shared.ts'

const LAST_EVENT_ID = { name: 'Last-Event-ID', in: 'header', required: false, schema: { type: 'string', pattern: '^\\d+$' }, description: 'Resume after this LSN; events come from the log, none missed or repeated.' }
const SSE = { description: 'text/event-stream; event id = LSN, event name = event type; `resync_required` and `disconnect` are control events. `resync_required` says why (`reason`): resume_point_not_retained, resume_point_ahead_of_log, or replay_too_long (still catching up a minute after the stream opened; it goes on live from `resume_lsn`), and what to re-fetch (`refetch`). `disconnect` is the last event and says why (`reason`): slow_consumer, shutdown, log_unavailable, or unauthenticated (the token the stream was opened with expired or its key is no longer trusted: reconnect with a fresh token and Last-Event-ID), and where to resume (`last_event_id`: the last event sent; the events not yet sent are dropped, except at shutdown, which sends them first)', content: { 'text/event-stream': { schema: { type: 'string' } } } }

/** What an order's stream adds to the 429 and 503: it is answered once the log holds the order (routes/streams.ts). */
const DURABLE_WAIT = { '429': '; or too many reads are waiting for the log (Retry-After)', '503': '; or the log is not accepting records' }

function stream(summary: string, errors: readonly ErrorStatus[], pathParameters: Json[], waitsForLog = false): Json {
  const also = waitsForLog ? DURABLE_WAIT : { '429': '', '503': '' }
  return operation({
    tag: 'streams',
    summary,
    security: 'bearer',
    errors,
    responses: {
      '200': SSE,
      '429': errorResponse(`This caller already holds as many open streams as one caller may (Retry-After; close one first)${also['429']}`),
      '503': errorResponse(`Too many open streams, or the gateway is draining or shutting down (Retry-After)${also['503']}`),
    },
    parameters: [
      ...pathParameters,
      LAST_EVENT_ID,
      ...queryParameters(STREAM_QUERY, {
        last_event_id: 'Resume after this LSN, as Last-Event-ID does, for clients that cannot set headers; the header wins when both are sent. A bad value is 400 like a bad header.',
      }),
    ],
  })
}

export function streamsPart(): DocumentPart {
  return {
    schemas: {},
    paths: {
      '/v1/orders/{id}/stream': { get: stream("SSE stream of one order. Readers of the order's account (trader/bot in scope; ops, auditor, admin). Answered once the log holds the order (a crash cannot lose an order whose stream was opened); events that became durable meanwhile are on it", ['400', '401', '404'], [ORDER_ID], true) },
      '/v1/accounts/{id}/stream': { get: stream('SSE stream of one account. Readers of the account (trader/bot in scope; ops, auditor, admin)', ['400', '401', '403', '404'], [ACCOUNT_ID]) },
      '/v1/stream': { get: stream('Global SSE stream: every event. ops, auditor, admin', ['400', '401', '403'], []) },
    },
  }
}
