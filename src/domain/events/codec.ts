/**
 * Encoding and decoding of domain events to and from WAL record bodies. The payload is canonical JSON (sorted keys,
 * Units as decimal strings) without the `type` member, which the frame carries as its u16 code. Same event in, same
 * bytes out. Decoding validates with the event's valibot schema and fails loudly with a typed SchemaError.
 */

import * as v from 'valibot'
import { canonicalJson } from '../canonical-json.ts'
import { EVENT_CODES, EVENT_UPGRADES, EVENT_VERSIONS, eventTypeForCode } from './registry.ts'
import { EVENT_SCHEMAS } from './schemas.ts'
import type { DomainEvent, EventType } from './types.ts'

export interface EncodedEvent {
  /** u16 record type code. */
  type: number
  /** Schema version (fits u8). */
  version: number
  payload: Uint8Array
}

export type SchemaErrorKind = 'unknown_type' | 'unsupported_version' | 'invalid_payload'

export class SchemaError extends Error {
  override readonly name = 'SchemaError'
  constructor(
    readonly kind: SchemaErrorKind,
    message: string,
  ) {
    super(message)
  }
}

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

export function encodeEvent(event: DomainEvent): EncodedEvent {
  const { type, ...body } = event
  return { type: EVENT_CODES[type], version: EVENT_VERSIONS[type], payload: encoder.encode(canonicalJson(body)) }
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
  const body = upgrade(name, encoded.version, parsePayload(name, encoded.payload))
  const result = v.safeParse(EVENT_SCHEMAS[name], { ...body, type: name })
  if (!result.success) {
    const issue = result.issues[0]
    const path = issue.path?.map((item) => String(item.key)).join('.') ?? '(root)'
    throw new SchemaError('invalid_payload', `record type ${name} v${encoded.version}: ${path}: ${issue.message}`)
  }
  return result.output as DomainEvent
}

function parsePayload(name: EventType, payload: Uint8Array): Record<string, unknown> {
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
