/** The order-list part of the document (routes/order-lists.ts): place an OCO list, read one. */

import { ORDER_LIST_BODY_SCHEMA } from '../routes/order-lists.ts'
import { errorResponse, IDEMPOTENCY_KEY, idParam, jsonAnswer, jsonContent, operation, schemaOf, TRACEPARENT, type DocumentPart } from './shared.ts'

const LIST = {
  type: 'object',
  description: 'list_id, type, account, list_key, accepted_at_ms, order_ids (the legs, in the body order), links',
  properties: { list_id: { type: 'string' }, type: { type: 'string', enum: ['oco'] }, account: { type: 'string' }, order_ids: { type: 'array', items: { type: 'string' } } },
}

export function orderListsPart(): DocumentPart {
  return {
    schemas: { PlaceOrderList: schemaOf(ORDER_LIST_BODY_SCHEMA, 'An OCO list: two ordinary order bodies on the list account, one venue and symbol') },
    paths: {
      '/v1/order-lists': {
        post: operation({
          tag: 'orders',
          summary:
            'Place an OCO list (202 once durable): each order passes every guard of POST /v1/orders; when one executes (even in part), is canceled or ends, egress cancels the other (reason OCO_SIBLING_*), and cancels a leg that venue news brings back live after the list fired (OCO_LEG_REVIVED). ' +
            'A leg a guard rejects rejects the list: only that leg is recorded (order.rejected; details.leg, details.order_id). trader/bot, on an account in its token',
          security: 'bearer',
          errors: ['400', '401', '403', '413', '415', '503'],
          responses: {
            '202': jsonAnswer('Both orders accepted and durable, with the list (order_list.accepted)', LIST),
            '409': errorResponse('IDEMPOTENCY_CONFLICT: the list key was used with a different body, or a leg key already names an order that is not this list’s'),
            '422': errorResponse('A leg was rejected by a guard; error.code is the reason code, details.leg which order'),
            '429': errorResponse('ORDER_LISTS_FULL (10 000 lists open), shed by backpressure (Retry-After), OPEN_ORDERS_LIMIT / LANE_FULL'),
          },
          parameters: [IDEMPOTENCY_KEY, TRACEPARENT],
          requestBody: { required: true, content: jsonContent({ $ref: '#/components/schemas/PlaceOrderList' }) },
        }),
      },
      '/v1/order-lists/{id}': {
        get: operation({
          tag: 'orders',
          summary: 'An order list: state open | triggered | ended, what fired it, each leg with its state. Readers of its account (404 ORDER_LIST_NOT_FOUND otherwise)',
          security: 'bearer',
          errors: ['401', '404', '503'],
          responses: { '200': jsonAnswer('The list and its legs', LIST) },
          parameters: [idParam('id', 'Order list id')],
        }),
      },
    },
  }
}
