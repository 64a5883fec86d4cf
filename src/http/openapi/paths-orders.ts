/**
 * The orders part of the document: place, list, get, cancel, amend, and an order's history from the log
 * (routes/orders.ts, order-actions.ts, order-log.ts).
 */

import { amendBodySchema, placeBodySchema } from '../../domain/orders.ts'
import { LIST_QUERY_SCHEMA } from '../routes/orders.ts'
import { DECIMAL, errorResponse, IDEMPOTENCY_KEY, jsonAnswer, jsonContent, operation, ORDER_ID, queryParameters, ref, schemaOf, type DocumentPart } from './shared.ts'

const READERS = 'trader/bot: orders of the accounts in its token; ops, auditor, admin: every account'

export function ordersPart(): DocumentPart {
  return {
    schemas: {
      PlaceOrder: schemaOf(placeBodySchema, `A new order. qty and price are ${DECIMAL}; a limit order needs price, a market order must not have one.`),
      AmendOrder: schemaOf(amendBodySchema, `qty and/or price as ${DECIMAL}`),
      Accepted: {
        type: 'object',
        properties: { order_id: { type: 'string' }, state: { type: 'string' }, account: { type: 'string' }, idempotency_key: { type: 'string' }, client_order_id: { type: ['string', 'null'] }, accepted_at_ms: { type: 'integer' }, links: { type: 'object' } },
      },
      Order: { type: 'object', description: 'An order: the request fields plus state, filled_qty, avg_fill_price, venue_order_id, lane, times.' },
    },
    paths: {
      '/v1/orders': {
        post: operation({
          tag: 'orders',
          summary: 'Place an order (202 once durable). trader/bot, on an account in its token',
          security: 'bearer',
          errors: ['400', '401', '403', '413', '503'],
          responses: {
            '202': { description: 'Accepted and durable', content: jsonContent(ref('Accepted')) },
            '409': errorResponse('IDEMPOTENCY_CONFLICT: the key was used with a different body; ANSWER_NOT_RETAINED: a repeat of a key whose order was retired and its records compacted away (details.order_id)'),
            '422': errorResponse('Rejected by a guard; error.code is the reason code'),
            '429': errorResponse('Shed by backpressure (Retry-After) or OPEN_ORDERS_LIMIT / LANE_FULL'),
          },
          parameters: [IDEMPOTENCY_KEY],
          requestBody: { required: true, content: jsonContent(ref('PlaceOrder')) },
        }),
        get: operation({
          tag: 'orders',
          summary: `List orders in acceptance order (filters, cursor pagination). ${READERS}; account names one of them (403 otherwise)`,
          security: 'bearer',
          errors: ['400', '401', '403', '503'],
          responses: {
            '200': { description: '{ orders, next_cursor }: follow next_cursor (opaque) until it is null; it goes on past orders retired meanwhile, its own included; a page reads at most 10,000 orders, so a short or empty page may still have one' },
            '410': errorResponse('CURSOR_NOT_RETAINED: the gateway restarted since the cursor was handed out and its order has retired since; start again without a cursor'),
          },
          parameters: queryParameters(LIST_QUERY_SCHEMA),
        }),
      },
      '/v1/orders/{id}': {
        get: operation({
          tag: 'orders',
          summary: `Get an order, including one the kernel rejected or retired. ${READERS} (404 for an order it may not read)`,
          security: 'bearer',
          errors: ['401', '404', '503'],
          responses: { '200': { description: 'The order', content: jsonContent(ref('Order')) } },
          parameters: [ORDER_ID],
        }),
      },
      '/v1/orders/{id}/cancel': {
        post: operation({
          tag: 'orders',
          summary: "Cancel an order (Lane0; never shed). The account's trader/bot, or ops/admin",
          security: 'bearer',
          errors: ['401', '403', '404', '413', '429', '503'],
          responses: {
            '202': jsonAnswer('Cancel recorded', { type: 'object', properties: { order_id: { type: 'string' }, state: { type: ['string', 'null'] }, cancel_requested: { const: true } } }),
            '409': errorResponse('ORDER_NOT_CANCELABLE'),
          },
          parameters: [ORDER_ID],
        }),
      },
      '/v1/orders/{id}/amend': {
        post: operation({
          tag: 'orders',
          summary: "Amend (replace) an order's qty and/or price. The account's trader/bot only (an amend can add risk: ops/admin get 403)",
          security: 'bearer',
          errors: ['400', '401', '403', '404', '413', '429', '503'],
          responses: {
            '202': jsonAnswer('Amend recorded; its outcome streams', { type: 'object', properties: { order_id: { type: 'string' }, amend_id: { type: 'integer' }, state: { type: ['string', 'null'] }, amend_stage: { type: ['string', 'null'] } } }),
            '409': errorResponse('ORDER_NOT_AMENDABLE / AMEND_PENDING'),
            '422': errorResponse('Amend rejected by a guard'),
          },
          parameters: [ORDER_ID],
          requestBody: { required: true, content: jsonContent(ref('AmendOrder')) },
        }),
      },
      '/v1/orders/{id}/events': {
        get: operation({
          tag: 'orders',
          summary: `The order's events from the log, with LSNs. ${READERS}`,
          security: 'bearer',
          errors: ['401', '404', '503'],
          responses: { '200': { description: '{ order_id, events }' } },
          parameters: [ORDER_ID],
        }),
      },
      '/v1/orders/{id}/explain': {
        get: operation({
          tag: 'orders',
          summary: `Decision records (why the order and each amend was accepted or rejected) and the order's whole story from the log. ${READERS}`,
          security: 'bearer',
          errors: ['401', '404', '503'],
          responses: { '200': { description: '{ order_id, account, decisions, story }' } },
          parameters: [ORDER_ID],
        }),
      },
    },
  }
}
