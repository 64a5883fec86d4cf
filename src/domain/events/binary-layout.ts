/**
 * The binary payload layout of a record type, derived once from its valibot schema (schemas.ts stays the single
 * source of truth). Payload version 1 is canonical JSON; versions 2 and up are binary, in one of two formats
 * (registry.ts tells which by version), both read and written from the same layout tree:
 *
 * Fields are written in a fixed order — `orderId` first when the type has one (so an index can read it without
 * decoding the rest), then every other member sorted by name; the top-level `type` literal is carried by the frame's
 * type code and not written. Per schema node:
 *
 *   string             varint byte length, UTF-8 bytes (a picklist of strings too)
 *   number             float64, little-endian (a picklist of numbers too)
 *   boolean            one byte, 0 or 1
 *   Units (decimal)    one tag byte: 0 = non-negative, 1 = negative, each followed by a varint of the magnitude
 *                      (< 2^53); 2 = a canonical decimal string (varint length, bytes) for anything larger
 *   nullable/optional  one byte, 0 = null/absent, 1 = present followed by the inner value
 *   array              varint count, then the items
 *   object             u32 byte length of the members (so a reader can skip it whole), then the members in order
 *   anything else      varint byte length, canonical JSON (records of free-form inputs, unions, the kernel config)
 *
 * The compact format (version 3) writes what recurs in every record in fewer bytes — an order's records were ~2 KB,
 * most of it a guard's inputs as JSON and the gate's checks as text — and is otherwise the same:
 *
 *   string (word)      varint n: odd n is word (n - 1) / 2 of the vocabulary (vocabulary.ts), even n a string of
 *                      n / 2 UTF-8 bytes that is not a word; a word below 64 takes one byte
 *   record of scalars  (a guard's inputs: string keys, values string, number, boolean or null) varint count, then
 *                      each member in key order (code units, strictly increasing): its key as a word, a tag byte and
 *                      the value — 0 null, 1 false, 2 true, 3 a word, 4 a non-negative safe integer as a varint,
 *                      5 a negative one as the varint of its magnitude, 6 any other finite number as a float64
 *   object             varint byte length of the members, then the members
 *
 * Same event in, same bytes out, like the JSON it replaces: no field is optional in its position, numbers have one
 * encoding (-0 is written as 0, as JSON writes it), varints are in their shortest form, JSON parts are canonical, and
 * a word is always written as its index. The validating reader refuses the other forms.
 *
 * The layout is not self-describing: a reader takes the bytes by position. So a type's layout is fixed for its schema
 * version — any change to its schema's shape (a member added, removed or renamed, a kind changed, in nested objects
 * and the kernel config too) needs a new version (registry.ts); specs/domain/events/layout-pin.test.ts fails until it
 * gets one.
 */

import { parseDecimal } from '../decimal.ts'
import type { SchemaLike as SchemaNode } from './json-plan.ts'

/** Units magnitudes below this go as a varint (tags 0 and 1); larger ones as their decimal string (tag 2). */
export const UNITS_VARINT_LIMIT = 2n ** 53n

/** The two binary formats: `plain` (payload version 2) and `compact` (version 3). */
export type BinaryFormat = 'plain' | 'compact'

export type Layout =
  | { kind: 'string' }
  | { kind: 'word' }
  | { kind: 'scalars' }
  | { kind: 'number' }
  | { kind: 'boolean' }
  | { kind: 'units' }
  | { kind: 'nullable'; inner: Layout }
  | { kind: 'optional'; inner: Layout }
  | { kind: 'array'; item: Layout }
  | { kind: 'object'; fields: readonly LayoutField[]; lengthPrefix: 'u32' | 'varint' }
  | { kind: 'json'; schema: SchemaNode }

export interface LayoutField {
  key: string
  layout: Layout
}


/** The layout of a record type in `format`: its top-level fields in write order (without `type`). */
export function recordLayoutOf(schema: SchemaNode, format: BinaryFormat): readonly LayoutField[] {
  const layout = layoutOf(schema, format)
  if (layout.kind !== 'object') throw new TypeError(`a record schema must be an object, got ${schema.type}`)
  return layout.fields.filter((field) => field.key !== 'type')
}

export function layoutOf(schema: SchemaNode, format: BinaryFormat): Layout {
  if (schema.pipe !== undefined) return layoutOfPipe(schema, schema.pipe, format)
  const text: Layout = format === 'compact' ? WORD : STRING
  switch (schema.type) {
    case 'string':
      return text
    case 'picklist':
      // Options of one type go as that type (lanes are numbers); a mixed picklist as JSON.
      if (schema.options?.every((option) => typeof option === 'string')) return text
      if (schema.options?.every((option) => typeof option === 'number')) return { kind: 'number' }
      return { kind: 'json', schema }
    case 'number':
      return { kind: 'number' }
    case 'boolean':
      return { kind: 'boolean' }
    case 'nullable':
      return schema.default === undefined ? { kind: 'nullable', inner: layoutOf(schema.wrapped as SchemaNode, format) } : { kind: 'json', schema }
    case 'optional':
    case 'exact_optional':
      return schema.default === undefined ? { kind: 'optional', inner: layoutOf(schema.wrapped as SchemaNode, format) } : { kind: 'json', schema }
    case 'array':
      return { kind: 'array', item: layoutOf(schema.item as SchemaNode, format) }
    case 'strict_object':
    case 'object':
      return { kind: 'object', fields: fieldsOf(schema.entries ?? {}, format), lengthPrefix: format === 'compact' ? 'varint' : 'u32' }
    case 'record':
      return format === 'compact' && isScalarRecord(schema) ? { kind: 'scalars' } : { kind: 'json', schema }
    default:
      return { kind: 'json', schema }
  }
}

const STRING: Layout = { kind: 'string' }
const WORD: Layout = { kind: 'word' }
const SCALAR_TYPES: ReadonlySet<string | undefined> = new Set(['string', 'number', 'boolean', 'null'])

/** A record of plain string keys to a union of plain strings, numbers, booleans and null (a guard's inputs). */
function isScalarRecord(schema: SchemaNode): boolean {
  const key = schema.key
  const value = schema.value
  if (key === undefined || value === undefined || key.type !== 'string' || key.pipe !== undefined) return false
  const options = value.type === 'union' ? (value.options as SchemaNode[] | undefined) ?? [] : [value]
  return options.length > 0 && options.every((option) => option.pipe === undefined && SCALAR_TYPES.has(option.type))
}

/**
 * A pipe keeps its first schema's layout when it only checks (positiveUnitsSchema refines unitsSchema: still Units);
 * a string turned into Units by parseDecimal is Units; any other transform makes the whole value JSON.
 */
function layoutOfPipe(schema: SchemaNode, pipe: readonly SchemaNode[], format: BinaryFormat): Layout {
  const transforms = pipe.filter((action) => action.type === 'transform')
  const first = pipe[0] as SchemaNode
  if (transforms.length === 0) return layoutOf(first, format)
  if (transforms.length === 1 && transforms[0]?.operation === parseDecimal && first.type === 'string' && first.pipe === undefined) return { kind: 'units' }
  return { kind: 'json', schema }
}

function fieldsOf(entries: Record<string, SchemaNode>, format: BinaryFormat): LayoutField[] {
  const keys = Object.keys(entries).sort((a, b) => (a === 'orderId' ? -1 : b === 'orderId' ? 1 : a < b ? -1 : a > b ? 1 : 0))
  return keys.map((key) => ({ key, layout: layoutOf(entries[key] as SchemaNode, format) }))
}
