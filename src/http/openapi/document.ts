/**
 * The OpenAPI 3.1 document served at `/openapi.json`. Request bodies and query parameters are generated from the very
 * valibot schemas the routes validate with (@valibot/to-json-schema; transforms and custom checks have no JSON
 * Schema form and are described in words instead), so the document cannot drift from what the server accepts.
 * Paths and responses are listed here by hand: they are the API's table of contents.
 *
 * Why not hono-openapi: it would wrap every route in its validator middleware for a document we can produce from the
 * same schemas with one small, pure converter — and the routes here validate in a fixed order (body, key, role, load)
 * that a per-route validator middleware would reorder.
 */

import { toJsonSchema } from '@valibot/to-json-schema'
import type { GenericSchema } from 'valibot'
import { amendBodySchema, placeBodySchema } from '../../domain/orders.ts'
import { REASON_CODES } from '../../domain/reasons.ts'
import { ERROR_CODES } from '../errors.ts'
import { MODE_BODY_SCHEMA, SWITCH_BODY_SCHEMA } from '../routes/admin.ts'
import { SNAPSHOT_BODY_SCHEMA } from '../routes/admin-snapshot.ts'
import { LIST_QUERY_SCHEMA } from '../routes/orders.ts'

type Json = Record<string, unknown>

function schemaOf(schema: GenericSchema, description?: string): Json {
  const json = toJsonSchema(schema, { errorMode: 'ignore', typeMode: 'input' }) as Json
  delete json.$schema
  return description === undefined ? json : { ...json, description }
}

const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` })
const jsonContent = (schema: Json): Json => ({ 'application/json': { schema } })
const errorResponse = (description: string): Json => ({ description, content: jsonContent(ref('Error')) })

const ERRORS: Record<string, Json> = {
  '400': errorResponse('Malformed JSON or a body/query that fails validation (each issue with its path)'),
  '401': errorResponse('Missing or invalid bearer token'),
  '403': errorResponse('The principal lacks the role or account scope'),
  '404': errorResponse('No such resource (or not readable by this principal)'),
  '413': errorResponse('Body larger than the configured bound'),
  '503': errorResponse('Not ready, draining, or the log is unavailable'),
}

function op(summary: string, responses: Json, extra: Json = {}): Json {
  return { summary, security: [{ bearer: [] }], responses: { ...responses, ...ERRORS }, ...extra }
}

const idParam = (name: string, description: string): Json => ({ name, in: 'path', required: true, schema: { type: 'string' }, description })
const ORDER_ID = idParam('id', 'Order id')
const ACCOUNT_ID = idParam('id', 'Account id')
const IDEMPOTENCY_KEY = { name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string', pattern: '^[\\x21-\\x7e]{1,128}$' }, description: 'Required unless the body has client_order_id; when both are sent they must be equal (400 IDEMPOTENCY_KEY_MISMATCH). A repeat returns the first answer byte for byte; a different body is 409.' }
const LAST_EVENT_ID = { name: 'Last-Event-ID', in: 'header', required: false, schema: { type: 'string', pattern: '^\\d+$' }, description: 'Resume after this LSN; events come from the log, none missed or repeated.' }
const SSE = { description: 'text/event-stream; event id = LSN, event name = event type; `resync_required` and `disconnect` are control events', content: { 'text/event-stream': { schema: { type: 'string' } } } }

function queryParameters(schema: GenericSchema): Json[] {
  const json = schemaOf(schema) as { properties?: Record<string, Json> }
  return Object.entries(json.properties ?? {}).map(([name, property]) => ({ name, in: 'query', required: false, schema: property }))
}

export function openApiDocument(options: { version: string }): Json {
  const decimal = 'decimal string, at most 8 places (never a JSON number)'
  const placeBody = schemaOf(placeBodySchema, `A new order. qty and price are ${decimal}; a limit order needs price, a market order must not have one.`)
  return {
    openapi: '3.1.0',
    info: { title: 'egress', version: options.version, description: 'Execution gateway: the single exit through which every order reaches a venue.' },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: {
        PlaceOrder: placeBody,
        AmendOrder: schemaOf(amendBodySchema, `qty and/or price as ${decimal}`),
        SetMode: schemaOf(MODE_BODY_SCHEMA),
        KillSwitch: schemaOf(SWITCH_BODY_SCHEMA),
        SnapshotTaken: {
          type: 'object',
          required: ['taken', 'lsn'],
          properties: {
            taken: { type: 'boolean', description: 'false: nothing changed since the newest snapshot (reason, newest)' },
            lsn: { type: 'integer', description: 'The LSN the snapshot holds the projections at' },
            file: { type: 'string' },
            digest: { type: 'string', description: 'SHA-256 of the snapshot file content (hex)' },
            bytes: { type: 'integer' },
            pause_ms: { type: 'number', description: 'Intake pause: the synchronous capture of every section' },
            block_ms_max: { type: 'number', description: 'Longest single stretch the snapshot held the event loop' },
            write_ms: { type: 'number' },
            total_ms: { type: 'number' },
            compaction: { type: ['object', 'null'], description: 'What the configured compaction removed after it' },
            reason: { type: 'string' },
            newest: { type: ['object', 'null'] },
          },
        },
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message', 'details'],
              properties: {
                code: { type: 'string', enum: [...Object.keys(ERROR_CODES), ...REASON_CODES] },
                message: { type: 'string' },
                details: { type: 'object' },
              },
            },
          },
        },
        Accepted: {
          type: 'object',
          properties: { order_id: { type: 'string' }, state: { type: 'string' }, account: { type: 'string' }, idempotency_key: { type: 'string' }, client_order_id: { type: ['string', 'null'] }, accepted_at_ms: { type: 'integer' }, links: { type: 'object' } },
        },
        Order: { type: 'object', description: 'An order: the request fields plus state, filled_qty, avg_fill_price, venue_order_id, lane, times.' },
      },
    },
    paths: {
      '/v1/orders': {
        post: op('Place an order (202 once durable)', {
          '202': { description: 'Accepted and durable', content: jsonContent(ref('Accepted')) },
          '409': errorResponse('IDEMPOTENCY_CONFLICT: the key was used with a different body; ANSWER_NOT_RETAINED: a repeat of a key whose order was retired and its records compacted away (details.order_id)'),
          '422': errorResponse('Rejected by a guard; error.code is the reason code'),
          '429': errorResponse('Shed by backpressure (Retry-After) or OPEN_ORDERS_LIMIT / LANE_FULL'),
        }, { parameters: [IDEMPOTENCY_KEY], requestBody: { required: true, content: jsonContent(ref('PlaceOrder')) } }),
        get: op('List orders (filters, cursor pagination)', { '200': { description: '{ orders, next_cursor }: follow next_cursor (opaque) until it is null; it goes on past orders retired meanwhile, its own included; a page reads at most 10,000 orders, so a short or empty page may still have one' }, '410': errorResponse('CURSOR_NOT_RETAINED: the gateway restarted since the cursor was handed out and its order has retired since; start again without a cursor') }, { parameters: queryParameters(LIST_QUERY_SCHEMA) }),
      },
      '/v1/orders/{id}': { get: op('Get an order', { '200': { description: 'The order', content: jsonContent(ref('Order')) } }, { parameters: [ORDER_ID] }) },
      '/v1/orders/{id}/cancel': { post: op('Cancel an order (Lane0; never shed)', { '202': { description: 'Cancel recorded' }, '409': errorResponse('ORDER_NOT_CANCELABLE') }, { parameters: [ORDER_ID] }) },
      '/v1/orders/{id}/amend': {
        post: op('Amend (replace) an order', { '202': { description: 'Amend recorded' }, '409': errorResponse('ORDER_NOT_AMENDABLE / AMEND_PENDING'), '422': errorResponse('Amend rejected by a guard') }, {
          parameters: [ORDER_ID],
          requestBody: { required: true, content: jsonContent(ref('AmendOrder')) },
        }),
      },
      '/v1/orders/{id}/events': { get: op("The order's events from the log, with LSNs", { '200': { description: '{ order_id, events }' } }, { parameters: [ORDER_ID] }) },
      '/v1/orders/{id}/explain': { get: op('Decision records: why the order (and each amend) was accepted or rejected', { '200': { description: '{ order_id, decisions }' } }, { parameters: [ORDER_ID] }) },
      '/v1/orders/{id}/stream': { get: op('SSE stream of one order', { '200': SSE }, { parameters: [ORDER_ID, LAST_EVENT_ID] }) },
      '/v1/accounts/{id}/stream': { get: op('SSE stream of one account', { '200': SSE }, { parameters: [ACCOUNT_ID, LAST_EVENT_ID] }) },
      '/v1/accounts/{id}/flatten': { post: op('Cancel open orders and close positions of an account (Lane0)', { '202': { description: 'Flatten recorded' } }, { parameters: [ACCOUNT_ID, IDEMPOTENCY_KEY] }) },
      '/v1/stream': { get: op('Global SSE stream (ops, auditor, admin)', { '200': SSE }, { parameters: [LAST_EVENT_ID] }) },
      '/v1/admin/mode': { post: op('Change mode (admin)', { '200': { description: 'Mode recorded' } }, { requestBody: { required: true, content: jsonContent(ref('SetMode')) } }) },
      '/v1/admin/halt': { post: op('HALT: nothing new accepted or sent (ops, admin)', { '200': { description: 'Switch recorded' } }, { requestBody: { required: false, content: jsonContent(ref('KillSwitch')) } }) },
      '/v1/admin/cancel-only': { post: op('CANCEL_ONLY (ops, admin)', { '200': { description: 'Switch recorded' } }, { requestBody: { required: false, content: jsonContent(ref('KillSwitch')) } }) },
      '/v1/admin/resume': { post: op('RESUME normal trading (ops, admin)', { '200': { description: 'Switch recorded' } }, { requestBody: { required: false, content: jsonContent(ref('KillSwitch')) } }) },
      '/v1/admin/snapshot': {
        post: op(
          'Take a snapshot of the projections now (ops, admin): LSN, file, digest, bytes, intake pause; taken false when nothing changed',
          { '200': { description: 'Snapshot written (or already current)', content: jsonContent(ref('SnapshotTaken')) }, '409': errorResponse('Snapshots are disabled in the config (details.reason snapshots_disabled)') },
          { requestBody: { required: false, content: jsonContent(schemaOf(SNAPSHOT_BODY_SCHEMA, 'Empty object or no body')) } },
        ),
      },
      '/health': { get: { summary: 'Liveness, readiness, role, log position (200 ready / 503 not)', responses: { '200': { description: 'Ready' }, '503': { description: 'Not ready' } } } },
      '/metrics': { get: { summary: 'Prometheus text format', responses: { '200': { description: 'Metrics', content: { 'text/plain': { schema: { type: 'string' } } } } } } },
      '/openapi.json': { get: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1' } } } },
    },
  }
}
