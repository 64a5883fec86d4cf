/**
 * Reads a binary payload (binary-layout.ts) back into an event body, in one of two forms:
 *
 *   'input'    the JSON form the valibot schemas take (decimals as strings): decodeEvent validates it fully, as it
 *              does a version 1 JSON payload — for anything read from outside, replay-verify and the audit.
 *   'trusted'  the validated form (Units as bigint) without re-running the checks: restart replay of records this
 *              program wrote and the log has CRC- and chain-checked (see trusted-decode.ts).
 *
 * Both check every length against the payload's end and refuse trailing bytes, so a damaged or foreign payload is a
 * SchemaError, never a read past the end. Decoders are compiled once per layout into closures.
 */

import { formatDecimal, parseDecimal, tryParseDecimal } from '../decimal.ts'
import { UNITS_VARINT_LIMIT, type Layout, type LayoutField } from './binary-layout.ts'
import { planOf, type Plan } from './json-plan.ts'
import { Reader } from './binary-cursor.ts'
import { readScalarRecord, skipScalarRecord } from './scalar-record.ts'
import { SchemaError } from './schema-error.ts'

export type ReadForm = 'input' | 'trusted'

const reader = new Reader()

type Decode = (reader: Reader) => unknown

/**
 * A compiled record decoder: the payload → its body. The payload is `source` whole, or bytes [start, end) of it (a
 * frame in its read buffer, without making a view of it); the caller keeps start ≤ end ≤ source.length.
 */
export type RecordDecoder = (source: Uint8Array, start?: number, end?: number) => Record<string, unknown>

export interface RecordDecoderOptions {
  /**
   * Member paths ('decision', 'report.venue') to pass over without decoding and leave out of the result (restart
   * replay into the kernel: src/kernel/apply-unread.ts).
   */
  skip?: ReadonlySet<string>
  /** `fields` are only the first fields of the layout: the bytes after them are not checked (an index reading an id). */
  prefixOnly?: boolean
  /** Put `type: typeName` first in the result (the shape valibot gives an event), built into the object literal. */
  typeName?: string
}

/**
 * Compiles a record decoder for `fields`, or returns null when the trusted form is asked for and a JSON part has no
 * conversion plan (the caller then takes the validating decoder). A skipped member is passed over by its length prefix.
 */
export function compileRecordDecoder(fields: readonly LayoutField[], form: ReadForm, options: RecordDecoderOptions = {}): RecordDecoder | null {
  const { skip = NOTHING_SKIPPED, prefixOnly = false, typeName } = options
  const decoders = fieldDecoders(fields, form, skip, '')
  if (decoders === null) return null
  const members = membersDecoder(fields, decoders, typeName)
  return (source, start = 0, end = source.length) => {
    reader.reset(source, start, end)
    const body = members(reader)
    if (!prefixOnly && reader.position !== reader.end) throw new SchemaError('invalid_payload', `binary payload has ${reader.end - reader.position} bytes after its last member`)
    return body
  }
}

/**
 * Reads `fields` in order into a new object. Generated once per layout as one function that builds the object from a
 * literal (a fixed shape per type, as JSON.parse gives; a loop of keyed stores over every type's keys made the
 * engine's property caches megamorphic and cost more than the reading). Keys are embedded with JSON.stringify, so any
 * member name is a safe literal; members that can be absent (optional, skipped) are added only when present.
 */
function membersDecoder(fields: readonly LayoutField[], decoders: FieldDecoders, typeName?: string): (r: Reader) => Record<string, unknown> {
  const { decodes, skipped } = decoders
  const reads = fields.map((_, index) => (skipped[index] ? `d[${index}](r)` : `const v${index} = d[${index}](r)`))
  const kept = fields.map((field, index) => ({ key: JSON.stringify(field.key), index, optional: field.layout.kind === 'optional' })).filter(({ index }) => !skipped[index])
  const always = (typeName === undefined ? [] : [`type: ${JSON.stringify(typeName)}`]).concat(kept.filter((field) => !field.optional).map(({ key, index }) => `${key}: v${index}`))
  const sometimes = kept.filter((field) => field.optional).map(({ key, index }) => `if (v${index} !== undefined) o[${key}] = v${index}`)
  const source = `return function (r) {\n${reads.join('\n')}\nconst o = { ${always.join(', ')} }\n${sometimes.join('\n')}\nreturn o\n}`
  return new Function('d', source)(decodes) as (r: Reader) => Record<string, unknown>
}

/** Skips an object by its length prefix. */
const SKIP_OBJECT: Decode = (r) => {
  r.need(4)
  const length = r.view.getUint32(r.position, true)
  r.position += 4
  r.need(length)
  r.position += length
  return undefined
}

const NOTHING_SKIPPED: ReadonlySet<string> = new Set()

/** Field decoders in layout order, and which of them only skip (their members never appear in the result). */
interface FieldDecoders {
  decodes: Decode[]
  skipped: boolean[]
}

/** Each field's decoder, a skipper for the fields `skip` names (by path from the record); null when one has none. */
function fieldDecoders(fields: readonly LayoutField[], form: ReadForm, skip: ReadonlySet<string>, path: string): FieldDecoders | null {
  const decodes: Decode[] = []
  const skipped: boolean[] = []
  for (const field of fields) {
    const fieldPath = path === '' ? field.key : `${path}.${field.key}`
    const skipping = skip.has(fieldPath)
    const decode = skipping ? skipperOf(field.layout) : decoderOf(field.layout, form, skip, fieldPath)
    if (decode === null) return null
    decodes.push(decode)
    skipped.push(skipping)
  }
  return { decodes, skipped }
}

/** Moves past a value of `layout` without making it (bounds still checked); the member is left out of the result. */
function skipperOf(layout: Layout): Decode {
  switch (layout.kind) {
    case 'number':
      return SKIP_NUMBER
    case 'boolean':
      return SKIP_BYTE
    case 'string':
    case 'json':
      return SKIP_STRING
    case 'word':
      return SKIP_WORD
    case 'scalars':
      return SKIP_SCALARS
    case 'units':
      return SKIP_UNITS
    case 'object':
      return layout.lengthPrefix === 'varint' ? SKIP_STRING : SKIP_OBJECT
    case 'nullable':
    case 'optional': {
      const inner = skipperOf(layout.inner)
      return (r) => {
        const flag = r.byte()
        if (flag === 1) return inner(r)
        if (flag !== 0) throw new SchemaError('invalid_payload', `binary payload has presence flag ${flag} at ${r.position - 1}`)
        return undefined
      }
    }
    case 'array': {
      const item = skipperOf(layout.item)
      return (r) => {
        const count = r.varint()
        r.need(count)
        for (let index = 0; index < count; index++) item(r)
        return undefined
      }
    }
  }
}

const SKIP_NUMBER: Decode = (r) => {
  r.need(8)
  r.position += 8
  return undefined
}

const SKIP_BYTE: Decode = (r) => {
  r.byte()
  return undefined
}

const SKIP_STRING: Decode = (r) => {
  const length = r.varint()
  r.need(length)
  r.position += length
  return undefined
}

const SKIP_WORD: Decode = (r) => {
  const prefix = r.varint()
  if (prefix % 2 === 1) return undefined
  r.need(prefix / 2)
  r.position += prefix / 2
  return undefined
}

const SKIP_SCALARS: Decode = (r) => {
  skipScalarRecord(r)
  return undefined
}

const SKIP_UNITS: Decode = (r) => {
  if (r.byte() === 2) return SKIP_STRING(r)
  r.varint()
  return undefined
}

function decoderOf(layout: Layout, form: ReadForm, skip: ReadonlySet<string> = NOTHING_SKIPPED, path = ''): Decode | null {
  switch (layout.kind) {
    case 'string':
      return form === 'trusted' ? readTrustedString : readString
    case 'word':
      return form === 'trusted' ? readTrustedWord : readWord
    case 'scalars':
      return form === 'trusted' ? readTrustedScalars : readScalars
    case 'number':
      return readNumber
    case 'boolean':
      return readBoolean
    case 'units':
      return form === 'trusted' ? readUnits : readUnitsText
    case 'nullable':
    case 'optional': {
      // The same path: a skipped member of a nullable object is passed over as it is in a plain one.
      const inner = decoderOf(layout.inner, form, skip, path)
      if (inner === null) return null
      const absent = layout.kind === 'nullable' ? null : undefined
      return (r) => {
        const flag = r.byte()
        if (flag === 0) return absent
        if (flag !== 1) throw new SchemaError('invalid_payload', `binary payload has presence flag ${flag} at ${r.position - 1}`)
        return inner(r)
      }
    }
    case 'array': {
      const item = decoderOf(layout.item, form)
      if (item === null) return null
      return (r) => {
        const count = r.varint()
        r.need(count) // every item takes at least one byte: a damaged count cannot allocate past the payload
        const list: unknown[] = []
        for (let index = 0; index < count; index++) list.push(item(r))
        return list
      }
    }
    case 'object':
      return objectDecoder(layout, form, skip, path)
    case 'json':
      return jsonDecoder(form === 'trusted' ? planOf(layout.schema) : null)
  }
}

function objectDecoder(layout: Layout & { kind: 'object' }, form: ReadForm, skip: ReadonlySet<string>, path: string): Decode | null {
  const decoders = fieldDecoders(layout.fields, form, skip, path)
  if (decoders === null) return null
  const members = membersDecoder(layout.fields, decoders)
  const varint = layout.lengthPrefix === 'varint'
  return (r) => {
    const at = r.position
    let length: number
    if (varint) length = r.varint()
    else {
      r.need(4)
      length = r.view.getUint32(r.position, true)
      r.position += 4
    }
    const end = r.position + length
    if (end > r.end) throw new SchemaError('invalid_payload', `binary payload has an object longer than the payload at ${at}`)
    const object = members(r)
    if (r.position !== end) throw new SchemaError('invalid_payload', `binary payload has an object whose length does not match its members at ${end}`)
    return object
  }
}

/** JSON parts: parsed, then (trusted form) converted by the schema's plan; a part without a plan → no trusted decoder. */
function jsonDecoder(plan: Plan): Decode | null {
  if (plan === 'full') return null
  return (r) => {
    const text = r.string()
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch (error) {
      throw new SchemaError('invalid_payload', `binary payload has a JSON part that does not parse (${String(error)})`)
    }
    return plan === null ? value : plan(value)
  }
}

const readString: Decode = (r) => r.string()
const readTrustedString: Decode = (r) => r.trustedString()
const readWord: Decode = (r) => r.word()
const readTrustedWord: Decode = (r) => r.trustedWord()
const readScalars: Decode = (r) => readScalarRecord(r, true)
const readTrustedScalars: Decode = (r) => readScalarRecord(r, false)
const readNumber: Decode = (r) => r.float64()

const readBoolean: Decode = (r) => {
  const byte = r.byte()
  if (byte > 1) throw new SchemaError('invalid_payload', `binary payload has boolean byte ${byte} at ${r.position - 1}`)
  return byte === 1
}

const readUnits: Decode = (r) => {
  const tag = r.byte()
  if (tag === 0) return BigInt(r.varint())
  if (tag === 1) return -BigInt(r.varint())
  if (tag === 2) {
    const at = r.position
    const units = tryParseDecimal(r.trustedString())
    if (units === null) throw new SchemaError('invalid_payload', `binary payload has an amount that is not a decimal at ${at}`)
    return units
  }
  throw new SchemaError('invalid_payload', `binary payload has Units tag ${tag} at ${r.position - 1}`)
}

/**
 * The input form: the canonical decimal string the schema parses (and checks) again. Only the forms the writer makes
 * are taken: a negative magnitude above zero, and a decimal string only for magnitudes beyond the varint's, in
 * formatDecimal's form — so no amount has two encodings.
 */
const readUnitsText: Decode = (r) => {
  const tag = r.byte()
  if (tag === 0) return formatDecimal(BigInt(r.varint()))
  if (tag === 1) {
    const magnitude = r.varint()
    if (magnitude === 0) throw new SchemaError('invalid_payload', `binary payload has a negative zero amount at ${r.position - 1}`)
    return formatDecimal(-BigInt(magnitude))
  }
  if (tag === 2) {
    const text = r.string()
    const units = tryParseDecimal(text)
    if (units === null || (units < UNITS_VARINT_LIMIT && units > -UNITS_VARINT_LIMIT) || formatDecimal(units) !== text) {
      throw new SchemaError('invalid_payload', `binary payload has an amount ${JSON.stringify(text.slice(0, 40))} not in the form the writer makes`)
    }
    return text
  }
  throw new SchemaError('invalid_payload', `binary payload has Units tag ${tag} at ${r.position - 1}`)
}
