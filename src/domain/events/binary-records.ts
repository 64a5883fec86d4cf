/**
 * The binary layouts of every record type (binary-layout.ts), compiled once from EVENT_SCHEMAS, and the per-type
 * writers and readers built on them. codec.ts and trusted-decode.ts are the only users; nothing else should depend on
 * the byte layout.
 */

import { recordLayoutOf, type LayoutField } from './binary-layout.ts'
import { compileRecordDecoder, type RecordDecoder } from './binary-reader.ts'
import { compileRecordWriter, type RecordWriter } from './binary-writer.ts'
import type { SchemaLike } from './json-plan.ts'
import { SchemaError } from './schema-error.ts'
import { EVENT_SCHEMAS } from './schemas.ts'
import type { EventType } from './types.ts'

const LAYOUTS = new Map<EventType, readonly LayoutField[]>(
  (Object.keys(EVENT_SCHEMAS) as EventType[]).map((name) => [name, recordLayoutOf(EVENT_SCHEMAS[name] as SchemaLike)]),
)

const INPUT_DECODERS = new Map<EventType, RecordDecoder>(
  [...LAYOUTS].map(([name, fields]) => [name, compileRecordDecoder(fields, 'input') as RecordDecoder]),
)

const WRITERS = new Map<EventType, RecordWriter>([...LAYOUTS].map(([name, fields]) => [name, compileRecordWriter(fields, name)]))

/** Trusted decoders by type, then by the set of skipped paths (null: none); null where a JSON part needs the validating decoder. */
const TRUSTED_DECODERS = new Map<EventType, Map<ReadonlySet<string> | null, RecordDecoder | null>>()

function layoutFor(name: EventType): readonly LayoutField[] {
  const fields = LAYOUTS.get(name)
  if (fields === undefined) throw new SchemaError('unknown_type', `no binary layout for record type ${name}`)
  return fields
}

/**
 * The writer of a type's events: the event's members (all but `type`, which the layout leaves to the frame) → a binary
 * payload; it throws AssertionError when the event does not fit its schema's shape.
 */
export function binaryWriterFor(name: EventType): RecordWriter {
  const write = WRITERS.get(name)
  if (write === undefined) throw new SchemaError('unknown_type', `no binary layout for record type ${name}`)
  return write
}

/** A binary payload → the JSON-form body the schema validates (decimals as strings). */
export function readBinaryInput(name: EventType, payload: Uint8Array): Record<string, unknown> {
  const decode = INPUT_DECODERS.get(name)
  if (decode === undefined) throw new SchemaError('unknown_type', `no binary layout for record type ${name}`)
  return decode(payload)
}

/**
 * The trusted decoder of a type, optionally passing over the member paths in `skip` (compiled once per set: callers
 * keep their set), or null when it has none. Its result carries `type`.
 */
export function trustedBinaryDecoder(name: EventType, skip: ReadonlySet<string> | null = null): RecordDecoder | null {
  let bySkip = TRUSTED_DECODERS.get(name)
  if (bySkip === undefined) {
    bySkip = new Map()
    TRUSTED_DECODERS.set(name, bySkip)
  }
  let decoder = bySkip.get(skip)
  if (decoder === undefined) {
    decoder = compileRecordDecoder(layoutFor(name), 'trusted', skip === null ? { typeName: name } : { skip, typeName: name })
    bySkip.set(skip, decoder)
  }
  return decoder
}

/** Only the `orderId` prefix: its decoder reads the first field and ignores the rest of the payload. */
const ORDER_ID_READERS = new Map<EventType, RecordDecoder>()

/**
 * The order id a binary payload carries, read from its first field without decoding the rest; null when the type has
 * no order id or the record's is null. Throws SchemaError on a damaged prefix.
 */
export function orderIdOfBinary(name: EventType, payload: Uint8Array): string | null {
  const fields = LAYOUTS.get(name)
  const first = fields?.[0]
  if (first === undefined || first.key !== 'orderId') return null
  let read = ORDER_ID_READERS.get(name)
  if (read === undefined) {
    read = compileRecordDecoder([first], 'input', { prefixOnly: true }) as RecordDecoder
    ORDER_ID_READERS.set(name, read)
  }
  const value = read(payload).orderId
  return typeof value === 'string' ? value : null
}
