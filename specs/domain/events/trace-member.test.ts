/**
 * The `traceparent` member added with payload version 4 (registry.ts MEMBERS_ADDED), and to order.rejected and
 * account.flatten_requested with version 6: records of those versions carry it or not, and the version 3 (and 2) payloads of the same types, written before it
 * with a layout without it, still read — by both decoders, with their order ids — as the same event without it.
 */

import { describe, expect, test } from 'bun:test'
import { parseDecimal } from '../../../src/domain/decimal.ts'
import { decodeEvent, encodeEvent, orderIdOfRecord, SchemaError, type DomainEvent } from '../../../src/domain/events/index.ts'
import { EVENT_VERSIONS, MEMBERS_ADDED } from '../../../src/domain/events/registry.ts'
import { decodeTrustedEvent } from '../../../src/domain/events/trusted-decode.ts'
import { ACCEPTED, DECISION, olderPayload } from './member-fixtures.ts'

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
/** One event of every type that gained the member, without it. */
const SAMPLES: DomainEvent[] = [
  ACCEPTED,
  { type: 'order.cancel_requested', atMs: 1, orderId: 'o-1', principalId: 'alice', reason: 'USER_CANCEL' },
  { type: 'order.canceled', atMs: 1, orderId: 'o-1', reason: 'CANCELED_BEFORE_SEND', source: 'local' },
  {
    type: 'order.amend_requested', atMs: 1, orderId: 'o-1', principalId: 'alice', amendId: 1, amendClientOrderId: 'eg-o-1-a1',
    qty: parseDecimal('0.02'), price: null, reservationTotal: parseDecimal('1180'), decision: DECISION,
  },
  { type: 'order.amend_rejected', atMs: 1, orderId: 'o-1', principalId: 'alice', qty: parseDecimal('0.02'), price: null, reason: 'POLICY_DENIED', guard: 'policy', decision: DECISION },
  { type: 'order.rejected', atMs: 1, orderId: 'o-1', accountId: 'demo-1', idempotencyKey: 'k-1', bodyDigest: 'd', reason: 'POLICY_DENIED', guard: 'policy', decision: DECISION },
  { type: 'account.flatten_requested', atMs: 1, accountId: 'demo-1', flattenId: 'f-1', principalId: 'ops-1' },
]

/** The order a sample's record names, as the log index reads it: none for the account's flatten. */
const orderIdOf = (event: DomainEvent): string | null => ('orderId' in event ? (event.orderId as string) : null)

/** The payload version that added the member: 4, and 6 for order.rejected (the kernel's rejection of a request) and the flatten's own record. */
const TRACED_AT: Partial<Record<DomainEvent['type'], number>> = { 'order.rejected': 6, 'account.flatten_requested': 6 }

describe('the traceparent member (payload version 4; 6 for order.rejected and account.flatten_requested)', () => {
  test('the types a request writes are at the version that added it and every sample round trips with and without a trace, by both decoders', () => {
    expect(Object.entries(MEMBERS_ADDED).filter(([, added]) => 'traceparent' in added).map(([type]) => type).sort()).toEqual(SAMPLES.map((event) => event.type).sort())
    for (const event of SAMPLES) {
      // order.accepted is at version 11 since (its ttlMs at 7, ttl-member.test.ts; its protectionPrice at 10,
      // protection-member.test.ts; its worstPrice at 11, kernel/market-worst-price.test.ts), account.flatten_requested
      // at 12 (its first answer at 11, each holding's reason at 12: flatten-answer-member.test.ts), order.canceled at 11
      // (its principalId, kernel/cancel-principal.test.ts); the member came with 4 (6 for the flatten's).
      // account.flatten_requested, order.canceled and order.cancel_requested are at 12 since (the decision's config
      // digest and build, kernel/attribution.test.ts).
      const atTwelve = event.type === 'account.flatten_requested' || event.type === 'order.canceled' || event.type === 'order.cancel_requested'
      const version = atTwelve ? 12 : event.type === 'order.accepted' ? 11 : (TRACED_AT[event.type] ?? 4)
      expect(EVENT_VERSIONS[event.type]).toBe(version)
      expect(MEMBERS_ADDED[event.type]?.traceparent).toBe(TRACED_AT[event.type] ?? 4)
      for (const written of [event, { ...event, traceparent: TRACEPARENT } as DomainEvent]) {
        const encoded = encodeEvent(written)
        expect(encoded.version).toBe(version)
        expect(decodeEvent(encoded)).toEqual(written)
        expect(decodeTrustedEvent(encoded)).toEqual(written)
        expect(orderIdOfRecord(encoded)).toBe(orderIdOf(event))
      }
    }
  })

  test('version 3 and version 2 payloads, written without the member, read as the same event without it', () => {
    for (const event of SAMPLES) {
      for (const version of [2, 3] as const) {
        const older = olderPayload(event, version)
        expect(decodeEvent(older)).toEqual(event)
        expect(decodeTrustedEvent(older)).toEqual(event)
        expect(orderIdOfRecord(older)).toBe(orderIdOf(event))
        // Read with the current layout they would be misread or refused: the versions really differ.
        expect(Buffer.from(older.payload).equals(Buffer.from(encodeEvent(event).payload))).toBe(false)
      }
    }
  })

  test('a record whose traceparent is not a version-00 W3C value is refused on decode (SchemaError)', () => {
    for (const bad of [TRACEPARENT.toUpperCase(), `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`, '', 'trace-1']) {
      const encoded = encodeEvent({ ...ACCEPTED, traceparent: bad } as DomainEvent)
      expect(() => decodeEvent(encoded)).toThrow(SchemaError)
    }
  })
})
