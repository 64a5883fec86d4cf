/**
 * A fast decoder for records this program wrote itself and the log has just CRC- and chain-checked (restart replay):
 * JSON.parse, then only the conversions the valibot schemas would make — decimal strings to bigint Units — without
 * re-running every check. The conversion plan is derived once per event type by walking that type's schema, so it
 * cannot drift from the schemas: any schema part it does not understand (another transform, a default, a union that
 * converts) makes the whole type fall back to the full `decodeEvent`, as do older schema versions (upgrades).
 *
 * Anything received from outside, replay-verify and the audit path keep using `decodeEvent` (full validation);
 * specs/domain/events/trusted-decode.test.ts checks both decoders agree on every record of a simulated run.
 */

import { parseDecimal } from '../decimal.ts'
import { decodeEvent, SchemaError, type EncodedEvent } from './codec.ts'
import { topLevelMemberCut, type MemberKey } from './json-member.ts'
import { EVENT_VERSIONS, eventTypeForCode } from './registry.ts'
import { EVENT_SCHEMAS } from './schemas.ts'
import type { DomainEvent, EventType } from './types.ts'

/** Converts a parsed JSON value in place (objects) or returns its replacement (leaves). */
type Convert = (value: unknown) => unknown

/** `null`: nothing to convert. `'full'`: this schema needs the full decoder. */
type Plan = Convert | null | 'full'

interface SchemaLike {
  kind?: string
  type?: string
  pipe?: readonly SchemaLike[]
  operation?: unknown
  entries?: Record<string, SchemaLike>
  wrapped?: SchemaLike
  default?: unknown
  item?: SchemaLike
  items?: readonly SchemaLike[]
  options?: readonly SchemaLike[]
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

function planOf(schema: SchemaLike): Plan {
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
      return (schema.options ?? []).every((option) => planOf(option) === null) ? null : 'full'
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

const PLANS = new Map<EventType, Plan>()
for (const name of Object.keys(EVENT_SCHEMAS) as EventType[]) PLANS.set(name, planOf(EVENT_SCHEMAS[name] as SchemaLike))

const decoder = new TextDecoder('utf-8', { fatal: true })

/**
 * Decodes a record this program wrote (see the header). Same result as decodeEvent for every valid record — except,
 * when `unreadMember` names a top-level object member, that member is cut from the text unparsed and is absent from
 * the result (restart replay into the kernel, for members apply never reads: see src/kernel/apply-unread.ts). A record
 * that takes the full decoder keeps every member.
 */
export function decodeTrustedEvent(encoded: EncodedEvent, unreadMember?: MemberKey): DomainEvent {
  const fast = fastPlanFor(encoded)
  if (fast === null) return decodeEvent(encoded)
  const { name, plan } = fast
  const body = JSON.parse(textWithout(encoded.payload, unreadMember)) as Record<string, unknown>
  if (plan !== null) plan(body)
  body.type = name
  return body as unknown as DomainEvent
}

/** The payload's text, without the top-level member `unreadMember` when it names one (see json-member.ts). */
function textWithout(payload: Uint8Array, unreadMember: MemberKey | undefined): string {
  const cut = unreadMember === undefined ? null : topLevelMemberCut(payload, unreadMember)
  if (cut === null) return decoder.decode(payload)
  return decoder.decode(payload.subarray(0, cut.from)) + decoder.decode(payload.subarray(cut.to))
}

/**
 * The fast path's plan for a record, or null when it takes decodeEvent (unknown type, older version, a schema the
 * planner does not understand). A plan of null inside means "nothing to convert", not "no plan".
 */
export function fastPlanFor(encoded: { type: number; version: number }): { name: EventType; plan: Convert | null } | null {
  const name = eventTypeForCode(encoded.type)
  const plan = name === null ? undefined : PLANS.get(name)
  if (name === null || plan === undefined || plan === 'full' || encoded.version !== EVENT_VERSIONS[name]) return null
  return { name, plan }
}

/** Which event types take the fast path (for the spec and the benchmark's notes). */
export function trustedDecodeTypes(): EventType[] {
  return [...PLANS].filter(([, plan]) => plan !== 'full').map(([name]) => name)
}
