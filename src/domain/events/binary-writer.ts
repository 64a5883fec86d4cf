/**
 * Writes an event body in its binary layout (binary-layout.ts) with a writer compiled once per record type, as the
 * readers are (binary-reader.ts): one generated function that checks and writes the members in layout order, straight
 * line, instead of a walk of the layout tree per value. The payload returned is a view of exactly the bytes written,
 * which are never written again (payload-writer.ts).
 *
 * A value that does not fit its layout (a missing member, a wrong type) is a bug in the code that built the event: it
 * throws AssertionError, naming the record type and the member (a nested member by its own name, an array item by
 * its array's), before the record is returned. specs/domain/events/compiled-writer.test.ts holds the writer to the
 * interpreted one it replaced, byte for byte and error for error.
 */

import { AssertionError } from '../assert.ts'
import { formatDecimal } from '../decimal.ts'
import { isRecordableUnits } from '../recordable-amounts.ts'
import { UNITS_VARINT_LIMIT, type Layout, type LayoutField } from './binary-layout.ts'
import { writeJsonPart } from './json-part-writer.ts'
import { PayloadWriter } from './payload-writer.ts'
import { writeScalarRecord } from './scalar-record.ts'

/** A compiled record writer: the body's layout members (read by name; other members are not looked at) → a fresh payload. */
export type RecordWriter = (body: object) => Uint8Array

const writer = new PayloadWriter()

/**
 * Generates the writer of `fields` for record type `where`. Member names go in as JSON.stringify literals, so any
 * name is safe in the source; every value gets its own `const`, named by a counter.
 */
export function compileRecordWriter(fields: readonly LayoutField[], where: string): RecordWriter {
  const emit: Emitter = { lines: [], names: 0 }
  for (const field of fields) {
    const name = fresh(emit, 'v')
    emit.lines.push(`const ${name} = b[${JSON.stringify(field.key)}]`)
    emitValue(emit, field.layout, name, field.key)
  }
  const source = `return function writeRecord(b) {\nw.begin()\n${emit.lines.join('\n')}\nreturn w.finish()\n}`
  return new Function('w', 'mismatch', 'writeUnits', 'writeJsonPart', 'writeScalarRecord', 'WHERE', source)(
    writer,
    mismatch,
    writeUnits,
    writeJsonPart,
    writeScalarRecord,
    where,
  ) as RecordWriter
}

interface Emitter {
  lines: string[]
  /** Variables named so far (the counter behind `fresh`). */
  names: number
}

function fresh(emit: Emitter, prefix: string): string {
  return `${prefix}${emit.names++}`
}

/** Appends the statements that check and write the value in variable `value` of `layout`; `path` names it in errors. */
function emitValue(emit: Emitter, layout: Layout, value: string, path: string): void {
  const lines = emit.lines
  const fail = (expected: string): string => `throw mismatch(WHERE, ${JSON.stringify(path)}, '${expected}', ${value})`
  switch (layout.kind) {
    case 'string':
      lines.push(`if (typeof ${value} !== 'string') ${fail('a string')}`, `w.string(${value})`)
      return
    case 'word':
      lines.push(`if (typeof ${value} !== 'string') ${fail('a string')}`, `w.word(${value})`)
      return
    case 'scalars':
      lines.push(`writeScalarRecord(w, ${value}, WHERE, ${JSON.stringify(path)})`)
      return
    case 'number':
      lines.push(`if (typeof ${value} !== 'number' || !Number.isFinite(${value})) ${fail('a finite number')}`, `w.float64(${value})`)
      return
    case 'boolean':
      lines.push(`if (typeof ${value} !== 'boolean') ${fail('a boolean')}`, `w.byte(${value} ? 1 : 0)`)
      return
    case 'units':
      lines.push(`if (typeof ${value} !== 'bigint') ${fail('Units (bigint)')}`, `writeUnits(w, ${value}, WHERE, ${JSON.stringify(path)})`)
      return
    case 'nullable':
    case 'optional':
      lines.push(`if (${value} === ${layout.kind === 'nullable' ? 'null' : 'undefined'}) w.byte(0)`, 'else {', 'w.byte(1)')
      emitValue(emit, layout.inner, value, path)
      lines.push('}')
      return
    case 'array': {
      const index = fresh(emit, 'i')
      const item = fresh(emit, 'v')
      lines.push(`if (!Array.isArray(${value})) ${fail('an array')}`, `w.varint(${value}.length)`)
      lines.push(`for (let ${index} = 0; ${index} < ${value}.length; ${index}++) {`, `const ${item} = ${value}[${index}]`)
      emitValue(emit, layout.item, item, path)
      lines.push('}')
      return
    }
    case 'object': {
      const lengthAt = fresh(emit, 'at')
      lines.push(`if (typeof ${value} !== 'object' || ${value} === null || Array.isArray(${value})) ${fail('an object')}`)
      const varint = layout.lengthPrefix === 'varint'
      lines.push('{', `const ${lengthAt} = ${varint ? 'w.beginVarintPrefixed()' : 'w.beginObject()'}`)
      for (const field of layout.fields) {
        const member = fresh(emit, 'v')
        lines.push(`const ${member} = ${value}[${JSON.stringify(field.key)}]`)
        emitValue(emit, field.layout, member, field.key)
      }
      lines.push(`${varint ? 'w.endVarintPrefixed' : 'w.endObject'}(${lengthAt})`, '}')
      return
    }
    case 'json':
      lines.push(`if (${value} === undefined) ${fail('a value')}`, `writeJsonPart(w, ${value})`)
      return
  }
}

function writeUnits(target: PayloadWriter, value: bigint, where: string, path: string): void {
  const negative = value < 0n
  const magnitude = negative ? -value : value
  if (magnitude < UNITS_VARINT_LIMIT) {
    target.byte(negative ? 1 : 0)
    target.varint(Number(magnitude))
    return
  }
  const text = formatDecimal(value)
  // Every reader parses this text (parseDecimal: at most 20 integer digits): a record it refuses would stop every
  // later restart, so an amount beyond it is refused here, before anything is logged. The venue boundary checks the
  // same bound (recordable-amounts.ts), so only a kernel bug gets here.
  if (!isRecordableUnits(value)) throw new AssertionError(`${where}: member ${path} is ${text}, beyond the amounts a record can hold`)
  target.byte(2)
  target.string(text)
}

function mismatch(where: string, path: string, expected: string, value: unknown): AssertionError {
  return new AssertionError(`${where}: member ${path} must be ${expected}, got ${value === null ? 'null' : typeof value}`)
}
