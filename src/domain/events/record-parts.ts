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
