/**
 * The `ttlMs` member order.accepted gained with payload version 7 (registry.ts MEMBERS_ADDED): an order's time-to-live.
 * Version 7 records carry it or not; the version 4, 3 and 2 payloads written before it, with layouts without it, still
 * read — by both decoders, with their order ids — as the same event without it (an order with no time-to-live).
 */

import { describe, expect, test } from 'bun:test'
import { decodeEvent, encodeEvent, orderIdOfRecord, SchemaError, type DomainEvent } from '../../../src/domain/events/index.ts'
import { EVENT_VERSIONS, MEMBERS_ADDED } from '../../../src/domain/events/registry.ts'
import { decodeTrustedEvent } from '../../../src/domain/events/trusted-decode.ts'
import { ACCEPTED, olderPayload } from './member-fixtures.ts'

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'

describe('the ttlMs member of order.accepted (payload version 7)', () => {
  test('order.accepted is written as version 11 (7 added ttlMs, 10 the protection price, 11 the worst price), with and without a time-to-live, and reads back by both decoders', () => {
    expect(MEMBERS_ADDED['order.accepted']).toEqual({ traceparent: 4, ttlMs: 7, protectionPrice: 10, worstPrice: 11 })
    expect(EVENT_VERSIONS['order.accepted']).toBe(11)
    for (const written of [ACCEPTED, { ...ACCEPTED, ttlMs: 30_000 }, { ...ACCEPTED, ttlMs: 86_400_000, traceparent: TRACEPARENT }] as DomainEvent[]) {
      const encoded = encodeEvent(written)
      expect(encoded.version).toBe(11)
      expect(decodeEvent(encoded)).toEqual(written)
      expect(decodeTrustedEvent(encoded)).toEqual(written)
      expect(orderIdOfRecord(encoded)).toBe('o-1')
    }
  })

  test('version 4, 3 and 2 payloads, written without the member, read as the same order without a time-to-live', () => {
    const traced = { ...ACCEPTED, traceparent: TRACEPARENT } as DomainEvent
    for (const [event, versions] of [[ACCEPTED, [2, 3, 4]], [traced, [4]]] as const) {
      for (const version of versions) {
        const older = olderPayload(event, version)
        const decoded = decodeEvent(older)
        expect(decoded).toEqual(event)
        expect('ttlMs' in decoded).toBe(false)
        expect(decodeTrustedEvent(older)).toEqual(event)
        expect(orderIdOfRecord(older)).toBe('o-1')
        // Read with version 7's layout they would be misread or refused: the versions really differ.
        expect(Buffer.from(older.payload).equals(Buffer.from(encodeEvent(event).payload))).toBe(false)
      }
    }
  })

  test('a ttlMs that is not a positive whole number of ms up to 24 h is refused on decode (SchemaError)', () => {
    for (const bad of [0, -1, 86_400_001]) {
      const encoded = encodeEvent({ ...ACCEPTED, ttlMs: bad } as DomainEvent)
      expect(() => decodeEvent(encoded)).toThrow(SchemaError)
    }
  })
})
