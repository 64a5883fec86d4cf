/**
 * The `venueCumQty` member order.fill gained with payload version 11 (registry.ts MEMBERS_ADDED): a real fill's place in
 * the venue's cumulative quantity (src/kernel/inbox.ts emitOwnFill), by which the back office places synthetic fills
 * (src/backoffice/venue-ranges.ts). Version 11 records carry it or not; the version 3 and 2 payloads written before it,
 * with layouts without it, still read — by both decoders, with their order ids — as the same fill without it.
 */

import { describe, expect, test } from 'bun:test'
import { parseDecimal } from '../../../src/domain/decimal.ts'
import { decodeEvent, encodeEvent, orderIdOfRecord, SchemaError, type DomainEvent } from '../../../src/domain/events/index.ts'
import { EVENT_VERSIONS, MEMBERS_ADDED } from '../../../src/domain/events/registry.ts'
import { decodeTrustedEvent } from '../../../src/domain/events/trusted-decode.ts'
import { olderPayload } from './member-fixtures.ts'

const FILL: DomainEvent = {
  type: 'order.fill',
  atMs: 1_700_000_000_000,
  orderId: 'o-1',
  execId: 'x-2',
  lastQty: parseDecimal('0.002'),
  lastPrice: parseDecimal('59000'),
  fee: parseDecimal('0.05'),
  feeAsset: 'USD',
  cumQty: parseDecimal('0.002'),
  synthetic: false,
  venueTimeMs: 1_699_999_999_990,
}

describe('the venueCumQty member of order.fill (payload version 11)', () => {
  test('written as version 11, with and without a place, and read back by both decoders', () => {
    expect(MEMBERS_ADDED['order.fill']).toEqual({ venueCumQty: 11 })
    expect(EVENT_VERSIONS['order.fill']).toBe(11)
    for (const written of [FILL, { ...FILL, venueCumQty: parseDecimal('0.005') }] as DomainEvent[]) {
      const encoded = encodeEvent(written)
      expect(encoded.version).toBe(11)
      expect(decodeEvent(encoded)).toEqual(written)
      expect(decodeTrustedEvent(encoded)).toEqual(written)
      expect(orderIdOfRecord(encoded)).toBe('o-1')
    }
  })

  test('version 3 and 2 payloads, written without it, read as the same fill without a place', () => {
    for (const version of [2, 3]) {
      const older = olderPayload(FILL, version)
      const decoded = decodeEvent(older)
      expect(decoded).toEqual(FILL)
      expect('venueCumQty' in decoded).toBe(false)
      expect(decodeTrustedEvent(older)).toEqual(FILL)
      expect(orderIdOfRecord(older)).toBe('o-1')
    }
    // Read with version 11's layout a version 3 payload would be misread or refused: the versions really differ.
    expect(Buffer.from(olderPayload(FILL, 3).payload).equals(Buffer.from(encodeEvent(FILL).payload))).toBe(false)
  })

  test('a place that is not a positive amount is refused on decode (SchemaError)', () => {
    for (const bad of [0n, -1n]) {
      const encoded = encodeEvent({ ...FILL, venueCumQty: bad } as DomainEvent)
      expect(() => decodeEvent(encoded)).toThrow(SchemaError)
    }
  })
})
