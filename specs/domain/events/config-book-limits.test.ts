/**
 * The book limits in the recorded kernel config (payload version 5 of kernel.configured, registry.ts MEMBERS_ADDED by
 * nested path): a version 5 record carries them or not, and a version 4 record (a policy's newOrdersBy, no limits) or
 * a version 3 (or 2) one (no newOrdersBy either), written with a config layout without them, still reads —
 * by both decoders — as the same config with them absent (off).
 */

import { describe, expect, test } from 'bun:test'
import { parseDecimal } from '../../../src/domain/decimal.ts'
import { recordLayoutOf } from '../../../src/domain/events/binary-layout.ts'
import { schemaAtVersion } from '../../../src/domain/events/binary-records.ts'
import { decodeEvent, encodeEvent, EVENT_CODES, type DomainEvent, type EncodedEvent } from '../../../src/domain/events/index.ts'
import { EVENT_VERSIONS } from '../../../src/domain/events/registry.ts'
import { decodeTrustedEvent } from '../../../src/domain/events/trusted-decode.ts'
import { defaultKernelConfig, type KernelConfig } from '../../../src/domain/kernel-config.ts'
import { writeRecordInterpreted } from './interpreted-writer.ts'

/** The default config as the book-limits build recorded it: without the cap on ended orders held (payload version 8, held-cap-member.test.ts). */
function configBeforeHeldCap(options: Parameters<typeof defaultKernelConfig>[0]): KernelConfig {
  const { terminalOrdersHeldMax: _, idempotencyKeyHeldMs: _window, idempotencyKeysHeldMax: _cap, ...params } = defaultKernelConfig(options).params
  return { ...defaultKernelConfig(options), params }
}

const PLAIN: DomainEvent = { type: 'kernel.configured', atMs: 1, config: configBeforeHeldCap({ digest: 'd' }) }

function withLimits(): DomainEvent {
  const config = configBeforeHeldCap({ digest: 'd' })
  const [first, ...rest] = config.instruments
  if (first === undefined) throw new Error('the sim has instruments')
  return {
    type: 'kernel.configured',
    atMs: 1,
    config: { ...config, instruments: [{ ...first, touchQtyMin: parseDecimal('0.5') }, ...rest], params: { ...config.params, spreadBpsMax: 20, touchShareBpsMax: 2_500 } },
  }
}

function olderPayload(event: DomainEvent, version: 2 | 3 | 4): EncodedEvent {
  const { type, ...body } = event
  const layout = recordLayoutOf(schemaAtVersion(type, version), version === 2 ? 'plain' : 'compact')
  return { type: EVENT_CODES[type], version, payload: writeRecordInterpreted(layout, body, type) }
}

describe('book limits in kernel.configured (payload version 5)', () => {
  test('the limits round trip set and absent, by both decoders (written as version 10 since the key window)', () => {
    expect(EVENT_VERSIONS['kernel.configured']).toBe(10)
    for (const event of [PLAIN, withLimits()]) {
      const encoded = encodeEvent(event)
      expect(encoded.version).toBe(10)
      expect(decodeEvent(encoded)).toEqual(event)
      expect(decodeTrustedEvent(encoded)).toEqual(event)
    }
    const decoded = decodeEvent(encodeEvent(withLimits()))
    if (decoded.type !== 'kernel.configured') throw new Error('a config record')
    expect(decoded.config.instruments[0]?.touchQtyMin).toBe(parseDecimal('0.5'))
    expect(decoded.config.params.touchShareBpsMax).toBe(2_500)
  })

  test('a version 4, 3 or 2 payload, written without the limits, reads as the same config with them absent', () => {
    for (const version of [2, 3, 4] as const) {
      const encoded = olderPayload(PLAIN, version)
      for (const decoded of [decodeEvent(encoded), decodeTrustedEvent(encoded)]) {
        expect(decoded).toEqual(PLAIN)
        if (decoded.type !== 'kernel.configured') throw new Error('a config record')
        expect('spreadBpsMax' in decoded.config.params).toBe(false)
        expect(decoded.config.instruments.every((instrument) => !('touchQtyMin' in instrument))).toBe(true)
      }
    }
  })

  test("version 4's layout is the policy build's (newOrdersBy, no book limits); versions 3 and 2 hold neither", () => {
    const layoutText = (version: number) => JSON.stringify(recordLayoutOf(schemaAtVersion('kernel.configured', version), version === 2 ? 'plain' : 'compact'))
    expect(layoutText(5)).toContain('touchQtyMin')
    expect(layoutText(5)).toContain('newOrdersBy')
    expect(layoutText(4)).toContain('newOrdersBy')
    for (const version of [2, 3, 4]) {
      for (const member of ['touchQtyMin', 'spreadBpsMax', 'touchShareBpsMax']) expect(layoutText(version)).not.toContain(member)
    }
    for (const version of [2, 3]) expect(layoutText(version)).not.toContain('newOrdersBy')
    // A policy's newOrdersBy set in a version 4 record reads back with the limits absent.
    const policy = {
      accountId: 'a1', instruments: ['sim:BTC-USD'], marketOrderInstruments: [], maxOrderNotional: parseDecimal('1000'), maxOpenOrders: 5,
      liveAllowed: false, validFromMs: 0, validUntilMs: 10, newOrdersBy: ['bot' as const],
    }
    const event: DomainEvent = { type: 'kernel.configured', atMs: 1, config: configBeforeHeldCap({ digest: 'd', policies: [policy] }) }
    const encoded = olderPayload(event, 4)
    expect(decodeEvent(encoded)).toEqual(event)
    expect(decodeTrustedEvent(encoded)).toEqual(event)
  })
})
