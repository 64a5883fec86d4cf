/**
 * Reconciliation and recovery of an order: its state as reconciliation settled it (or put off, or an overfill
 * asked again), resends asked for or refused, the bootstrap suspects of a start, and a transition the state
 * machine refused.
 * Part of EVENT_SCHEMAS (schemas.ts), in its key order: a binary layout follows the member order.
 */

import * as v from 'valibot'
import { msSchema, nonNegativeUnitsSchema, positiveUnitsSchema } from '../schema-kit.ts'
import { orderStateSchema, reasonCodeSchema } from './common.ts'
import { attribution, orderBase } from './record-parts.ts'

export const RECOVERY_EVENT_SCHEMAS = {
  'order.reconciled': v.strictObject({
    type: v.literal('order.reconciled'),
    ...orderBase,
    to: orderStateSchema,
    reason: reasonCodeSchema,
    venueStatus: v.string(),
    notAtVenue: v.boolean(),
    venueOrderId: v.nullable(v.string()),
  }),
  'order.reconcile_deferred': v.strictObject({ type: v.literal('order.reconcile_deferred'), ...orderBase, retryAtMs: msSchema }),
  /**
   * The venue reports the order filled past its quantity (`venueCumQty`): the order stays as it is and the venue is
   * asked again at `retryAtMs`. The first answer with a given overfill raises the alert; a repeat waits twice as long
   * as the one before, to a bound (kernel/overfill-recheck.ts).
   */
  'order.overfill_recheck': v.strictObject({ type: v.literal('order.overfill_recheck'), ...orderBase, venueCumQty: positiveUnitsSchema, retryAtMs: msSchema }),
  'order.resend_requested': v.strictObject({
    type: v.literal('order.resend_requested'),
    ...orderBase,
    principalId: v.string(),
    reservationAmount: nonNegativeUnitsSchema,
    // Payload version 11: a plain market order's worst price at this resend, which its reservation was taken at again
    // (src/kernel/resend.ts). Absent: any other order, or a resend recorded before it was (its fills are not held to one).
    worstPrice: v.exactOptional(positiveUnitsSchema),
    // Payload version 12: the config and build the resend was decided under (record-parts.ts attribution).
    ...attribution,
  }),
  /**
   * A resend the kernel refused (src/kernel/resend.ts): the order is unchanged (it stays as it was, Failed or not
   * resendable); the record says who asked, the reason code, and what the refusing check looked at.
   */
  'order.resend_refused': v.strictObject({
    type: v.literal('order.resend_refused'),
    ...orderBase,
    principalId: v.string(),
    reason: reasonCodeSchema,
    detail: v.string(),
    ...attribution,
  }),
  /** At a start, an Unknown order becomes a bootstrap suspect: resent by a start if the venue proves it never had it. */
  'order.suspect_marked': v.strictObject({ type: v.literal('order.suspect_marked'), ...orderBase }),
  /** The start that marked it is done with it (not resent: still Unknown, too old, or the resend was refused). */
  'order.suspect_cleared': v.strictObject({ type: v.literal('order.suspect_cleared'), ...orderBase }),
  'order.transition_refused': v.strictObject({
    type: v.literal('order.transition_refused'),
    ...orderBase,
    from: orderStateSchema,
    transition: v.string(),
    detail: v.string(),
  }),
} as const
