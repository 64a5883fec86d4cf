/**
 * The valibot pieces the documented answers of /health and /v1/stats are built from (health-schema.ts,
 * ha-status-schema.ts, stats-schema.ts): every field says its type, whether it may be null, and what it means.
 * Objects are strict, so the document lists every key an answer has (additionalProperties false) and which are always
 * there (required).
 */

import * as v from 'valibot'

/** A count, an LSN or a size: an integer ≥ 0. */
export const count = (description: string) => v.pipe(v.number(), v.integer(), v.minValue(0), v.description(description))

/** An integer that may be negative: a duration or a difference of wall-clock times (a clock may step back). */
export const integer = (description: string) => v.pipe(v.number(), v.integer(), v.description(description))

export const text = (description: string) => v.pipe(v.string(), v.description(description))

export const flag = (description: string) => v.pipe(v.boolean(), v.description(description))

/** `schema`, or null; the description is the field's, said once beside both. */
export const orNull = <S extends v.GenericSchema>(schema: S, description: string) => v.pipe(v.nullable(schema), v.description(description))

/**
 * Compile time only: true when A and B are each assignable to the other. A schema checked with it against the type
 * the runtime builds its answer as cannot gain, lose or retype a field without tsc failing.
 */
export type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
