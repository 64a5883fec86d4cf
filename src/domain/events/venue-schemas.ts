/**
 * A venue's health level as the runtime scores it, and the emergency overrides of its CRITICAL level (§14):
 * proposed, approved, lapsed or revoked. The kernel holds both (KernelState.venueHealth), so a replay decides alike.
 * Part of EVENT_SCHEMAS (schemas.ts), in its key order: a binary layout follows the member order.
 */

import * as v from 'valibot'
import { HEALTH_LEVELS } from '../gate.ts'
import { OVERRIDE_SCOPES } from '../venue-health.ts'
import { idSchema, msSchema } from '../schema-kit.ts'
import { attribution, base } from './record-parts.ts'

export const VENUE_EVENT_SCHEMAS = {
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
    ...attribution,
  }),
  /** A second, distinct admin approved the override: it is in force until its untilMs. */
  'venue.override_approved': v.strictObject({
    type: v.literal('venue.override_approved'),
    ...base,
    venue: idSchema,
    overrideId: v.string(),
    principalId: v.string(),
    ...attribution,
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
    ...attribution,
  }),
} as const
