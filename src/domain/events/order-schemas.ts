/**
 * An order's intake and its sends: accepted or rejected by the guards, a cancel asked for and done, and each
 * place or cancel the executor asks to send (or the I-100 gate blocks).
 * Part of EVENT_SCHEMAS (schemas.ts), in its key order: a binary layout follows the member order.
 */

import * as v from 'valibot'
import { idSchema, msSchema, nonNegativeUnitsSchema, orderTypeSchema, positiveUnitsSchema, sideSchema, tifSchema, ttlMsSchema } from '../schema-kit.ts'
import { decisionRecordSchema, gateVerdictSchema, laneSchema, reasonCodeSchema } from './common.ts'
import { attribution, orderBase, sendActionSchema, traceparent } from './record-parts.ts'

export const ORDER_EVENT_SCHEMAS = {
  'order.accepted': v.strictObject({
    type: v.literal('order.accepted'),
    ...orderBase,
    accountId: idSchema,
    idempotencyKey: v.string(),
    bodyDigest: v.string(),
    clientOrderId: v.nullable(v.string()),
    venue: idSchema,
    symbol: idSchema,
    baseAsset: idSchema,
    quoteAsset: idSchema,
    side: sideSchema,
    orderType: orderTypeSchema,
    qty: positiveUnitsSchema,
    price: v.nullable(positiveUnitsSchema),
    tif: tifSchema,
    postOnly: v.boolean(),
    reduceOnly: v.boolean(),
    lane: laneSchema,
    venueClientOrderId: v.string(),
    reservationAsset: idSchema,
    reservationAmount: nonNegativeUnitsSchema,
    flattenId: v.nullable(idSchema),
    decision: decisionRecordSchema,
    traceparent,
    // Payload version 7: the body's ttl_ms; the order's life ends at atMs + ttlMs (src/kernel/ttl.ts). Absent: none.
    ttlMs: v.exactOptional(ttlMsSchema),
    // Payload version 10: a market order's protection price, the limit it is sent at (src/kernel/intake/sent-order.ts
    // marketProtectionPrice). Absent: a limit order, a market order the instrument cannot protect, or one accepted
    // before protection existed — each sent as it is, a plain market order.
    protectionPrice: v.exactOptional(positiveUnitsSchema),
    // Payload version 11: a plain market order's worst price (src/kernel/intake/sent-order.ts plainMarketWorstPrice),
    // what its reservation and checks assumed. Absent: a limit order, a protected market order, or one accepted before
    // it was recorded — its fills are not held to a worst price.
    worstPrice: v.exactOptional(positiveUnitsSchema),
  }),
  'order.rejected': v.strictObject({
    type: v.literal('order.rejected'),
    ...orderBase,
    accountId: v.nullable(v.string()),
    idempotencyKey: v.nullable(v.string()),
    bodyDigest: v.string(),
    reason: reasonCodeSchema,
    guard: v.string(),
    decision: decisionRecordSchema,
    // Payload version 6: the rejected request's trace (a place the kernel refused).
    traceparent,
  }),
  'order.cancel_requested': v.strictObject({
    type: v.literal('order.cancel_requested'),
    ...orderBase,
    principalId: v.string(),
    reason: reasonCodeSchema,
    traceparent,
    // Payload version 12: the config and build the cancel was decided under (record-parts.ts attribution).
    ...attribution,
  }),
  'order.canceled': v.strictObject({
    type: v.literal('order.canceled'),
    ...orderBase,
    reason: reasonCodeSchema,
    source: v.picklist(['local', 'venue']),
    traceparent,
    // Payload version 11: who ended an order never sent (src/kernel/cancel.ts cancelEvents): the caller of a cancel,
    // flatten, mode change or kill switch, or a system principal (egress:ttl, a start's, an order list's). Absent: a
    // venue's cancel, or a record written before it was kept.
    principalId: v.exactOptional(v.string()),
    // Payload version 12: with principalId, the config and build the local end was decided under (attribution).
    ...attribution,
  }),
  'order.send_requested': v.strictObject({
    type: v.literal('order.send_requested'),
    ...orderBase,
    attempt: v.pipe(v.number(), v.safeInteger(), v.minValue(1)),
    venueClientOrderId: v.string(),
    gate: gateVerdictSchema,
  }),
  'order.cancel_send_requested': v.strictObject({
    type: v.literal('order.cancel_send_requested'),
    ...orderBase,
    attempt: v.pipe(v.number(), v.safeInteger(), v.minValue(1)),
    cancelClientOrderId: v.string(),
    /** The id the venue knows the order by (the last applied amend's, else the order's own). Absent in old records. */
    origClientOrderId: v.exactOptional(v.string()),
    gate: gateVerdictSchema,
  }),
  'order.send_blocked': v.strictObject({
    type: v.literal('order.send_blocked'),
    ...orderBase,
    action: sendActionSchema,
    reason: reasonCodeSchema,
    gate: gateVerdictSchema,
    retryAtMs: msSchema,
  }),
} as const
