/**
 * The `notClosed` and `records` members account.flatten_requested gained with payload version 11 (registry.ts
 * MEMBERS_ADDED): the flatten's first answer, which a repeat of it answers (src/kernel/flatten-held.ts). Version 11
 * records carry them; the version 6, 3 and 2 payloads written before, with layouts without them, still read — by both
 * decoders — as the same event without them (a flatten holding no answer, whose repeat is decided again). Version 12
 * added a holding's reason (notClosed[].reason, src/kernel/flatten-close-sizes.ts): a version 11 payload's holdings
 * read without one.
 */

import { describe, expect, test } from 'bun:test'
import { parseDecimal } from '../../../src/domain/decimal.ts'
import { decodeEvent, encodeEvent, SchemaError, type DomainEvent } from '../../../src/domain/events/index.ts'
import { EVENT_VERSIONS, MEMBERS_ADDED } from '../../../src/domain/events/registry.ts'
import { decodeTrustedEvent } from '../../../src/domain/events/trusted-decode.ts'
import { olderPayload } from './member-fixtures.ts'

const REQUESTED: DomainEvent = { type: 'account.flatten_requested', atMs: 1, accountId: 'demo-1', flattenId: 'f-1', principalId: 'ops-1' }

describe('the first answer members of account.flatten_requested (payload version 11)', () => {
  test('written as version 12 (the holdings\' reasons; the config digest and build of the decision), with and without holdings not closed, and read back by both decoders', () => {
    expect(MEMBERS_ADDED['account.flatten_requested']).toEqual({ traceparent: 6, notClosed: 11, records: 11, 'notClosed.reason': 12, configDigest: 12, buildCommit: 12 })
    expect(EVENT_VERSIONS['account.flatten_requested']).toBe(12)
    const answers = [
      { notClosed: [], records: 1 },
      { notClosed: [{ asset: 'ETH', qty: parseDecimal('100') }, { asset: 'XRP', qty: parseDecimal('0.5') }], records: 4 },
      { notClosed: [{ asset: 'AAPL', qty: parseDecimal('0.5'), reason: 'QTY_BELOW_MIN' }, { asset: 'XRP', qty: parseDecimal('7') }], records: 3 },
    ]
    for (const written of answers.map((answer) => ({ ...REQUESTED, ...answer }) as DomainEvent)) {
      const encoded = encodeEvent(written)
      expect(encoded.version).toBe(12)
      expect(decodeEvent(encoded)).toEqual(written)
      expect(decodeTrustedEvent(encoded)).toEqual(written)
    }
  })

  test('a version 11 payload, its holdings written without a reason, reads as the same answer (each no instrument trades)', () => {
    const written = { ...REQUESTED, notClosed: [{ asset: 'ETH', qty: parseDecimal('100') }, { asset: 'XRP', qty: parseDecimal('0.5') }], records: 4 } as DomainEvent
    const older = olderPayload(written, 11)
    expect(older.payload).not.toEqual(encodeEvent(written).payload)
    expect(decodeEvent(older)).toEqual(written)
    expect(decodeTrustedEvent(older)).toEqual(written)
  })

  test('version 6, 3 and 2 payloads, written without them, read as the same flatten without an answer', () => {
    for (const version of [2, 3, 6]) {
      const older = olderPayload(REQUESTED, version)
      const decoded = decodeEvent(older)
      expect(decoded).toEqual(REQUESTED)
      expect('notClosed' in decoded || 'records' in decoded).toBe(false)
      expect(decodeTrustedEvent(older)).toEqual(REQUESTED)
    }
  })

  test('a count of records below 1 is refused on decode (SchemaError)', () => {
    const encoded = encodeEvent({ ...REQUESTED, notClosed: [], records: 0 } as DomainEvent)
    expect(() => decodeEvent(encoded)).toThrow(SchemaError)
  })
})
