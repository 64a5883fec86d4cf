/**
 * Every record type the kernel produces or consumes, as valibot schemas. The schemas are the single source of truth:
 * the TypeScript event types are inferred from them (types.ts), and decodeEvent validates every payload with them.
 * Each event carries `atMs`, the time of the command that caused it (the kernel reads no clock).
 */

import * as v from 'valibot'
import { kernelConfigSchema } from '../kernel-config.ts'
import { HEALTH_LEVELS } from '../gate.ts'
import { KILL_SWITCH_ACTIONS, TRADING_SWITCHES } from '../modes.ts'
import { OVERRIDE_SCOPES } from '../venue-health.ts'
import {
  idSchema,
  msSchema,
  nonNegativeUnitsSchema,
  orderTypeSchema,
  positiveUnitsSchema,
  sideSchema,
  tifSchema,
  unitsSchema,
} from '../schema-kit.ts'
import {
  decisionRecordSchema,
  executionReportSchema,
  gateVerdictSchema,
  laneSchema,
  modeSchema,
  orderStateSchema,
  reasonCodeSchema,
} from './common.ts'
import { traceparentSchema } from '../trace-context.ts'
import { AUTH_EVENT_SCHEMAS } from './auth-schemas.ts'

const base = { atMs: msSchema }
const orderBase = { atMs: msSchema, orderId: idSchema }
const sendActionSchema = v.picklist(['place', 'cancel', 'amend'])
const countFromOneSchema = v.pipe(v.number(), v.safeInteger(), v.minValue(1))
/**
 * The W3C trace context of the HTTP request whose command wrote the record (egress's own span in the caller's trace,
 * or in one egress started): on the records a place, cancel or amend writes. Absent in records written before it
 * (payload version 3 and older: registry.ts MEMBERS_ADDED) and in records no request caused.
 */
const traceparent = v.exactOptional(traceparentSchema)

export const EVENT_SCHEMAS = {
  'kernel.configured': v.strictObject({ type: v.literal('kernel.configured'), ...base, config: kernelConfigSchema }),
  // The retirement rule the kernel follows from this record on (src/kernel/retention.ts).
  'kernel.retire_rule_adopted': v.strictObject({ type: v.literal('kernel.retire_rule_adopted'), ...base, rule: countFromOneSchema }),
  'mode.changed': v.strictObject({ type: v.literal('mode.changed'), ...base, mode: modeSchema, principalId: v.string(), note: v.string() }),
  'switch.changed': v.strictObject({
    type: v.literal('switch.changed'),
    ...base,
    action: v.picklist(KILL_SWITCH_ACTIONS),
    switch: v.picklist(TRADING_SWITCHES),
    principalId: v.string(),
    note: v.string(),
  }),
  'account.funded': v.strictObject({
    type: v.literal('account.funded'),
    ...base,
    accountId: idSchema,
    asset: idSchema,
    /** Signed: a negative amount withdraws. */
    amount: unitsSchema,
    reference: v.string(),
  }),
  'account.flatten_requested': v.strictObject({
    type: v.literal('account.flatten_requested'),
    ...base,
    accountId: idSchema,
    flattenId: idSchema,
    principalId: v.string(),
    traceparent,
  }),
  /**
   * The runtime's venue health scoring (src/runtime/venue-health-monitor.ts) moved a venue to another level; the
   * kernel holds it (KernelState.venueHealth) and the I-100 gate's check 8 decides on it, so a replay decides alike.
   */
  'venue.health_changed': v.strictObject({
    type: v.literal('venue.health_changed'),
    ...base,
    venue: idSchema,
    level: v.picklist(HEALTH_LEVELS),
    previous: v.picklist(HEALTH_LEVELS),
    score: v.pipe(v.number(), v.safeInteger(), v.minValue(0), v.maxValue(100)),
    detail: v.string(),
  }),
  /** An admin proposed an emergency override of a venue's CRITICAL level (§14): in force once a second admin approves. */
  'venue.override_proposed': v.strictObject({
    type: v.literal('venue.override_proposed'),
    ...base,
    venue: idSchema,
    overrideId: v.string(),
    principalId: v.string(),
    /** Why the override is needed (the API's `reason`; named `note` as operators' texts are, `reason` being a code). */
    note: v.string(),
    scope: v.picklist(OVERRIDE_SCOPES),
    untilMs: msSchema,
  }),
  /** A second, distinct admin approved the override: it is in force until its untilMs. */
  'venue.override_approved': v.strictObject({
    type: v.literal('venue.override_approved'),
    ...base,
    venue: idSchema,
    overrideId: v.string(),
    principalId: v.string(),
  }),
  /**
   * An override (approved, or a proposal never approved) reached its expiry: recorded by the leader once its clock
   * passes untilMs (src/runtime/venue-override-lapses.ts), late after a crash or a failover. Check 8 never waited for
   * it — it compares the send's time with untilMs — so the record only says, in the log, when the override ended:
   * `untilMs`, and `atMs` when it was noticed. `approved`: it had been in force (else a proposal that lapsed).
   */
  'venue.override_lapsed': v.strictObject({
    type: v.literal('venue.override_lapsed'),
    ...base,
    venue: idSchema,
    overrideId: v.string(),
    untilMs: msSchema,
    approved: v.boolean(),
  }),
  /** An operator ended the override before its expiry. */
  'venue.override_revoked': v.strictObject({
    type: v.literal('venue.override_revoked'),
    ...base,
    venue: idSchema,
    overrideId: v.string(),
    principalId: v.string(),
    note: v.string(),
  }),
  ...AUTH_EVENT_SCHEMAS,
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
  }),
  'order.canceled': v.strictObject({
    type: v.literal('order.canceled'),
    ...orderBase,
    reason: reasonCodeSchema,
    source: v.picklist(['local', 'venue']),
    traceparent,
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
   * version is held to it (kernel/inbox.ts). Not logged for a market order, nor for one amended under a build that did
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
  'inbox.report_accepted': v.strictObject({
    type: v.literal('inbox.report_accepted'),
    ...base,
    orderId: v.nullable(idSchema),
    report: executionReportSchema,
  }),
  'inbox.duplicate_dropped': v.strictObject({
    type: v.literal('inbox.duplicate_dropped'),
    ...base,
    orderId: v.nullable(idSchema),
    venue: v.string(),
    execId: v.string(),
  }),
  'alert.raised': v.strictObject({
    type: v.literal('alert.raised'),
    ...base,
    reason: reasonCodeSchema,
    orderId: v.nullable(idSchema),
    detail: v.string(),
  }),
} as const
