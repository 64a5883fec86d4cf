/**
 * The registry of record types: name ↔ numeric code (the WAL frame's u16 record type) and current schema version
 * (the frame's schema version). Codes are stable forever: a code is never reused or renumbered; a new record type
 * takes a new code. Grouped by hundreds: 1xx kernel/admin, 2xx order lifecycle (247–250 and 260: venue health, 261–262: token revocations, 263–264: order lists, which came after the 2xx were taken), 3xx inbox, 9xx alerts.
 *
 * Schema evolution (§11): a payload with a version older than current is upgraded step by step through UPGRADES
 * before validation; a version newer than this binary knows, or an unknown code, stops replay with a SchemaError.
 */

import type { BinaryFormat } from './binary-layout.ts'
import type { EventType } from './types.ts'

export const EVENT_CODES = {
  'kernel.configured': 100,
  'mode.changed': 101,
  'switch.changed': 102,
  'kernel.retire_rule_adopted': 103,
  'kernel.hold_rule_adopted': 104,
  'account.funded': 110,
  'account.flatten_requested': 111,
  'account.switch_changed': 112,
  'order.accepted': 200,
  'order.rejected': 201,
  'order.cancel_requested': 202,
  'order.canceled': 203,
  'order.send_requested': 204,
  'order.cancel_send_requested': 205,
  'order.send_blocked': 206,
  'order.send_acked': 207,
  'order.send_retry': 208,
  'order.venue_rejected': 209,
  'order.cancel_acked': 210,
  'order.cancel_rejected': 211,
  'order.unknown': 212,
  'order.fill': 213,
  'order.expired': 214,
  'order.reconciled': 215,
  'order.reconcile_deferred': 216,
  'order.resend_requested': 217,
  'order.transition_refused': 218,
  'order.call_completed': 219,
  'order.amend_requested': 220,
  'order.amend_rejected': 221,
  'order.amend_send_requested': 222,
  'order.amended': 223,
  'order.amend_failed': 224,
  'order.fill_covered': 225,
  'order.overfill_recheck': 226,
  'order.suspect_marked': 227,
  'order.suspect_cleared': 228,
  'order.synthetic_pending': 241,
  'order.fill_trued_up': 242,
  'order.resend_refused': 243,
  'order.limit_loosest': 244,
  'order.synthetic_declined': 246,
  'venue.health_changed': 247,
  'venue.override_proposed': 248,
  'venue.override_approved': 249,
  'venue.override_revoked': 250,
  'venue.override_lapsed': 260,
  'auth.token_revoked': 261,
  'auth.subject_revoked': 262,
  'order_list.accepted': 263,
  'order_list.triggered': 264,
  'inbox.report_accepted': 300,
  'inbox.duplicate_dropped': 301,
  'alert.raised': 900,
} as const satisfies Record<EventType, number>

/**
 * Payload versions up to this one are canonical JSON; later ones binary (binary-layout.ts): version 2 in its plain
 * format, version 3 and up in its compact one. Versions 2 and 3 changed only the encoding, not the members; 4 to 13
 * only added optional members, top-level or nested (MEMBERS_ADDED): their upgrades are the identity.
 */
export const JSON_PAYLOAD_VERSION_MAX = 1

/** The binary format of a payload version (binary-layout.ts), or null for a JSON or unknown one. */
export function binaryFormatOf(version: number): BinaryFormat | null {
  return version === 2 ? 'plain' : version >= 3 && version <= PAYLOAD_VERSION_MAX ? 'compact' : null
}

/** The newest payload version of any type; 4 and up are the compact format with members added or changed. */
const PAYLOAD_VERSION_MAX = 13

/**
 * Members a type's schema gained after payload version 3, with the version that added them: a payload of an older
 * version was written without them, so its layout is the schema's without them (binary-records.ts), and it decodes
 * with them absent (they are optional). Version 4: the W3C trace context of the request that wrote the record, and
 * kernel.configured's policy newOrdersBy; version 5, kernel.configured's book limits (a dotted path names a nested
 * member); version 6, the trace context of the request the kernel rejected (order.rejected); version 7, an order's
 * time-to-live (order.accepted ttlMs), so order.accepted went from 4 to 7 and its 5 and 6 have 4's layout; version 8,
 * kernel.configured's hard cap on ended orders held (params terminalOrdersHeldMax), so kernel.configured went from 5 to
 * 8 and its 6 and 7 have 5's layout; version 10, a market order's protection price (order.accepted protectionPrice,
 * src/kernel/intake/sent-order.ts), so order.accepted went from 7 to 10 and its 8 and 9 have 7's layout; version 9,
 * kernel.configured's policy selfTrade (self-trade prevention per account, src/kernel/intake/self-trade.ts), so
 * kernel.configured went from 8 to 9 — the next version after its own, within PAYLOAD_VERSION_MAX, with no version
 * of it skipped and no upgrade step added (9 → 10 was there); version 10 also, kernel.configured's idempotency key
 * window and cap (params idempotencyKeyHeldMs, idempotencyKeysHeldMax, src/kernel/key-window.ts), so kernel.configured
 * went from 9 to 10 the same way; version 11, a flatten's first answer (account.flatten_requested notClosed and
 * records, src/kernel/flatten-held.ts), so account.flatten_requested went from 6 to 11 and its 7 to 10 have 6's layout,
 * and a plain market order's worst price (order.accepted and order.resend_requested worstPrice,
 * src/kernel/intake/sent-order.ts plainMarketWorstPrice), so order.accepted went from 10 to 11 and
 * order.resend_requested from 3 to 11, its 4 to 10 having 3's layout; version 11 also, who ended an order never sent
 * (order.canceled principalId, src/kernel/cancel.ts cancelEvents), so order.canceled went from 4 to 11 and its 5 to 10
 * have 4's layout; version 11 also, a real fill's place in the venue's cumulative quantity (order.fill venueCumQty,
 * src/kernel/inbox.ts emitFill), so order.fill went from 3 to 11 and its 4 to 10 have 3's layout; version 12, the config
 * digest and the build a decision was made under, beside its principal (configDigest, buildCommit: record-parts.ts
 * attribution; §9), on the records of operator and control decisions and of cancels and resends, and account.funded's
 * principalId — mode.changed, switch.changed, account.funded, the venue overrides proposed, approved and revoked, the
 * token revocations and order.resend_refused went from 3 to 12 (their 4 to 11 have 3's layout), order.cancel_requested
 * from 4 to 12 (5 to 11: 4's), and order.canceled, order.resend_requested and account.flatten_requested from 11 to 12;
 * version 12 also, why a flatten left a holding open (account.flatten_requested notClosed[].reason,
 * src/kernel/flatten-close-sizes.ts: an instrument's holding its closes could not take whole; its member inside the
 * optional notClosed: binary-records.ts withoutMember passes through optional wrappers). Version 11 was never released,
 * but the build before this one wrote it, so its layouts stay as they were and the members went to 12; version 13, the
 * same two members on an account's own switch (account.switch_changed, src/kernel/account-switch.ts), which went from 3
 * to 13 (its 4 to 12 have 3's layout): a build at 12 reads account.switch_changed@12 with 3's layout, so these members
 * could not go to 12 without that build misreading them. A type is at the newest
 * version of its members, so order.rejected went from 3 to 6: it was never written as 4 or 5, whose layout is 3's.
 * binary-records.ts schemaAtVersion takes them out of the current schema for an older version's layout.
 */
const ATTRIBUTION: Readonly<Record<string, number>> = { configDigest: 12, buildCommit: 12 }
const ATTRIBUTION_13: Readonly<Record<string, number>> = { configDigest: 13, buildCommit: 13 }

export const MEMBERS_ADDED: Partial<Record<EventType, Readonly<Record<string, number>>>> = {
  'order.accepted': { traceparent: 4, ttlMs: 7, protectionPrice: 10, worstPrice: 11 },
  'order.resend_requested': { worstPrice: 11, ...ATTRIBUTION },
  'order.resend_refused': ATTRIBUTION,
  'order.cancel_requested': { traceparent: 4, ...ATTRIBUTION },
  'order.canceled': { traceparent: 4, principalId: 11, ...ATTRIBUTION },
  'order.fill': { venueCumQty: 11 },
  'order.amend_requested': { traceparent: 4 },
  'order.amend_rejected': { traceparent: 4 },
  'account.flatten_requested': { traceparent: 6, notClosed: 11, records: 11, 'notClosed.reason': 12, ...ATTRIBUTION },
  'mode.changed': ATTRIBUTION,
  'switch.changed': ATTRIBUTION,
  'account.switch_changed': ATTRIBUTION_13,
  'account.funded': { principalId: 12, ...ATTRIBUTION },
  'venue.override_proposed': ATTRIBUTION,
  'venue.override_approved': ATTRIBUTION,
  'venue.override_revoked': ATTRIBUTION,
  'auth.token_revoked': ATTRIBUTION,
  'auth.subject_revoked': ATTRIBUTION,
  'order.rejected': { traceparent: 6 },
  // The kernel config: version 4 added a policy's newOrdersBy, version 5 the book limits (src/kernel/intake/book-check.ts),
  // version 8 the hard cap on ended orders held (src/kernel/retention.ts), version 9 a policy's selfTrade
  // (src/kernel/intake/self-trade.ts; absent in an older record: no check, as that build decided).
  // A nested member is named by its path, array items passed through (config.instruments[i] is config.instruments).
  'kernel.configured': {
    'config.policies.newOrdersBy': 4,
    'config.instruments.touchQtyMin': 5,
    'config.params.spreadBpsMax': 5,
    'config.params.touchShareBpsMax': 5,
    'config.params.terminalOrdersHeldMax': 8,
    'config.policies.selfTrade': 9,
    'config.params.idempotencyKeyHeldMs': 10,
    'config.params.idempotencyKeysHeldMax': 10,
  },
}

/**
 * Versions raised with no member added: a record whose values an older build would misread, not refuse. Version 4 of
 * kernel.hold_rule_adopted carries hold rule 2 (src/kernel/reservations.ts HOLD_RULE_GRACE), its layout version 3's:
 * the build before read any rule but 1 as no hold rule and replayed this build's synthetic fills holding nothing, where
 * at version 4 it stops at the record (and a leader refuses it as a standby, STANDBY_TOO_OLD).
 */
const VERSIONS_RAISED: Partial<Record<EventType, number>> = { 'kernel.hold_rule_adopted': 4 }

/**
 * Current schema version per record type. Bump it (and add an upgrade) when a payload changes shape — which for binary
 * payloads is any change to the type's layout, nested objects and the kernel config included: a member added "optional
 * in old records", removed or renamed. JSON payloads absorbed such changes by name; binary ones are read by position,
 * so under the same version they would be refused or, worse, read into the wrong members. The codec reads binary
 * payloads with the layout the current schema gives in their version's format (binary-records.ts), so a bump that
 * changes a schema must also keep the old schema's layout to read the old version's payloads.
 * specs/domain/events/layout-pin.test.ts pins every version's layout and fails when one changes.
 */
export const EVENT_VERSIONS: Record<EventType, number> = Object.fromEntries(
  Object.keys(EVENT_CODES).map((name) => [name, Math.max(3, VERSIONS_RAISED[name as EventType] ?? 3, ...Object.values(MEMBERS_ADDED[name as EventType] ?? {}))]),
) as Record<EventType, number>

type Upgrade = (payload: Record<string, unknown>) => Record<string, unknown>

const SAME_MEMBERS: Upgrade = (payload) => payload

/** Upgrades from version n to n+1, per type: UPGRADES[type][n](payloadAtVersionN) → payloadAtVersionNPlus1. */
export const EVENT_UPGRADES: Partial<Record<EventType, Record<number, Upgrade>>> = Object.fromEntries(
  // 3 → 4 up to 12 → 13 only added optional members (MEMBERS_ADDED): an older payload is the same event without them.
  Object.keys(EVENT_CODES).map((name) => [name, { 1: SAME_MEMBERS, 2: SAME_MEMBERS, 3: SAME_MEMBERS, 4: SAME_MEMBERS, 5: SAME_MEMBERS, 6: SAME_MEMBERS, 7: SAME_MEMBERS, 8: SAME_MEMBERS, 9: SAME_MEMBERS, 10: SAME_MEMBERS, 11: SAME_MEMBERS, 12: SAME_MEMBERS }]),
)

const NAMES_BY_CODE: ReadonlyMap<number, EventType> = new Map(
  (Object.entries(EVENT_CODES) as [EventType, number][]).map(([name, code]) => [code, name]),
)

export function eventCode(type: EventType): number {
  return EVENT_CODES[type]
}

export function eventTypeForCode(code: number): EventType | null {
  return NAMES_BY_CODE.get(code) ?? null
}
