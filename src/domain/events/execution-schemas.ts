/**
 * What the venue reports an order did: its fills, the synthetic fills reconciliation infers from the venue's
 * cumulative quantity (pending, declined, covered and trued up by the real fills later), and its expiry.
 * Part of EVENT_SCHEMAS (schemas.ts), in its key order: a binary layout follows the member order.
 */

import * as v from 'valibot'
import { msSchema, nonNegativeUnitsSchema, positiveUnitsSchema, unitsSchema } from '../schema-kit.ts'
import { orderBase } from './record-parts.ts'

export const EXECUTION_EVENT_SCHEMAS = {
  'order.fill': v.strictObject({
    type: v.literal('order.fill'),
    ...orderBase,
    execId: v.string(),
    lastQty: positiveUnitsSchema,
    lastPrice: positiveUnitsSchema,
    fee: unitsSchema,
    feeAsset: v.string(),
    cumQty: positiveUnitsSchema,
    /** True when reconciliation inferred the fill from the venue's cumulative quantity without a trade record. */
    synthetic: v.boolean(),
    venueTimeMs: msSchema,
    // Payload version 11: a real fill's place in the venue's cumulative quantity, the venue cumulative quantity through
    // it (src/kernel/inbox.ts emitFill): the quantity booked is the top `lastQty` of (venueCumQty − the fill's whole
    // quantity, venueCumQty], the part a synthetic fill covered being its bottom. The back office places a synthetic
    // fill's quantity by it (src/backoffice/venue-ranges.ts). Absent: a synthetic fill (its cumQty is the venue's), a
    // fill whose report stated no cumulative quantity, or one logged before it was kept — placed at egress's own
    // cumulative quantity, as then.
    venueCumQty: v.exactOptional(positiveUnitsSchema),
  }),
  /**
   * A real fill report (or venue trade) whose quantity a synthetic fill had already booked, in whole or in part: the
   * synthetic fill booked up to the venue cumulative quantity `syntheticCumQty`, and this fill's venue range ends at
   * `venueCumQty`. `coveredQty` of its `lastQty` is not booked again (any rest is an `order.fill` of the same execId);
   * price and fee are the venue's, kept so the synthetic fill's guess can be compared with them.
   */
  'order.fill_covered': v.strictObject({
    type: v.literal('order.fill_covered'),
    ...orderBase,
    execId: v.string(),
    lastQty: positiveUnitsSchema,
    coveredQty: positiveUnitsSchema,
    lastPrice: positiveUnitsSchema,
    fee: unitsSchema,
    feeAsset: v.string(),
    venueCumQty: positiveUnitsSchema,
    syntheticCumQty: positiveUnitsSchema,
    venueTimeMs: msSchema,
  }),
  /**
   * The quantity of the synthetic fill just booked (`execId`, at `price`), kept by the order until the real fills it
   * stands for arrive and true it up (`order.fill_trued_up`). Synthetic fills logged before this event existed have
   * none: their quantity stays at its synthetic price.
   */
  'order.synthetic_pending': v.strictObject({
    type: v.literal('order.synthetic_pending'),
    ...orderBase,
    execId: v.string(),
    qty: positiveUnitsSchema,
    price: positiveUnitsSchema,
  }),
  /**
   * The venue says more filled (`venueCumQty`) than its trades explain, and the synthetic fill that would book the
   * difference at `price` was not booked: the synthetic cash the order would then hold pending is past what a record
   * holds (kernel/reconcile.ts). Logged with the one alert (RECONCILE_SYNTHETIC_UNRECORDABLE); the order keeps
   * `venueCumQty`, so a read-back that says the same again is not alerted again, while one that says another is.
   */
  'order.synthetic_declined': v.strictObject({
    type: v.literal('order.synthetic_declined'),
    ...orderBase,
    venueCumQty: positiveUnitsSchema,
    price: positiveUnitsSchema,
  }),
  /**
   * A real fill (`execId`) covered synthetic quantity: the order's books now hold the real numbers for it. `qty` of the
   * synthetic quantity pending is repriced — what the synthetic fills booked for it (`syntheticCash` as booked, rounded
   * against the account; `syntheticNotional` half-even) is replaced by what the real fill says (`cash`, `notional`,
   * at `lastPrice`) — and `fee` is the real fill's fee when no `order.fill` of the same execId books it.
   */
  'order.fill_trued_up': v.strictObject({
    type: v.literal('order.fill_trued_up'),
    ...orderBase,
    execId: v.string(),
    qty: nonNegativeUnitsSchema,
    lastPrice: positiveUnitsSchema,
    cash: nonNegativeUnitsSchema,
    notional: nonNegativeUnitsSchema,
    syntheticCash: nonNegativeUnitsSchema,
    syntheticNotional: nonNegativeUnitsSchema,
    fee: unitsSchema,
    feeAsset: v.string(),
    venueTimeMs: msSchema,
  }),
  'order.expired': v.strictObject({ type: v.literal('order.expired'), ...orderBase }),
} as const
