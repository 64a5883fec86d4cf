/**
 * The book limits in the recorded kernel config (payload version 4 of kernel.configured, registry.ts MEMBERS_ADDED by
 * nested path): a version 4 record carries them or not, and a version 3 (or 2) record, written with a config layout
 * without them, still reads — by both decoders — as the same config with them absent (off).
 */

import { describe, expect, test } from 'bun:test'
import { parseDecimal } from '../../../src/domain/decimal.ts'
import { recordLayoutOf } from '../../../src/domain/events/binary-layout.ts'
import { schemaAtVersion } from '../../../src/domain/events/binary-records.ts'
import { decodeEvent, encodeEvent, EVENT_CODES, type DomainEvent, type EncodedEvent } from '../../../src/domain/events/index.ts'
import { EVENT_VERSIONS } from '../../../src/domain/events/registry.ts'
import { decodeTrustedEvent } from '../../../src/domain/events/trusted-decode.ts'
import { defaultKernelConfig } from '../../../src/domain/kernel-config.ts'
import { writeRecordInterpreted } from './interpreted-writer.ts'

const PLAIN: DomainEvent = { type: 'kernel.configured', atMs: 1, config: defaultKernelConfig({ digest: 'd' }) }

function withLimits(): DomainEvent {
  const config = defaultKernelConfig({ digest: 'd' })
  const [first, ...rest] = config.instruments
  if (first === undefined) throw new Error('the sim has instruments')
  return {
    type: 'kernel.configured',
    atMs: 1,
    config: { ...config, instruments: [{ ...first, touchQtyMin: parseDecimal('0.5') }, ...rest], params: { ...config.params, spreadBpsMax: 20, touchShareBpsMax: 2_500 } },
  }
}

function olderPayload(event: DomainEvent, version: 2 | 3): EncodedEvent {
  const { type, ...body } = event
  const layout = recordLayoutOf(schemaAtVersion(type, version), version === 2 ? 'plain' : 'compact')
  return { type: EVENT_CODES[type], version, payload: writeRecordInterpreted(layout, body, type) }
}

describe('book limits in kernel.configured (payload version 4)', () => {
  test('version 4 round trips with the limits set and with them absent, by both decoders', () => {
    expect(EVENT_VERSIONS['kernel.configured']).toBe(4)
    for (const event of [PLAIN, withLimits()]) {
      const encoded = encodeEvent(event)
      expect(encoded.version).toBe(4)
      expect(decodeEvent(encoded)).toEqual(event)
      expect(decodeTrustedEvent(encoded)).toEqual(event)
    }
    const decoded = decodeEvent(encodeEvent(withLimits()))
    if (decoded.type !== 'kernel.configured') throw new Error('a config record')
    expect(decoded.config.instruments[0]?.touchQtyMin).toBe(parseDecimal('0.5'))
    expect(decoded.config.params.touchShareBpsMax).toBe(2_500)
  })

  test('a version 3 or 2 payload, written without the limits, reads as the same config with them absent', () => {
    for (const version of [2, 3] as const) {
      const encoded = olderPayload(PLAIN, version)
      for (const decoded of [decodeEvent(encoded), decodeTrustedEvent(encoded)]) {
        expect(decoded).toEqual(PLAIN)
        if (decoded.type !== 'kernel.configured') throw new Error('a config record')
        expect('spreadBpsMax' in decoded.config.params).toBe(false)
        expect(decoded.config.instruments.every((instrument) => !('touchQtyMin' in instrument))).toBe(true)
      }
    }
  })
})
