/**
 * Payload version 13: an account's own switch (account.switch_changed, src/kernel/account-switch.ts) carries the config
 * digest and build it was decided under (configDigest, buildCommit: record-parts.ts attribution), as switch.changed has
 * from version 12. It is written as version 13, with and without them; its older payloads (2, 3, and 4 to 12, 3's
 * layout) still read, by both decoders, as the same record without them; its bytes at 3 and 13 are pinned.
 */

import { describe, expect, test } from 'bun:test'
import { decodeEvent, encodeEvent, EVENT_CODES, type DomainEvent } from '../../../src/domain/events/index.ts'
import { EVENT_VERSIONS, MEMBERS_ADDED } from '../../../src/domain/events/registry.ts'
import { decodeTrustedEvent } from '../../../src/domain/events/trusted-decode.ts'
import { olderPayload } from './member-fixtures.ts'

const STOP: DomainEvent = { type: 'account.switch_changed', atMs: 1, accountId: 'demo-1', action: 'HALT', switch: 'halted', principalId: 'egress-auto-stop', note: 'rate' }
const ATTRIBUTED = { ...STOP, configDigest: 'cfg-1', buildCommit: 'abc1234' } as DomainEvent

describe("an account's own switch names its config digest and build (payload version 13)", () => {
  test('account.switch_changed alone gained them at 13; it is written as 13 and round trips with and without them, by both decoders', () => {
    const at13 = Object.entries(MEMBERS_ADDED).filter(([, added]) => Object.values(added).includes(13)).map(([type]) => type)
    expect(at13).toEqual(['account.switch_changed'])
    expect(EVENT_VERSIONS['account.switch_changed']).toBe(13)
    for (const written of [STOP, { ...ATTRIBUTED, buildCommit: undefined }, ATTRIBUTED]) {
      const event = JSON.parse(JSON.stringify(written)) as DomainEvent
      const encoded = encodeEvent(event)
      expect(encoded.version).toBe(13)
      expect(decodeEvent(encoded)).toEqual(event)
      expect(decodeTrustedEvent(encoded)).toEqual(event)
    }
  })

  test('payloads of versions 2 to 12, written without them, read as the same record without them', () => {
    for (let version = 2; version <= 12; version++) {
      const older = olderPayload(STOP, version)
      expect(decodeEvent(older)).toEqual(STOP)
      expect(decodeTrustedEvent(older)).toEqual(STOP)
    }
  })

  test('its bytes: version 3 as written before, version 13 with both members (pinned)', () => {
    // As the build before version 13 wrote it: accountId, action (a word), atMs, note, principalId, switch (a word).
    const v3 = { type: EVENT_CODES['account.switch_changed'], version: 3, payload: new Uint8Array(Buffer.from(V3_HEX, 'hex')) }
    expect(decodeEvent(v3)).toEqual(STOP)
    expect(decodeTrustedEvent(v3)).toEqual(STOP)
    // The same, then buildCommit and configDigest (present: 01, then the text) after atMs, in the layout's order.
    expect(Buffer.from(encodeEvent(ATTRIBUTED).payload).toString('hex')).toBe(V13_HEX)
  })
})

const V3_HEX = '0c64656d6f2d318d02000000000000f03f0872617465206567726573732d6175746f2d73746f708902'
const V13_HEX = '0c64656d6f2d318d02000000000000f03f010e61626331323334010a6366672d310872617465206567726573732d6175746f2d73746f708902'
