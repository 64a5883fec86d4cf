/**
 * The config digest and build a decision was made under (configDigest, buildCommit: record-parts.ts attribution),
 * added with payload version 12 to the records of operator and control decisions and of cancels and resends (and
 * account.funded's principalId): those types are written as version 12, with and without the members, and their older
 * payloads — version 3 (2 for all), 4 for order.cancel_requested, 11 for the types that were at 11 — still read, by
 * both decoders, as the same record without them. A cancel's bytes are pinned at 4 and 12.
 */

import { describe, expect, test } from 'bun:test'
import { parseDecimal } from '../../../src/domain/decimal.ts'
import { decodeEvent, encodeEvent, EVENT_CODES, type DomainEvent } from '../../../src/domain/events/index.ts'
import { EVENT_VERSIONS, MEMBERS_ADDED } from '../../../src/domain/events/registry.ts'
import { decodeTrustedEvent } from '../../../src/domain/events/trusted-decode.ts'
import { olderPayload } from './member-fixtures.ts'

const ATTRIBUTION = { configDigest: '445c6be2d84c7b550c17d250d2b5a51740b749062f67ffee48783702fd105a4c', buildCommit: 'abc1234+dirty' }

/** One record of every type that gained the members, without them, with the version it had before. */
const SAMPLES: { event: DomainEvent; before: number }[] = [
  { event: { type: 'mode.changed', atMs: 1, mode: 'shadow', principalId: 'ada', note: 'drill' }, before: 3 },
  { event: { type: 'switch.changed', atMs: 1, action: 'HALT', switch: 'halted', principalId: 'egress:auto-stop', note: 'rejects' }, before: 3 },
  { event: { type: 'account.funded', atMs: 1, accountId: 'demo-1', asset: 'USD', amount: parseDecimal('100'), reference: 'config:demo-1:USD' }, before: 3 },
  { event: { type: 'account.flatten_requested', atMs: 1, accountId: 'demo-1', flattenId: 'f-1', principalId: 'ops-1', notClosed: [], records: 2 }, before: 11 },
  { event: { type: 'venue.override_proposed', atMs: 1, venue: 'sim', overrideId: 'sim#1', principalId: 'ada', note: 'drill', scope: 'all', untilMs: 2 }, before: 3 },
  { event: { type: 'venue.override_approved', atMs: 1, venue: 'sim', overrideId: 'sim#1', principalId: 'bea' }, before: 3 },
  { event: { type: 'venue.override_revoked', atMs: 1, venue: 'sim', overrideId: 'sim#1', principalId: 'ada', note: 'over' }, before: 3 },
  { event: { type: 'auth.token_revoked', atMs: 1, jti: 'j-1', untilMs: 2, principalId: 'ada', note: '' }, before: 3 },
  { event: { type: 'auth.subject_revoked', atMs: 1, sub: 'bot-9', issuedBeforeMs: 1, untilMs: 2, principalId: 'ada', note: '' }, before: 3 },
  { event: { type: 'order.cancel_requested', atMs: 1, orderId: 'o-1', principalId: 'alice', reason: 'USER_CANCEL' }, before: 4 },
  { event: { type: 'order.canceled', atMs: 1, orderId: 'o-1', reason: 'CANCELED_BEFORE_SEND', source: 'local', principalId: 'olga' }, before: 11 },
  { event: { type: 'order.resend_requested', atMs: 1, orderId: 'o-1', principalId: 'egress-bootstrap', reservationAmount: parseDecimal('590.59') }, before: 11 },
  { event: { type: 'order.resend_refused', atMs: 1, orderId: 'o-1', principalId: 'olga', reason: 'ORDER_NOT_RESENDABLE', detail: 'order is AckedOpen' }, before: 3 },
]

const withAttribution = (event: DomainEvent): DomainEvent => ({ ...event, ...ATTRIBUTION, ...(event.type === 'account.funded' ? { principalId: 'egress-bootstrap' } : {}) }) as DomainEvent

describe('the config digest and build of a decision (payload version 12)', () => {
  test('every type that carries them is at version 12 and round trips with and without them, by both decoders', () => {
    const attributed = Object.entries(MEMBERS_ADDED).filter(([, added]) => added.configDigest === 12 && added.buildCommit === 12).map(([type]) => type)
    expect(attributed.sort()).toEqual(SAMPLES.map(({ event }) => event.type).sort())
    for (const { event } of SAMPLES) {
      expect(EVENT_VERSIONS[event.type]).toBe(12)
      for (const written of [event, withAttribution(event)]) {
        const encoded = encodeEvent(written)
        expect(encoded.version).toBe(12)
        expect(decodeEvent(encoded)).toEqual(written)
        expect(decodeTrustedEvent(encoded)).toEqual(written)
      }
    }
  })

  test('payloads of the versions before, written without them, read as the same record without them', () => {
    for (const { event, before } of SAMPLES) {
      for (const version of new Set([2, 3, before])) {
        const older = olderPayload(event, version)
        const decoded = decodeEvent(older)
        expect(decoded).toEqual(version < 11 ? withoutAddedAt11(event) : event)
        expect('configDigest' in decoded || 'buildCommit' in decoded).toBe(false)
        expect(decodeTrustedEvent(older)).toEqual(decoded)
      }
    }
  })

  test("a cancel's bytes: version 4 as written before, version 12 with both members (pinned)", () => {
    const cancel: DomainEvent = { type: 'order.cancel_requested', atMs: 1, orderId: 'o-1', principalId: 'alice', reason: 'USER_CANCEL' }
    const v4 = { type: EVENT_CODES['order.cancel_requested'], version: 4, payload: new Uint8Array(Buffer.from('066f2d31000000000000f03f0a616c696365870300', 'hex')) }
    expect(decodeEvent(v4)).toEqual(cancel)
    expect(decodeTrustedEvent(v4)).toEqual(cancel)
    const attributed = { ...cancel, configDigest: 'cfg-1', buildCommit: 'abc1234' } as DomainEvent
    // orderId, atMs, then buildCommit and configDigest (present: 01, then the text), principalId, reason (a word), traceparent (absent).
    expect(Buffer.from(encodeEvent(attributed).payload).toString('hex')).toBe('066f2d31000000000000f03f010e61626331323334010a6366672d310a616c696365870300')
  })
})

/** The members a version 11 layout has and an older one does not (what the fixture writes into neither). */
function withoutAddedAt11(event: DomainEvent): DomainEvent {
  const added = MEMBERS_ADDED[event.type] ?? {}
  return Object.fromEntries(Object.entries(event).filter(([key]) => added[key] !== 11)) as unknown as DomainEvent
}
