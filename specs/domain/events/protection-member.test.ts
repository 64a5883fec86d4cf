/**
 * The `protectionPrice` member order.accepted gained with payload version 10 (registry.ts MEMBERS_ADDED): a market
 * order's protection price, the limit it is sent at (src/kernel/intake/sent-order.ts). Version 10 records carry it or
 * not; the version 7, 4, 3 and 2 payloads written before it, with layouts without it, still read — by both decoders,
 * with their order ids — as the same event without it (a market order sent as a plain market order, as then).
 */

import { describe, expect, test } from 'bun:test'
import { parseDecimal } from '../../../src/domain/decimal.ts'
import { decodeEvent, encodeEvent, orderIdOfRecord, SchemaError, type DomainEvent } from '../../../src/domain/events/index.ts'
import { EVENT_VERSIONS, MEMBERS_ADDED } from '../../../src/domain/events/registry.ts'
import { decodeTrustedEvent } from '../../../src/domain/events/trusted-decode.ts'
import { ACCEPTED, olderPayload } from './member-fixtures.ts'

/** A market buy with a time-to-live, written before its protection price existed (so without one). */
const MARKET_BUY: DomainEvent = { ...ACCEPTED, orderType: 'market', price: null, tif: 'IOC', reservationAmount: parseDecimal('620'), ttlMs: 30_000 }

describe('the protectionPrice member of order.accepted (payload version 10)', () => {
  test('order.accepted is written at its current version (11 since worstPrice), with and without a protection price, and reads back by both decoders', () => {
    expect(MEMBERS_ADDED['order.accepted']?.protectionPrice).toBe(10)
    expect(EVENT_VERSIONS['order.accepted']).toBe(11)
    for (const written of [MARKET_BUY, { ...MARKET_BUY, protectionPrice: parseDecimal('61950') }] as DomainEvent[]) {
      const encoded = encodeEvent(written)
      expect(encoded.version).toBe(11)
      expect(decodeEvent(encoded)).toEqual(written)
      expect(decodeTrustedEvent(encoded)).toEqual(written)
      expect(orderIdOfRecord(encoded)).toBe('o-1')
    }
  })

  test('version 7, 4, 3 and 2 payloads, written without the member, read as the same order without a protection price', () => {
    const { ttlMs: _ttlMs, ...untimed } = MARKET_BUY
    for (const [event, versions] of [[MARKET_BUY, [7]], [untimed, [2, 3, 4, 7]]] as const) {
      for (const version of versions) {
        const older = olderPayload(event as DomainEvent, version)
        const decoded = decodeEvent(older)
        expect(decoded).toEqual(event as DomainEvent)
        expect('protectionPrice' in decoded).toBe(false)
        expect(decodeTrustedEvent(older)).toEqual(event as DomainEvent)
        expect(orderIdOfRecord(older)).toBe('o-1')
      }
    }
    // Read with version 10's layout a version 7 payload would be misread or refused: the versions really differ.
    const withPrice = { ...MARKET_BUY, protectionPrice: parseDecimal('61950') } as DomainEvent
    expect(Buffer.from(olderPayload(MARKET_BUY, 7).payload).equals(Buffer.from(encodeEvent(withPrice).payload))).toBe(false)
  })

  test('a protection price that is not a positive amount is refused on decode (SchemaError)', () => {
    for (const bad of [0n, -1n]) {
      const encoded = encodeEvent({ ...MARKET_BUY, protectionPrice: bad } as DomainEvent)
      expect(() => decodeEvent(encoded)).toThrow(SchemaError)
    }
  })
})
