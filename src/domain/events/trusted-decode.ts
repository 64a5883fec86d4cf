/**
 * A fast decoder for records this program wrote itself and the log has just CRC- and chain-checked (restart replay):
 * the conversions the valibot schemas would make — decimal strings to bigint Units — without re-running every check.
 *
 *   binary payloads (version 3, and version 2 of logs written before the compact format): read straight into the
 *     validated form (binary-reader.ts 'trusted');
 *   version 1 JSON payloads (logs written before the binary layout): JSON.parse, then the schema's conversion plan
 *     (json-plan.ts) — versions 2 and 3 changed only the encoding, so a version 1 body is a current body.
 *
 * Plans and layouts are derived from the schemas, so they cannot drift from them: a schema part they do not
 * understand makes the type take the full `decodeEvent`, as do versions this path does not know. Anything received
 * from outside, replay-verify and the audit path keep using `decodeEvent` (full validation);
 * specs/domain/events/trusted-decode.test.ts checks both decoders agree on every record of a simulated run.
 */

import type { RecordDecoder } from './binary-reader.ts'
import { trustedBinaryDecoder } from './binary-records.ts'
import { decodeEvent, type EncodedEvent } from './codec.ts'
import { memberKey, topLevelMemberCut, type MemberKey } from './json-member.ts'
import { planOf, type Convert, type Plan, type SchemaLike } from './json-plan.ts'
import { binaryFormatOf, EVENT_CODES, EVENT_VERSIONS, eventTypeForCode, JSON_PAYLOAD_VERSION_MAX } from './registry.ts'
import { EVENT_SCHEMAS } from './schemas.ts'
import type { DomainEvent, EventType } from './types.ts'

const PLANS = new Map<EventType, Plan>()
for (const name of Object.keys(EVENT_SCHEMAS) as EventType[]) PLANS.set(name, planOf(EVENT_SCHEMAS[name] as SchemaLike))

const decoder = new TextDecoder('utf-8', { fatal: true })

/** The trusted decoders of one record type at one binary version, found by version and code (array indexes, per record). */
interface BinaryEntry {
  name: EventType
  version: number
  whole: RecordDecoder | null
  /** The decoder without some members, for the last set asked for (each caller keeps one set per type). */
  skipped: UnreadMembers | null
  skipping: RecordDecoder | null
}

/** Members a caller does not need from a record type (see decodeTrustedEvent); make one per type and keep it. */
export interface UnreadMembers {
  /** Member paths ('decision', 'report.venue') a binary record's reader passes over. */
  readonly paths: ReadonlySet<string>
  /** The one top-level object member cut from a version 1 JSON record's text (the JSON cut handles only those). */
  readonly jsonCut: MemberKey | null
}

export function unreadMembers(paths: readonly string[]): UnreadMembers {
  const topLevel = paths.find((path) => !path.includes('.'))
  return { paths: new Set(paths), jsonCut: topLevel === undefined ? null : memberKey(topLevel) }
}

/** BINARY_BY_VERSION[version][code]: every binary version up to each type's current one. */
const BINARY_BY_VERSION: (BinaryEntry | undefined)[][] = []
for (const name of Object.keys(EVENT_SCHEMAS) as EventType[]) {
  for (let version = JSON_PAYLOAD_VERSION_MAX + 1; version <= EVENT_VERSIONS[name]; version++) {
    if (binaryFormatOf(version) === null) continue
    const byCode = (BINARY_BY_VERSION[version] ??= [])
    byCode[EVENT_CODES[name]] = { name, version, whole: trustedBinaryDecoder(name, version), skipped: null, skipping: null }
  }
}

function skippingDecoder(entry: BinaryEntry, unread: UnreadMembers): RecordDecoder | null {
  if (entry.skipped !== unread) {
    entry.skipping = trustedBinaryDecoder(entry.name, entry.version, unread.paths)
    entry.skipped = unread
  }
  return entry.skipping
}

/**
 * Decodes a record this program wrote (see the header). Same result as decodeEvent for every valid record — except
 * with `unread` (restart replay into the kernel, for members apply never reads: src/kernel/apply-unread.ts): a binary
 * record's reader passes over every path it names, and a version 1 JSON record has its `jsonCut` member cut from the
 * text unparsed; those members are absent from the result (a JSON record keeps the nested ones). A record that takes
 * the full decoder keeps every member.
 */
export function decodeTrustedEvent(encoded: EncodedEvent, unread?: UnreadMembers): DomainEvent {
  return decodeTrustedEventIn(encoded.type, encoded.version, encoded.payload, 0, encoded.payload.length, unread)
}

/**
 * decodeTrustedEvent for a payload that lies at bytes [start, end) of `source` (a frame in the log reader's buffer),
 * read in place when it is binary: restart replay makes no view per record.
 */
export function decodeTrustedEventIn(type: number, version: number, source: Uint8Array, start: number, end: number, unread?: UnreadMembers): DomainEvent {
  const binary = BINARY_BY_VERSION[version]?.[type]
  if (binary !== undefined) {
    const read = unread === undefined ? binary.whole : skippingDecoder(binary, unread)
    if (read !== null) return read(source, start, end) as unknown as DomainEvent // its `type` member included
  }
  return decodeJsonOrValidated({ type, version, payload: source.subarray(start, end) }, unread)
}

/** A version 1 JSON record through its conversion plan; anything without a fast path through decodeEvent. */
function decodeJsonOrValidated(encoded: EncodedEvent, unread: UnreadMembers | undefined): DomainEvent {
  const fast = fastPlanFor(encoded)
  if (fast === null) return decodeEvent(encoded)
  const body = JSON.parse(textWithout(encoded.payload, unread?.jsonCut ?? undefined)) as Record<string, unknown>
  if (fast.plan !== null) fast.plan(body)
  body.type = fast.name
  return body as unknown as DomainEvent
}

/** The payload's text, without the top-level member `unreadMember` when it names one (see json-member.ts). */
function textWithout(payload: Uint8Array, unreadMember: MemberKey | undefined): string {
  const cut = unreadMember === undefined ? null : topLevelMemberCut(payload, unreadMember)
  if (cut === null) return decoder.decode(payload)
  return decoder.decode(payload.subarray(0, cut.from)) + decoder.decode(payload.subarray(cut.to))
}

/**
 * The JSON fast path's plan for a version 1 record, or null when it takes decodeEvent (unknown type, another version,
 * a schema the planner does not understand). A plan of null inside means "nothing to convert", not "no plan".
 */
export function fastPlanFor(encoded: { type: number; version: number }): { name: EventType; plan: Convert | null } | null {
  const name = eventTypeForCode(encoded.type)
  const plan = name === null ? undefined : PLANS.get(name)
  if (name === null || plan === undefined || plan === 'full' || encoded.version !== JSON_PAYLOAD_VERSION_MAX) return null
  return { name, plan }
}

/** Which event types take the fast path for their current (binary) version (for the spec and the benchmark's notes). */
export function trustedDecodeTypes(): EventType[] {
  return (Object.keys(EVENT_SCHEMAS) as EventType[]).filter((name) => trustedBinaryDecoder(name, EVENT_VERSIONS[name]) !== null)
}
