/**
 * An order's amends (replace): asked for or refused by a guard, sent, applied by the venue (and the loosest limit
 * the order has had, logged after it), or failed.
 * Part of EVENT_SCHEMAS (schemas.ts), in its key order: a binary layout follows the member order.
 */

import * as v from 'valibot'
import { nonNegativeUnitsSchema, positiveUnitsSchema, unitsSchema } from '../schema-kit.ts'
import { decisionRecordSchema, gateVerdictSchema, reasonCodeSchema } from './common.ts'
import { countFromOneSchema, orderBase, traceparent } from './record-parts.ts'

export const AMEND_EVENT_SCHEMAS = {
  /** An amend (replace) that passed its guards: it waits in Lane2; the reservation grows to the larger worst case. */
  'order.amend_requested': v.strictObject({
    type: v.literal('order.amend_requested'),
    ...orderBase,
    principalId: v.string(),
    amendId: countFromOneSchema,
    amendClientOrderId: v.string(),
    qty: positiveUnitsSchema,
    price: v.nullable(positiveUnitsSchema),
    reservationTotal: nonNegativeUnitsSchema,
    decision: decisionRecordSchema,
    traceparent,
  }),
  /** An amend refused by a guard. The order is unchanged; the record explains why. */
  'order.amend_rejected': v.strictObject({
    type: v.literal('order.amend_rejected'),
    ...orderBase,
    principalId: v.string(),
    qty: v.nullable(unitsSchema),
    price: v.nullable(unitsSchema),
    reason: reasonCodeSchema,
    guard: v.string(),
    decision: decisionRecordSchema,
    traceparent,
  }),
  'order.amend_send_requested': v.strictObject({
    type: v.literal('order.amend_send_requested'),
    ...orderBase,
    amendId: countFromOneSchema,
    attempt: countFromOneSchema,
    amendClientOrderId: v.string(),
    origClientOrderId: v.string(),
    qty: positiveUnitsSchema,
    price: v.nullable(positiveUnitsSchema),
    gate: gateVerdictSchema,
  }),
  /** The venue replaced the order: its quantity and price are now these, and the venue knows it by amendClientOrderId. */
  'order.amended': v.strictObject({
    type: v.literal('order.amended'),
    ...orderBase,
    amendId: countFromOneSchema,
    amendClientOrderId: v.string(),
    qty: positiveUnitsSchema,
    price: v.nullable(positiveUnitsSchema),
    reservationTotal: nonNegativeUnitsSchema,
    /** What proved it: the adapter's answer, an execution report, or reconciliation. */
    source: v.picklist(['result', 'report', 'reconcile']),
  }),
  /**
   * Logged right after an `order.amended` that changes it: the loosest limit among every version the order has had (its
   * own and each applied amend's; the higher for a buy, the lower for a sell). A late fill stated under an earlier
   * version is held to it (kernel/fill-limit.ts). Not logged for a market order, nor for one amended under a build that did
   * not log it (its earlier limits are not known), nor when the amend leaves it as it was (the build before logged it at
   * every applied limit amend: such a record changes nothing, and a re-decision's comparison takes it as absent).
   */
  'order.limit_loosest': v.strictObject({ type: v.literal('order.limit_loosest'), ...orderBase, limit: positiveUnitsSchema }),
  /** The amend did not happen (venue reject, gate, superseded by a cancel, or not found applied by reconciliation). */
  'order.amend_failed': v.strictObject({
    type: v.literal('order.amend_failed'),
    ...orderBase,
    amendId: countFromOneSchema,
    reason: reasonCodeSchema,
    detail: v.string(),
  }),
} as const
