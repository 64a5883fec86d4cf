/**
 * The command record (0xD010 kernel.command v1): the whole KernelCommand a leader decided, written in the same append
 * as the decision's events and just before them, so a standby can decide the same command on its own state and
 * compare (shadow.ts). The kernel never folds it (everything from 0xA000 up is skipped by replay and every projection).
 *
 * Payload: UTF-8 JSON `{"command": …, "eventCount": n}` where `eventCount` is how many event records follow it in the
 * same append. Values are tagged so the command comes back exactly as it went in:
 *   - a bigint (Units, and any other bigint) becomes `{"$bigint": "<decimal integer>"}`;
 *   - an object key that starts with `$` (a client's JSON body may hold anything) is written with one more `$`;
 *   - undefined members are left out; Maps, Sets, functions and non-finite numbers are refused when encoding.
 * Decoding undoes the tags, refuses anything malformed with CommandRecordError (stable codes), and validates the
 * command's shape per kind (valibot), so a standby never decides on a half-understood command.
 */

import * as v from 'valibot'
import { principalSchema } from '../../domain/accounts.ts'
import { GATE_ACTIONS, HEALTH_LEVELS } from '../../domain/gate.ts'
import { KILL_SWITCH_ACTIONS, MODES } from '../../domain/modes.ts'
import { REASON_CODES } from '../../domain/reasons.ts'
import { traceparentSchema } from '../../domain/trace-context.ts'
import { OVERRIDE_SCOPES } from '../../domain/venue-health.ts'
import type { KernelCommand } from '../../kernel/index.ts'
import type { Frame, RecordInput } from '../../../wal/index.ts'

export const KERNEL_COMMAND = { type: 0xd010, version: 1, name: 'kernel.command' } as const

export type CommandRecordErrorCode = 'COMMAND_RECORD_TYPE' | 'COMMAND_RECORD_VERSION' | 'COMMAND_RECORD_JSON' | 'COMMAND_RECORD_TAG' | 'COMMAND_RECORD_SHAPE' | 'COMMAND_RECORD_UNENCODABLE'

export class CommandRecordError extends Error {
  override readonly name = 'CommandRecordError'
  constructor(
    readonly code: CommandRecordErrorCode,
    message: string,
  ) {
    super(message)
  }
}

export interface CommandRecord {
  command: KernelCommand
  /** Event records that follow this one in the same append (the decision's events). */
  eventCount: number
}

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })
const BIGINT_TAG = '$bigint'
const INTEGER_TEXT = /^-?(0|[1-9]\d{0,77})$/

export function isCommandRecord(type: number): boolean {
  return type === KERNEL_COMMAND.type
}

export function encodeCommandRecord(command: KernelCommand, eventCount: number): RecordInput {
  if (!Number.isSafeInteger(eventCount) || eventCount < 1) throw new CommandRecordError('COMMAND_RECORD_UNENCODABLE', `eventCount must be a positive integer, got ${eventCount}`)
  const payload = encoder.encode(JSON.stringify({ command: tag(command, 'command'), eventCount }))
  return { type: KERNEL_COMMAND.type, version: KERNEL_COMMAND.version, payload }
}

export function decodeCommandRecord(frame: Pick<Frame, 'type' | 'version' | 'payload'>): CommandRecord {
  if (frame.type !== KERNEL_COMMAND.type) throw new CommandRecordError('COMMAND_RECORD_TYPE', `record type 0x${frame.type.toString(16)} is not ${KERNEL_COMMAND.name}`)
  if (frame.version !== KERNEL_COMMAND.version) {
    throw new CommandRecordError('COMMAND_RECORD_VERSION', `${KERNEL_COMMAND.name} version ${frame.version}; this binary reads version ${KERNEL_COMMAND.version}`)
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(decoder.decode(frame.payload))
  } catch (error) {
    throw new CommandRecordError('COMMAND_RECORD_JSON', `${KERNEL_COMMAND.name}: payload is not UTF-8 JSON (${String(error)})`)
  }
  const untagged = untag(parsed, '')
  const result = v.safeParse(recordSchema, untagged)
  if (!result.success) {
    const issue = result.issues[0]
    const path = issue.path?.map((item) => String(item.key)).join('.') ?? '(root)'
    throw new CommandRecordError('COMMAND_RECORD_SHAPE', `${KERNEL_COMMAND.name}: ${path}: ${issue.message}`)
  }
  return untagged as CommandRecord
}

function tag(value: unknown, path: string): unknown {
  switch (typeof value) {
    case 'bigint':
      return { [BIGINT_TAG]: value.toString() }
    case 'string':
    case 'boolean':
      return value
    case 'number':
      if (!Number.isFinite(value)) throw new CommandRecordError('COMMAND_RECORD_UNENCODABLE', `${path}: non-finite number ${value}`)
      return value
    case 'object': {
      if (value === null) return null
      if (Array.isArray(value)) return value.map((item, index) => tag(item, `${path}.${index}`))
      const prototype = Object.getPrototypeOf(value)
      if (prototype !== Object.prototype && prototype !== null) throw new CommandRecordError('COMMAND_RECORD_UNENCODABLE', `${path}: a ${String(prototype?.constructor?.name)} is not plain data`)
      const out: Record<string, unknown> = {}
      for (const [key, member] of Object.entries(value)) {
        if (member === undefined) continue
        out[key.startsWith('$') ? `$${key}` : key] = tag(member, `${path}.${key}`)
      }
      return out
    }
    default:
      throw new CommandRecordError('COMMAND_RECORD_UNENCODABLE', `${path}: a ${typeof value} is not plain data`)
  }
}

function untag(value: unknown, path: string): unknown {
  if (typeof value !== 'object' || value === null) return value
  if (Array.isArray(value)) return value.map((item, index) => untag(item, `${path}.${index}`))
  const keys = Object.keys(value)
  if (keys.includes(BIGINT_TAG)) {
    const text = (value as Record<string, unknown>)[BIGINT_TAG]
    if (keys.length !== 1 || typeof text !== 'string' || !INTEGER_TEXT.test(text)) {
      throw new CommandRecordError('COMMAND_RECORD_TAG', `${path}: a ${BIGINT_TAG} tag must be the only member and hold a decimal integer string`)
    }
    return BigInt(text)
  }
  const out: Record<string, unknown> = {}
  for (const key of keys) {
    let name = key
    if (key.startsWith('$')) {
      if (!key.startsWith('$$')) throw new CommandRecordError('COMMAND_RECORD_TAG', `${path}: unknown tag ${JSON.stringify(key)}`)
      name = key.slice(1)
    }
    out[name] = untag((value as Record<string, unknown>)[key], `${path}.${name}`)
  }
  return out
}

// Shapes, per kind. Nested venue data is checked for the members the kernel keys on; bodies stay unvalidated
// (the kernel's syntax guard validates a place body, on the leader and on the standby alike).
const ms = v.pipe(v.number(), v.safeInteger(), v.minValue(0))
const text = v.string()
const units = v.bigint()
// touch: absent in the command records of leaders before the market fact carried the book's touch, and from feeds
// that show only a price.
const touch = v.strictObject({ bidPrice: units, bidQty: units, askPrice: units, askQty: units })
const market = v.strictObject({ referencePrice: units, observedAtMs: ms, previousPrice: v.nullable(units), touch: v.exactOptional(touch) })
const live = v.strictObject({ credentialPresent: v.boolean(), environmentLive: v.boolean(), haLeader: v.boolean() })
const reason = v.picklist(REASON_CODES)
// The request's W3C trace context (place, cancel, amend): absent in the command records of leaders before it.
const traceparent = v.exactOptional(traceparentSchema)
// The deciding build, recorded with the config digest on the records of a cancel, resend or control decision
// (kernel/attribution.ts): absent in the command records of leaders before it, whose records carry none.
const buildCommit = v.exactOptional(text)
const outcome = v.variant('kind', [
  v.strictObject({ kind: v.literal('ok'), value: v.unknown() }),
  v.strictObject({ kind: v.literal('rejected'), reason: text }),
  v.strictObject({ kind: v.literal('retryable'), reason: text, retryAfterMs: ms }),
  v.strictObject({ kind: v.literal('unknown'), reason: text }),
])
const venueOrder = v.looseObject({ clientOrderId: text, venueOrderId: text, qty: units, cumQty: units, status: text })
const venueTrade = v.looseObject({ execId: text, clientOrderId: text, qty: units, price: units, fee: units })
const report = v.looseObject({ venue: text, execId: text, kind: text, clientOrderId: text, cumQty: units })
const config = v.looseObject({ digest: text, instruments: v.array(v.unknown()), policies: v.array(v.unknown()), params: v.looseObject({}) })
const facts = v.strictObject({
  haLeader: v.boolean(),
  liveExplicit: v.boolean(),
  durabilityMode: text,
  schemaCompatible: v.boolean(),
  // Recorded by leaders before check 8 read the venue health the log holds (a constant OK and false then); the kernel
  // now decides on its own state (src/kernel/venue-health.ts), so these are read and left unused.
  health: v.exactOptional(v.picklist(HEALTH_LEVELS)),
  healthOverride: v.exactOptional(v.boolean()),
  auditVerified: v.boolean(),
})

const commandSchema = v.variant('kind', [
  v.strictObject({
    kind: v.literal('place'), nowMs: ms, principal: principalSchema, idempotencyKey: v.nullable(text), body: v.unknown(), market: v.nullable(market), live,
    configDigest: text, buildCommit: text, traceparent,
  }),
  v.strictObject({
    kind: v.literal('place_list'), nowMs: ms, principal: principalSchema, idempotencyKey: v.nullable(text), body: v.unknown(), market: v.nullable(market), live,
    configDigest: text, buildCommit: text, traceparent,
  }),
  v.strictObject({ kind: v.literal('cancel'), nowMs: ms, principal: principalSchema, orderId: text, reason, traceparent, buildCommit }),
  v.strictObject({ kind: v.literal('configure'), nowMs: ms, config }),
  // ordersMax: absent in the command records of leaders before an escalation was decided in parts.
  v.strictObject({
    kind: v.literal('set_mode'), nowMs: ms, principal: principalSchema, mode: v.picklist(MODES), note: text,
    ordersMax: v.exactOptional(v.pipe(v.number(), v.safeInteger(), v.minValue(1))), buildCommit,
  }),
  // ordersMax: absent in the command records of leaders before a kill switch was decided in parts.
  // accountId: one account's own switch (src/kernel/account-switch.ts); absent in the command records of leaders before it.
  v.strictObject({
    kind: v.literal('kill_switch'), nowMs: ms, principal: principalSchema, action: v.picklist(KILL_SWITCH_ACTIONS), note: text,
    ordersMax: v.exactOptional(v.pipe(v.number(), v.safeInteger(), v.minValue(1))), accountId: v.exactOptional(text), buildCommit,
  }),
  v.strictObject({ kind: v.literal('fund'), nowMs: ms, principalId: text, accountId: text, asset: text, amount: units, reference: text, buildCommit }),
  // buildCommit: absent in the command records of leaders before it was recorded for flatten closes; traceparent, before
  // a flatten's records carried its request's trace; ordersMax, before a flatten was decided in parts.
  v.strictObject({
    kind: v.literal('flatten'), nowMs: ms, principal: principalSchema, accountId: text, flattenId: text, markets: v.record(v.string(), market), buildCommit: v.exactOptional(text),
    traceparent, ordersMax: v.exactOptional(v.pipe(v.number(), v.safeInteger(), v.minValue(1))),
  }),
  // market: absent in the command records of leaders before places and amends faced data health again at the send.
  v.strictObject({ kind: v.literal('send'), nowMs: ms, orderId: text, action: v.picklist(GATE_ACTIONS), facts, market: v.exactOptional(v.nullable(market)) }),
  v.strictObject({ kind: v.literal('place_result'), nowMs: ms, orderId: text, outcome }),
  v.strictObject({ kind: v.literal('cancel_result'), nowMs: ms, orderId: text, outcome }),
  v.strictObject({
    kind: v.literal('amend'), nowMs: ms, principal: principalSchema, orderId: text, qty: v.nullable(units), price: v.nullable(units), market: v.nullable(market), live,
    configDigest: text, buildCommit: text, traceparent,
  }),
  v.strictObject({ kind: v.literal('amend_result'), nowMs: ms, orderId: text, outcome }),
  v.strictObject({ kind: v.literal('venue_report'), nowMs: ms, report, orphanRepeat: v.exactOptional(v.literal(true)) }),
  v.strictObject({ kind: v.literal('reconcile_result'), nowMs: ms, askedAtMs: v.exactOptional(ms), orderId: text, venueOrder: v.nullable(venueOrder), trades: v.array(venueTrade) }),
  v.strictObject({ kind: v.literal('resend'), nowMs: ms, principal: principalSchema, orderId: text, market: v.optional(v.nullable(market), null), buildCommit }),
  v.strictObject({ kind: v.literal('bootstrap'), nowMs: ms }),
  v.strictObject({ kind: v.literal('mark_suspects'), nowMs: ms }),
  v.strictObject({ kind: v.literal('clear_suspects'), nowMs: ms }),
  // ordersMax: absent in the command records of starts before the stale places were ended in parts.
  v.strictObject({ kind: v.literal('expire_stale'), nowMs: ms, principal: principalSchema, ageMsMax: ms, ordersMax: v.exactOptional(v.pipe(v.number(), v.safeInteger(), v.minValue(1))), buildCommit }),
  v.strictObject({ kind: v.literal('unheld_venue_orders'), nowMs: ms, venue: text, orders: v.array(venueOrder), moreCount: v.pipe(v.number(), v.safeInteger(), v.minValue(0)) }),
  v.strictObject({ kind: v.literal('venue_health'), nowMs: ms, venue: text, level: v.picklist(HEALTH_LEVELS), score: v.pipe(v.number(), v.safeInteger()), detail: text }),
  v.variant('op', [
    v.strictObject({
      kind: v.literal('venue_override'), op: v.literal('propose'), nowMs: ms, principal: principalSchema, venue: text, reason: text, durationMs: ms,
      scope: v.picklist(OVERRIDE_SCOPES), buildCommit,
    }),
    v.strictObject({ kind: v.literal('venue_override'), op: v.literal('approve'), nowMs: ms, principal: principalSchema, venue: text, overrideId: text, buildCommit }),
    v.strictObject({ kind: v.literal('venue_override'), op: v.literal('revoke'), nowMs: ms, principal: principalSchema, venue: text, note: text, buildCommit }),
  ]),
  v.strictObject({ kind: v.literal('venue_override_lapse'), nowMs: ms, venue: text, overrideId: text }),
  v.strictObject({ kind: v.literal('ttl_expire'), nowMs: ms, orderId: text, buildCommit }),
  v.variant('target', [
    v.strictObject({ kind: v.literal('revoke_token'), target: v.literal('token'), nowMs: ms, principal: principalSchema, jti: text, untilMs: ms, note: text, buildCommit }),
    v.strictObject({ kind: v.literal('revoke_token'), target: v.literal('subject'), nowMs: ms, principal: principalSchema, sub: text, issuedBeforeMs: ms, untilMs: ms, note: text, buildCommit }),
  ]),
])

const recordSchema = v.strictObject({ command: commandSchema, eventCount: v.pipe(v.number(), v.safeInteger(), v.minValue(1)) })
