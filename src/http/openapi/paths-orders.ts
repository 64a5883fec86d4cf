/**
 * The orders part of the document: place, list, get, cancel, amend, and an order's history from the log
 * (routes/orders.ts, order-actions.ts, order-log.ts).
 */

import { ORDER_STATES } from '../../domain/index.ts'
import { LANES } from '../../domain/modes.ts'
import { VENUE_REJECT_CODE_NAMES } from '../../domain/venue-reject-codes.ts'
import { amendBodySchema, placeBodySchema } from '../../domain/orders.ts'
import { orderTypeSchema, sideSchema, tifSchema } from '../../domain/schema-kit.ts'
import { HTTP_DEFAULTS } from '../defaults.ts'
import { EVENTS_PAGE_DEFAULT, EVENTS_PAGE_MAX, EVENTS_QUERY } from '../routes/events-page.ts'
import { LIST_QUERY_SCHEMA } from '../routes/orders.ts'
import { CANCEL_BODY_SCHEMA } from '../routes/order-actions.ts'
import { ORDER_EVENTS, ORDER_EXPLAIN } from './order-log-schema.ts'
import { answerComponents, DECIMAL, decimal, ERRORS, errorResponse, IDEMPOTENCY_KEY, integer, TRACEPARENT, jsonAnswer, jsonContent, nullable, operation, ORDER_ID, queryParameters, record, ref, schemaOf, type DocumentPart, type Json } from './shared.ts'

/** The 503 of a new order or an amend: the shared meanings, and the data dir's free-space floor. */
const DISK_LOW_OR_UNAVAILABLE =
  'Not ready, draining, or the log is unavailable; on an HA pair also NOT_LEADER or, in synchronous mode, STANDBY_UNAVAILABLE / REPLICATION_UNCONFIRMED; ' +
  "a kernel code such as MODE_HALTED; DISK_LOW: the data dir's free space is below storage.freeBytesMin, or unreadable or not read yet with a floor set (details.reason below_floor, unreadable or not_read_yet, Retry-After); nothing was recorded, and cancels still pass"

const READERS = 'trader/bot: orders of the accounts in its token; ops, auditor, admin: every account'

const nullableDecimal = (description: string): Json => ({ ...decimal(description), type: ['string', 'null'] })

/** An order as src/http/views/order-view.ts shows it. */
const ORDER = record(
  {
    order_id: { type: 'string' },
    account: { type: 'string' },
    venue: { type: 'string' },
    symbol: { type: 'string' },
    side: { type: 'string', enum: [...sideSchema.options] },
    type: { type: 'string', enum: [...orderTypeSchema.options] },
    qty: decimal(),
    price: nullableDecimal('Null for a market order'),
    protection_price: nullableDecimal("A market order's protection price: it is sent as a limit at it (IOC; FOK when FOK), so no fill is worse than the price its reservation and the policy's max notional were checked at (a buy: the band's upper edge, a sell: its lower edge, rounded to the tick). Null for a limit order, and for a market order sent as a plain market order (its instrument takes no limit orders or not that time in force, or it was accepted before protection existed)"),
    tif: { type: 'string', enum: [...tifSchema.options] },
    post_only: { type: 'boolean' },
    reduce_only: { type: 'boolean' },
    client_order_id: nullable('string', 'As sent'),
    state: { type: 'string', enum: [...ORDER_STATES] },
    filled_qty: decimal(),
    avg_fill_price: nullableDecimal("The fills' exact notional ÷ filled_qty, rounded once (half-even); null until the first fill"),
    venue_order_id: nullable('string', "The venue's id, once it acknowledged the order"),
    lane: { type: 'integer', enum: [...LANES], description: 'The lane its pending work waits in (0: cancels and flatten first)' },
    last_reason: nullable('string', 'The reason code of its last rejection, cancel or Unknown'),
    cancel_requested: { type: 'boolean' },
    amend: {
      type: ['object', 'null'],
      description: 'The amend in progress, if any',
      required: ['amend_id', 'qty', 'price', 'stage'],
      properties: { amend_id: { type: 'integer' }, qty: decimal(), price: nullableDecimal('Null for a market order'), stage: { type: 'string', enum: ['requested', 'sent', 'failed'] } },
    },
    accepted_at_ms: integer('When the kernel accepted it (ms since the epoch)'),
    ttl_ms: nullable('integer', 'The time-to-live it was accepted with (the body\'s ttl_ms); null when none'),
    expires_at_ms: nullable('integer', 'When its time-to-live ends (accepted_at_ms + ttl_ms): past it the order is never sent; one still queued ends Canceled (TTL_EXPIRED), one that may rest at the venue is canceled through Lane0. Null when none'),
    updated_at_ms: integer('Its last change'),
    unknown_since_ms: nullable('integer', 'Since when its venue outcome is Unknown; null when it is not'),
  },
  'An order as the kernel holds it, or rebuilt from its records once retired',
)
/**
 * The order's latest venue refusal (src/http/venue-reject/view.ts): only in GET /v1/orders/{id}, read from its records
 * in the log, and left out (like trace_id) while the log index is still being built after a restart.
 */
const VENUE_REJECT: Json = {
  type: ['object', 'null'],
  description: "The venue's latest refusal of the order's place, a cancel or an amend, with its venue reject code (README, Venue reject codes); null when the venue refused nothing. Only in GET /v1/orders/{id}",
  required: ['action', 'code', 'reason', 'at_ms', 'lsn'],
  additionalProperties: false,
  properties: {
    action: { type: 'string', enum: ['place', 'cancel', 'amend'], description: 'What the venue refused' },
    code: { type: 'string', enum: [...VENUE_REJECT_CODE_NAMES], description: "The venue reject code, derived from the venue's reason text (OTHER for a text without a code egress knows)" },
    reason: { type: 'string', description: "The venue's reason text, as recorded" },
    at_ms: integer('When the refusal was recorded (ms since the epoch)'),
    lsn: integer('The record of the refusal'),
  },
}

/**
 * An order as GET /v1/orders/{id} shows it: the list's fields and, not required, `trace_id` — only there (the list
 * would read the log once per order), and left out while the log index is still being built after a restart (it is
 * read from the order's acceptance in the log).
 */
const ORDER_DETAIL = withOptional(withOptional(ORDER, 'trace_id', nullable(
  'string',
  "The W3C trace id (32 lowercase hex) the order was accepted under: the create request's traceparent (a flatten close: the flatten request's), or the trace egress started; null when accepted before traces were recorded, or its acceptance was compacted away. Only in GET /v1/orders/{id}",
)), 'venue_reject', VENUE_REJECT)

/** `schema` (a record) with one more property, not required. */
function withOptional(schema: Json, name: string, property: Json): Json {
  const object = schema as { properties: Record<string, Json> }
  return { ...object, properties: { ...object.properties, [name]: property } }
}

/** An order the kernel rejected: it never existed for the kernel, so its decision is read from the log. */
const REJECTED_ORDER = record(
  {
    order_id: { type: 'string' },
    account: nullable('string', 'Null when the body named none the kernel could use'),
    state: { type: 'string', const: 'Rejected' },
    reason: { type: 'string', description: 'The reason code' },
    guard: { type: 'string', description: 'The guard that refused it' },
    idempotency_key: nullable('string', 'Its idempotency key'),
    rejected_at_ms: { type: 'integer' },
    lsn: integer('Its order.rejected record'),
    trace_id: nullable('string', "The W3C trace id (32 lowercase hex) of the request rejected: its traceparent, or the trace egress started; null when rejected before rejections recorded a trace"),
  },
  'An order the kernel rejected, from its record in the log',
)

/** How the order reads answer (routes/orders.ts durableAnswer). */
const DURABLE_READ = 'Answered once the log holds what it shows (at most the write of the batch in flight), so nothing answered can be lost by a crash'

export function ordersPart(): DocumentPart {
  return {
    schemas: {
      PlaceOrder: schemaOf(placeBodySchema, `A new order. qty and price are ${DECIMAL}; a limit order needs price, a market order must not have one.`),
      AmendOrder: schemaOf(amendBodySchema, `qty and/or price as ${DECIMAL}`),
      Accepted: record(
        {
          order_id: { type: 'string' },
          state: { type: 'string', description: 'Enqueued: accepted and durable; its progress is one GET away (links.self)' },
          account: { type: 'string' },
          idempotency_key: { type: 'string' },
          client_order_id: nullable('string', 'As sent'),
          accepted_at_ms: { type: 'integer' },
          links: record({ self: { type: 'string' }, events: { type: 'string' }, stream: { type: 'string' }, explain: { type: 'string' } }),
        },
        'The answer to an accepted order, the same bytes for every repeat of its key',
      ),
      Order: ORDER,
      OrderDetail: ORDER_DETAIL,
      RejectedOrder: REJECTED_ORDER,
      ...answerComponents({ OrderEvents: ORDER_EVENTS, OrderExplain: ORDER_EXPLAIN }),
    },
    paths: {
      '/v1/orders': {
        post: operation({
          tag: 'orders',
          summary: 'Place an order (202 once durable). trader/bot, on an account in its token',
          security: 'bearer',
          errors: ['400', '401', '403', '413', '415', '503'],
          responses: {
            '202': { description: 'Accepted and durable', content: jsonContent(ref('Accepted')) },
            '400': errorResponse(
              `${ERRORS['400'].description} IDEMPOTENCY_KEY_MISSING: neither an Idempotency-Key header nor client_order_id. IDEMPOTENCY_KEY_MISMATCH: both sent, and they differ. ` +
                'IDEMPOTENCY_KEY_RESERVED: a key starting with `flatten:`',
            ),
            '403': errorResponse(
              'FORBIDDEN: no trading role, or the token does not name the account. POLICY_MISSING: no policy for the account; for an account the gateway never held ' +
                '(not in its config, whatever the token names) refused before anything is recorded (details.account, no order id), for one its config no longer names ' +
                'recorded as a rejected order (details.order_id)',
            ),
            '409': errorResponse('IDEMPOTENCY_CONFLICT: the key was used with a different body; ANSWER_NOT_RETAINED: a repeat of a key whose order was retired and its records compacted away (details.order_id)'),
            '422': errorResponse('Rejected by a guard; error.code is the reason code'),
            '429': errorResponse('Shed by backpressure (Retry-After) or OPEN_ORDERS_LIMIT / LANE_FULL'),
            '503': errorResponse(DISK_LOW_OR_UNAVAILABLE),
          },
          parameters: [IDEMPOTENCY_KEY, TRACEPARENT],
          requestBody: { required: true, content: jsonContent(ref('PlaceOrder')) },
        }),
        get: operation({
          tag: 'orders',
          summary: `List orders in acceptance order (filters, cursor pagination). ${READERS}; account names one of them (403 otherwise). ${DURABLE_READ}`,
          security: 'bearer',
          errors: ['400', '401', '403', '429', '503'],
          responses: {
            '200': jsonAnswer(
              '{ orders, next_cursor }: follow next_cursor (opaque) until it is null; it goes on past orders retired meanwhile, its own included; ' +
                `a page reads at most ${HTTP_DEFAULTS.listExaminedMax.toLocaleString('en-US')} orders, so a short or empty page may still have one`,
              record({ orders: { type: 'array', items: ref('Order') }, next_cursor: nullable('string', 'Where the next page starts; null: no more') }),
            ),
            '410': errorResponse(
              'CURSOR_NOT_RETAINED: the gateway restarted (or rebuilt its order list) since the cursor was handed out and its order has retired since; start again without a cursor. ' +
                'Only a cursor this gateway sealed: a made-up or altered one is 400 VALIDATION_FAILED, as an unknown one is, and so is a genuine one once compaction has also removed its order\'s records',
            ),
          },
          parameters: queryParameters(LIST_QUERY_SCHEMA, {
            account: 'Only this account (403 if the caller may not read it); without it, every account the caller may read',
            state: 'Only orders in this state',
            symbol: 'Only this symbol',
            limit: 'Orders per page, 1–1000 (default 100, capped at the configured page bound); 0 or more than 1000 is 400 VALIDATION_FAILED',
            cursor: 'next_cursor of the previous page; one this gateway did not hand out is 400 VALIDATION_FAILED',
          }),
        }),
      },
      '/v1/orders/{id}': {
        get: operation({
          tag: 'orders',
          summary: `Get an order, including one the kernel rejected or retired. ${READERS} (404 for an order it may not read). ${DURABLE_READ}`,
          security: 'bearer',
          errors: ['401', '404', '429', '503'],
          responses: { '200': { description: 'The order (or, for one the kernel rejected, its rejection)', content: jsonContent({ oneOf: [ref('OrderDetail'), ref('RejectedOrder')] }) } },
          parameters: [ORDER_ID],
        }),
      },
      '/v1/orders/{id}/cancel': {
        post: operation({
          tag: 'orders',
          summary: "Cancel an order (Lane0; never shed). The account's trader/bot, or ops/admin",
          description:
            'Reads no Idempotency-Key (one sent is ignored): a repeat is decided again on the order as it is then. While the cancel is under way (CancelRequested, CancelPending, or Unknown with the cancel wanted) it is 202 again and records and sends nothing; once the order ended (canceled, or filled meanwhile) it is 409 ORDER_NOT_CANCELABLE; after the venue refused the cancel (the order resting again) it is a new cancel.',
          security: 'bearer',
          errors: ['400', '401', '403', '404', '413', '415', '429', '503'],
          responses: {
            '202': jsonAnswer('Cancel recorded', { type: 'object', properties: { order_id: { type: 'string' }, state: { type: ['string', 'null'] }, cancel_requested: { const: true } } }),
            '409': errorResponse('ORDER_NOT_CANCELABLE'),
          },
          parameters: [ORDER_ID, TRACEPARENT],
          requestBody: { required: false, content: jsonContent(schemaOf(CANCEL_BODY_SCHEMA, 'Empty object or no body: a cancel takes no options')) },
        }),
      },
      '/v1/orders/{id}/amend': {
        post: operation({
          tag: 'orders',
          summary: "Amend (replace) an order's qty and/or price. The account's trader/bot only (an amend can add risk: ops/admin get 403)",
          description:
            "Reads no Idempotency-Key (one sent is ignored): a repeat is decided again on the order as it is then. qty is the order's new total quantity and price its new limit, both absolute, so the same amend does not change the order twice: while it is requested or at the venue its repeat is 202 with the same amend_id and records nothing (a different amend then is 409 AMEND_PENDING); once applied, 200 unchanged (a repeat off the tick or lot goes through the guards again first, and one a guard now refuses is a 422 recorded as order.amend_rejected); after it failed, a new amend (a new amend_id); on an ended order 409 ORDER_NOT_AMENDABLE. A repeat arriving after a different amend was applied is a new amend: it sets the order back to its values.",
          security: 'bearer',
          errors: ['400', '401', '403', '404', '413', '415', '429', '503'],
          responses: {
            '202': jsonAnswer('Amend recorded; its outcome streams', { type: 'object', properties: { order_id: { type: 'string' }, amend_id: { type: 'integer' }, state: { type: ['string', 'null'] }, amend_stage: { type: ['string', 'null'] } } }),
            '200': jsonAnswer('The order already has these values (as they would be sent, rounded to the tick and lot): nothing recorded or sent', {
              type: 'object',
              required: ['order_id', 'amend_id', 'state', 'amend_stage', 'unchanged'],
              properties: { order_id: { type: 'string' }, amend_id: { type: 'null' }, state: { type: ['string', 'null'] }, amend_stage: { type: ['string', 'null'] }, unchanged: { type: 'boolean', const: true } },
            }),
            '409': errorResponse('ORDER_NOT_AMENDABLE / AMEND_PENDING'),
            '422': errorResponse('Amend rejected by a guard'),
            '503': errorResponse(DISK_LOW_OR_UNAVAILABLE),
          },
          parameters: [ORDER_ID, TRACEPARENT],
          requestBody: { required: true, content: jsonContent(ref('AmendOrder')) },
        }),
      },
      '/v1/orders/{id}/events': {
        get: operation({
          tag: 'orders',
          summary: `The order's events from the log, with LSNs, page by page in log order (follow next_cursor until it is null). ${READERS}. ${DURABLE_READ}`,
          security: 'bearer',
          errors: ['400', '401', '404', '429', '503'],
          responses: { '200': { description: "A page of the order's records from the log, with their LSNs, and where the next page starts", content: jsonContent(ref('OrderEvents')) } },
          parameters: [
            ORDER_ID,
            ...queryParameters(EVENTS_QUERY, {
              limit: `Records per page, 1–${EVENTS_PAGE_MAX} (default ${EVENTS_PAGE_DEFAULT})`,
              cursor:
                "next_cursor of the previous page (the LSN of the last record it covered), or the LSN of any of this order's events to read on after it; none for the first page. " +
                "Any LSN below the log's first (GET /health log.first_lsn) is taken too: compaction removed every record there, so a cursor handed out before it reads on from the order's first record the log still holds (history_compacted says what is gone). " +
                "Any other LSN (another order's next_cursor) is 400 VALIDATION_FAILED",
            }),
          ],
        }),
      },
      '/v1/orders/{id}/explain': {
        get: operation({
          tag: 'orders',
          summary: `Decision records (why the order and each amend was accepted or rejected, and each resend allowed or refused, each reason code with its meaning) and the order's story from the log: the first and the most recent, with how many are left out between them (the whole history is GET /v1/orders/{id}/events). ${READERS}. ${DURABLE_READ}`,
          security: 'bearer',
          errors: ['401', '404', '429', '503'],
          responses: { '200': { description: 'Its decision records, its story from the log, and the kill switch holding it now (or null)', content: jsonContent(ref('OrderExplain')) } },
          parameters: [ORDER_ID],
        }),
      },
    },
  }
}
