/**
 * Encoding and decoding of domain events to and from WAL record bodies, without the `type` member, which the frame
 * carries as its u16 code. Payloads are written in the compact binary format of binary-layout.ts (schema version 3
 * of every type); payloads of logs written before it still decode: version 2 in the plain binary format, version 1
 * canonical JSON (sorted keys, Units as decimal strings). Same event in, same bytes out. Decoding validates with the
 * event's valibot schema and fails loudly with a typed SchemaError.
 */

import * as v from 'valibot'
import { binaryWriterFor, orderIdOfBinary, readBinaryInput } from './binary-records.ts'
import type { RecordWriter } from './binary-writer.ts'
import { EVENT_CODES, EVENT_UPGRADES, EVENT_VERSIONS, eventTypeForCode, JSON_PAYLOAD_VERSION_MAX } from './registry.ts'
import { SchemaError } from './schema-error.ts'
import { EVENT_SCHEMAS } from './schemas.ts'
import type { DomainEvent, EventType } from './types.ts'

export interface EncodedEvent {
  /** u16 record type code. */
  type: number
  /** Schema version (fits u8). */
  version: number
  payload: Uint8Array
}

export { SchemaError, type SchemaErrorKind } from './schema-error.ts'

const decoder = new TextDecoder('utf-8', { fatal: true })

/** Per type, what encodeEvent needs, found with one lookup. */
export interface TypeEncoder {
  code: number
  version: number
  write: RecordWriter
}

const ENCODERS = new Map<string, TypeEncoder>(
  (Object.keys(EVENT_CODES) as EventType[]).map((name) => [name, { code: EVENT_CODES[name], version: EVENT_VERSIONS[name], write: binaryWriterFor(name) }]),
)

export function encodeEvent(event: DomainEvent): EncodedEvent {
  const encoder = eventEncoderOf(event)
  // The writer reads the layout's members from the event itself (no copy without `type`: the layout has none).
  return { type: encoder.code, version: encoder.version, payload: encoder.write(event) }
}

/**
 * encodeEvent's parts for `event` (its code, version and payload writer), for a caller that keeps the record on an
 * object of its own (the engine's applied record): the same bytes, without an EncodedEvent per event.
 */
export function eventEncoderOf(event: DomainEvent): TypeEncoder {
  const encoder = ENCODERS.get(event.type)
  if (encoder === undefined) throw new SchemaError('unknown_type', `no binary layout for record type ${String(event.type)}`)
  return encoder
}

export function decodeEvent(encoded: EncodedEvent): DomainEvent {
  const name = eventTypeForCode(encoded.type)
  if (name === null) {
    throw new SchemaError('unknown_type', `unknown record type code ${encoded.type}; this binary may be older than the log`)
  }
  const current = EVENT_VERSIONS[name]
  if (!Number.isSafeInteger(encoded.version) || encoded.version < 1 || encoded.version > current) {
    throw new SchemaError(
      'unsupported_version',
      `record type ${name} has schema version ${encoded.version}; this binary understands versions 1..${current}`,
    )
  }
  const body = upgrade(name, encoded.version, bodyOf(name, encoded.version, encoded.payload))
  const result = v.safeParse(EVENT_SCHEMAS[name], { ...body, type: name })
  if (!result.success) {
    const issue = result.issues[0]
    const path = issue.path?.map((item) => String(item.key)).join('.') ?? '(root)'
    throw new SchemaError('invalid_payload', `record type ${name} v${encoded.version}: ${path}: ${issue.message}`)
  }
  return result.output as DomainEvent
}

/**
 * The payload in the JSON form the schema validates. Binary payloads are read with the current schema's layout in
 * their version's format: when a type's schema changes, keep the old schema's layout to read its older payloads.
 */
function bodyOf(name: EventType, version: number, payload: Uint8Array): Record<string, unknown> {
  if (version <= JSON_PAYLOAD_VERSION_MAX) return parseJsonPayload(name, payload)
  return readBinaryInput(name, version, payload)
}

function parseJsonPayload(name: EventType, payload: Uint8Array): Record<string, unknown> {
  let parsed: unknown
  try {
    parsed = JSON.parse(decoder.decode(payload))
  } catch (error) {
    throw new SchemaError('invalid_payload', `record type ${name}: payload is not UTF-8 JSON (${String(error)})`)
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new SchemaError('invalid_payload', `record type ${name}: payload must be a JSON object`)
  }
  return parsed as Record<string, unknown>
}

function upgrade(name: EventType, fromVersion: number, body: Record<string, unknown>): Record<string, unknown> {
  let current = body
  for (let version = fromVersion; version < EVENT_VERSIONS[name]; version += 1) {
    const step = EVENT_UPGRADES[name]?.[version]
    if (step === undefined) {
      throw new SchemaError('unsupported_version', `record type ${name}: no upgrade from schema version ${version}`)
    }
    current = step(current)
  }
  return current
}

/**
 * The order id a domain event record carries, without decoding the rest where the payload is binary (the history
 * index reads it for every record); null for records of other types, without an order id, or damaged ones.
 */
export function orderIdOfRecord(encoded: EncodedEvent): string | null {
  const name = eventTypeForCode(encoded.type)
  if (name === null) return null
  try {
    if (encoded.version > JSON_PAYLOAD_VERSION_MAX) return orderIdOfBinary(name, encoded.version, encoded.payload)
    const parsed = JSON.parse(decoder.decode(encoded.payload)) as { orderId?: unknown }
    return typeof parsed.orderId === 'string' ? parsed.orderId : null
  } catch {
    return null
  }
}

/** A record's members in JSON form (decimals as strings), unvalidated — for showing where two records differ. */
export function recordBodyOf(encoded: EncodedEvent): Record<string, unknown> {
  const name = eventTypeForCode(encoded.type)
  if (name === null) throw new SchemaError('unknown_type', `unknown record type code ${encoded.type}`)
  return bodyOf(name, encoded.version, encoded.payload)
}
