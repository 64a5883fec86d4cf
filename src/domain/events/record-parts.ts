/**
 * Members and member schemas the record schemas (the *-schemas.ts files of EVENT_SCHEMAS) share.
 */

import * as v from 'valibot'
import { idSchema, msSchema } from '../schema-kit.ts'
import { traceparentSchema } from '../trace-context.ts'

export const base = { atMs: msSchema }
export const orderBase = { atMs: msSchema, orderId: idSchema }
export const sendActionSchema = v.picklist(['place', 'cancel', 'amend'])
export const countFromOneSchema = v.pipe(v.number(), v.safeInteger(), v.minValue(1))
/**
 * The W3C trace context of the HTTP request whose command wrote the record (egress's own span in the caller's trace,
 * or in one egress started): on the records a place, cancel or amend writes. Absent in records written before it
 * (payload version 3 and older: registry.ts MEMBERS_ADDED) and in records no request caused.
 */
export const traceparent = v.exactOptional(traceparentSchema)
/**
 * The config digest and the build a decision was made under (§9: audit records carry the principal, the commit and the
 * config digest), beside the principal on the records of operator and control decisions and of a cancel or resend — the
 * members a place's, an amend's and a close's decision record (common.ts decisionRecordSchema) carries. configDigest is
 * the kernel's config (KernelState.config: the one it decided with), buildCommit the deciding build's
 * (src/cli/build-info.ts), given by the command. Absent in records written before payload version 12 (registry.ts
 * MEMBERS_ADDED), a build where the kernel held no config yet, and a command that carried no build (the command record
 * of a leader before it, or a decision on a venue's answer: an order list's sibling cancel, the gateway's own cancels).
 */
export const attribution = { configDigest: v.exactOptional(v.string()), buildCommit: v.exactOptional(v.string()) }
