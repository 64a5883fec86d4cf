/**
 * The binary layouts of every record type (binary-layout.ts), compiled once from EVENT_SCHEMAS per binary payload
 * version, and the per-type writers and readers built on them: writers for the current version only, readers for
 * every binary version a log may hold (2, plain; 3, compact). codec.ts and trusted-decode.ts are the only users;
 * nothing else should depend on the byte layout.
 */

import { recordLayoutOf, type LayoutField } from './binary-layout.ts'
import { compileRecordDecoder, type RecordDecoder } from './binary-reader.ts'
import { compileRecordWriter, type RecordWriter } from './binary-writer.ts'
import type { SchemaLike } from './json-plan.ts'
import { binaryFormatOf, EVENT_VERSIONS, MEMBERS_ADDED } from './registry.ts'
import { SchemaError } from './schema-error.ts'
import { EVENT_SCHEMAS } from './schemas.ts'
import type { EventType } from './types.ts'

/** What is compiled per type and binary version, on first use. */
interface VersionEntry {
  fields: readonly LayoutField[]
  input: RecordDecoder | null
  orderId: RecordDecoder | null
  /** Trusted decoders by the set of skipped paths (null: none); null where a JSON part needs the validating decoder. */
  trusted: Map<ReadonlySet<string> | null, RecordDecoder | null>
}

const ENTRIES = new Map<string, VersionEntry>()

/** The layouts of `name` at payload `version`; SchemaError when the version is not binary or newer than this binary. */
function entryFor(name: EventType, version: number): VersionEntry {
  const key = `${name}@${version}`
  let entry = ENTRIES.get(key)
  if (entry !== undefined) return entry
  const format = binaryFormatOf(version)
  if (EVENT_SCHEMAS[name] === undefined) throw new SchemaError('unknown_type', `no binary layout for record type ${name}`)
  if (format === null || version > EVENT_VERSIONS[name]) {
    throw new SchemaError('unsupported_version', `record type ${name} v${version}: no binary layout is kept for this version`)
  }
  entry = { fields: recordLayoutOf(schemaAtVersion(name, version), format), input: null, orderId: null, trusted: new Map() }
  ENTRIES.set(key, entry)
  return entry
}

const WRITERS = new Map<EventType, RecordWriter>(
  (Object.keys(EVENT_SCHEMAS) as EventType[]).map((name) => [name, compileRecordWriter(entryFor(name, EVENT_VERSIONS[name]).fields, name)]),
)

/**
 * The writer of a type's events at its current version: the event's members (all but `type`, which the layout leaves
 * to the frame) → a binary payload; it throws AssertionError when the event does not fit its schema's shape.
 */
export function binaryWriterFor(name: EventType): RecordWriter {
  const write = WRITERS.get(name)
  if (write === undefined) throw new SchemaError('unknown_type', `no binary layout for record type ${name}`)
  return write
}

/** A binary payload of `version` → the JSON-form body the schema validates (decimals as strings). */
export function readBinaryInput(name: EventType, version: number, payload: Uint8Array): Record<string, unknown> {
  const entry = entryFor(name, version)
  entry.input ??= compileRecordDecoder(entry.fields, 'input') as RecordDecoder
  return entry.input(payload)
}

/**
 * The trusted decoder of a type at `version`, optionally passing over the member paths in `skip` (compiled once per
 * set: callers keep their set), or null when it has none. Its result carries `type`.
 */
export function trustedBinaryDecoder(name: EventType, version: number, skip: ReadonlySet<string> | null = null): RecordDecoder | null {
  const entry = entryFor(name, version)
  let decoder = entry.trusted.get(skip)
  if (decoder === undefined) {
    decoder = compileRecordDecoder(entry.fields, 'trusted', skip === null ? { typeName: name } : { skip, typeName: name })
    entry.trusted.set(skip, decoder)
  }
  return decoder
}

/**
 * The order id a binary payload of `version` carries, read from its first field without decoding the rest; null when
 * the type has no order id or the record's is null. Throws SchemaError on a damaged prefix or an unknown version.
 */
export function orderIdOfBinary(name: EventType, version: number, payload: Uint8Array): string | null {
  const entry = entryFor(name, version)
  const first = entry.fields[0]
  if (first === undefined || first.key !== 'orderId') return null
  // Only the `orderId` prefix: its decoder reads the first field and ignores the rest of the payload.
  entry.orderId ??= compileRecordDecoder([first], 'input', { prefixOnly: true }) as RecordDecoder
  const value = entry.orderId(payload).orderId
  return typeof value === 'string' ? value : null
}

/**
 * The schema a payload of `version` was written with: the current one without the members added after `version`
 * (registry.ts MEMBERS_ADDED, top-level or nested by dotted path). Only its shape is used (the layout); decoding
 * validates with the current schema, where those members are optional.
 */
export function schemaAtVersion(name: EventType, version: number): SchemaLike {
  const schema = EVENT_SCHEMAS[name] as SchemaLike
  const added = MEMBERS_ADDED[name]
  if (added === undefined) return schema
  const later = Object.keys(added).filter((member) => (added[member] as number) > version)
  return later.reduce((shape, member) => withoutMember(shape, member.split('.')), schema)
}

/**
 * `schema` without the member at `path` (object keys; an array is passed through to its items, an optional or nullable
 * wrapper to what it wraps: account.flatten_requested's notClosed[].reason sits inside an optional array).
 */
function withoutMember(schema: SchemaLike, path: readonly string[]): SchemaLike {
  if (schema.type === 'array' && schema.item !== undefined) return { ...schema, item: withoutMember(schema.item as SchemaLike, path) }
  if (schema.wrapped !== undefined && schema.entries === undefined) return { ...schema, wrapped: withoutMember(schema.wrapped, path) }
  const [head, ...rest] = path
  const entries = schema.entries ?? {}
  if (head === undefined || !(head in entries)) return schema
  if (rest.length === 0) return { ...schema, entries: Object.fromEntries(Object.entries(entries).filter(([key]) => key !== head)) }
  return { ...schema, entries: { ...entries, [head]: withoutMember(entries[head] as SchemaLike, rest) } }
}
