/**
 * What came of an adapter call for a place, cancel or amend: the call completed, and the venue's answer — acked,
 * retry later, rejected — or no answer that settles it (the order is Unknown until reconciled).
 * Part of EVENT_SCHEMAS (schemas.ts), in its key order: a binary layout follows the member order.
 */

import * as v from 'valibot'
import { msSchema } from '../schema-kit.ts'
import { reasonCodeSchema } from './common.ts'
import { orderBase, sendActionSchema } from './record-parts.ts'

export const OUTCOME_EVENT_SCHEMAS = {
  /** The adapter call for a place or cancel returned (or was lost in a crash): the venue×symbol slot is free again. */
  'order.call_completed': v.strictObject({
    type: v.literal('order.call_completed'),
    ...orderBase,
    action: sendActionSchema,
    outcome: v.picklist(['ok', 'rejected', 'retryable', 'unknown', 'lost']),
    detail: v.string(),
  }),
  'order.send_acked': v.strictObject({ type: v.literal('order.send_acked'), ...orderBase, venueOrderId: v.string() }),
  'order.send_retry': v.strictObject({
    type: v.literal('order.send_retry'),
    ...orderBase,
    action: sendActionSchema,
    venueReason: v.string(),
    retryAtMs: msSchema,
  }),
  'order.venue_rejected': v.strictObject({ type: v.literal('order.venue_rejected'), ...orderBase, venueReason: v.string() }),
  'order.cancel_acked': v.strictObject({ type: v.literal('order.cancel_acked'), ...orderBase }),
  'order.cancel_rejected': v.strictObject({ type: v.literal('order.cancel_rejected'), ...orderBase, venueReason: v.string() }),
  'order.unknown': v.strictObject({ type: v.literal('order.unknown'), ...orderBase, reason: reasonCodeSchema, detail: v.string() }),
} as const
