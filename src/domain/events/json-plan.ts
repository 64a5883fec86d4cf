/**
 * Conversion plans for JSON this program wrote: which members of a parsed value a schema would convert (decimal
 * strings to bigint Units) and nothing else, derived once by walking the valibot schema so it cannot drift from it.
 * A schema part the planner does not understand (another transform, a default, a union that converts) gives 'full':
 * the caller must take the validating decoder instead. Used by the trusted decoders (trusted-decode.ts) for version 1
 * JSON payloads and for the JSON parts of binary payloads (binary-layout.ts).
 */

import { parseDecimal } from '../decimal.ts'
import { SchemaError } from './schema-error.ts'

/** Converts a parsed JSON value in place (objects) or returns its replacement (leaves). */
export type Convert = (value: unknown) => unknown

/** `null`: nothing to convert. `'full'`: this schema needs the full decoder. */
export type Plan = Convert | null | 'full'

export interface SchemaLike {
  kind?: string
  type?: string
  pipe?: readonly SchemaLike[]
  operation?: unknown
  entries?: Record<string, SchemaLike>
  wrapped?: SchemaLike
  default?: unknown
  item?: SchemaLike
  items?: readonly SchemaLike[]
  /** A union's schemas, or a picklist's values. */
  options?: readonly unknown[]
  /** A record's key and value schemas. */
  key?: SchemaLike
  value?: SchemaLike
}

const IDENTITY_TYPES = new Set(['string', 'number', 'boolean', 'literal', 'picklist', 'null', 'enum', 'custom', 'unknown', 'any'])

const SCALE_BY_FRACTION_DIGITS = [1e8, 1e7, 1e6, 1e5, 1e4, 1e3, 1e2, 1e1, 1]
const CODE_MINUS = 45
const CODE_DOT = 46
const CODE_ZERO = 48
const CODE_NINE = 57

/**
 * A decimal string as written by formatDecimal → Units. A string of the form -?\d{1,15}(\.\d{1,8})? and at most 16
 * characters goes through a float exactly: its digits, read as one integer, stay below 10^15 < 2^53 (every step of
 * the accumulation is exact), and times a power of ten that keeps it a safe integer it is still exact. Anything else
 * takes parseDecimal (which also refuses what is not a decimal).
 */
function units(value: unknown): unknown {
  if (typeof value !== 'string') throw new SchemaError('invalid_payload', `expected a decimal string, got ${typeof value}`)
  const scaled = value.length <= 16 ? shortScaled(value) : null
  return scaled === null ? parseDecimal(value) : BigInt(scaled)
}

/** `value` × 10^8 as a safe integer when `value` matches the short form above, else null. */
function shortScaled(value: string): number | null {
  const length = value.length
  let index = length > 0 && value.charCodeAt(0) === CODE_MINUS ? 1 : 0
  const negative = index === 1
  let digits = 0
  let integerDigits = 0
  let fractionDigits = -1
  for (; index < length; index++) {
    const code = value.charCodeAt(index)
    if (code === CODE_DOT) {
      if (fractionDigits >= 0 || integerDigits === 0) return null
      fractionDigits = 0
      continue
    }
    if (code < CODE_ZERO || code > CODE_NINE) return null
    digits = digits * 10 + (code - CODE_ZERO)
    if (fractionDigits >= 0) fractionDigits++
    else integerDigits++
  }
  if (integerDigits === 0 || integerDigits > 15 || fractionDigits === 0 || fractionDigits > 8) return null
  const scaled = (negative ? -digits : digits) * (SCALE_BY_FRACTION_DIGITS[fractionDigits < 0 ? 0 : fractionDigits] as number)
  return Number.isSafeInteger(scaled) ? scaled : null
}

export function planOf(schema: SchemaLike): Plan {
  if (schema.pipe !== undefined) return planOfPipe(schema.pipe)
  switch (schema.type) {
    case 'strict_object':
    case 'object':
    case 'loose_object':
      return planOfObject(schema.entries ?? {})
    case 'nullable':
    case 'optional':
    case 'exact_optional':
    case 'nullish': {
      if (schema.default !== undefined) return 'full'
      const inner = planOf(schema.wrapped as SchemaLike)
      if (inner === null || inner === 'full') return inner
      return (value) => (value === null || value === undefined ? value : inner(value))
    }
    case 'array': {
      const item = planOf(schema.item as SchemaLike)
      if (item === null || item === 'full') return item
      return (value) => {
        const list = value as unknown[]
        for (let index = 0; index < list.length; index++) list[index] = item(list[index])
        return list
      }
    }
    case 'record': {
      const item = planOf(schema.value as SchemaLike)
      if (item === null || item === 'full') return item
      return (value) => {
        const object = value as Record<string, unknown>
        for (const key of Object.keys(object)) object[key] = item(object[key])
        return object
      }
    }
    case 'union':
    case 'variant':
      return (schema.options ?? []).every((option) => planOf(option as SchemaLike) === null) ? null : 'full'
    default:
      return IDENTITY_TYPES.has(schema.type ?? '') ? null : 'full'
  }
}

function planOfPipe(pipe: readonly SchemaLike[]): Plan {
  let plan: Plan = planOf(pipe[0] as SchemaLike)
  for (const action of pipe.slice(1)) {
    if (action.type !== 'transform') continue
    if (action.operation !== parseDecimal || plan !== null) return 'full'
    plan = units
  }
  return plan
}

function planOfObject(entries: Record<string, SchemaLike>): Plan {
  const fields: [string, Convert][] = []
  for (const [key, entry] of Object.entries(entries)) {
    const plan = planOf(entry)
    if (plan === 'full') return 'full'
    if (plan !== null) fields.push([key, plan])
  }
  if (fields.length === 0) return null
  const keys = fields.map(([key]) => key)
  const converts = fields.map(([, convert]) => convert)
  const count = keys.length
  return (value) => {
    const object = value as Record<string, unknown>
    for (let index = 0; index < count; index++) {
      const key = keys[index] as string
      const member = object[key]
      if (member !== undefined) object[key] = (converts[index] as Convert)(member)
    }
    return object
  }
}

