/**
 * The `config.params.terminalOrdersHeldMax` member kernel.configured gained with payload version 8 (registry.ts
 * MEMBERS_ADDED): the hard cap on ended orders held (src/kernel/retention.ts). A version 8 record carries it or not;
 * a version 5 record (the book limits' build, whose layout 6 and 7 share) reads — by both decoders — as the same
 * config without it, which replays with no cap, as it was decided.
 */

import { expect, test } from 'bun:test'
import { recordLayoutOf } from '../../../src/domain/events/binary-layout.ts'
import { schemaAtVersion } from '../../../src/domain/events/binary-records.ts'
import { decodeEvent, encodeEvent, EVENT_CODES, type DomainEvent, type EncodedEvent } from '../../../src/domain/events/index.ts'
import { EVENT_VERSIONS } from '../../../src/domain/events/registry.ts'
import { decodeTrustedEvent } from '../../../src/domain/events/trusted-decode.ts'
import { defaultKernelConfig } from '../../../src/domain/kernel-config.ts'
import { writeRecordInterpreted } from './interpreted-writer.ts'
import { withoutKeyWindow } from './member-fixtures.ts'

// As builds before payload version 10 recorded it: without the idempotency key window.
const CONFIG = withoutKeyWindow(defaultKernelConfig({ digest: 'd' }))
const WITH_CAP: DomainEvent = { type: 'kernel.configured', atMs: 1, config: { ...CONFIG, params: { ...CONFIG.params, terminalOrdersHeldMax: 250_000 } } }
const { terminalOrdersHeldMax: _, ...paramsWithout } = CONFIG.params
const WITHOUT_CAP: DomainEvent = { type: 'kernel.configured', atMs: 1, config: { ...CONFIG, params: paramsWithout } }

function payloadAt(event: DomainEvent, version: number): EncodedEvent {
  const { type, ...body } = event
  return { type: EVENT_CODES[type], version, payload: writeRecordInterpreted(recordLayoutOf(schemaAtVersion(type, version), 'compact'), body, type) }
}

test('kernel.configured is written as version 10 (8 added the cap, 9 a policy\'s selfTrade, 10 the key window), with and without the cap, and reads back by both decoders', () => {
  expect(EVENT_VERSIONS['kernel.configured']).toBe(10)
  expect(CONFIG.params.terminalOrdersHeldMax).toBe(1_000_000)
  for (const event of [WITH_CAP, WITHOUT_CAP]) {
    const encoded = encodeEvent(event)
    expect(encoded.version).toBe(10)
    expect(decodeEvent(encoded)).toEqual(event)
    expect(decodeTrustedEvent(encoded)).toEqual(event)
  }
})

test('a version 5, 6 or 7 payload (no room for the cap) reads as the same config without it', () => {
  for (const version of [5, 6, 7]) {
    const layout = JSON.stringify(recordLayoutOf(schemaAtVersion('kernel.configured', version), 'compact'))
    expect(layout).not.toContain('terminalOrdersHeldMax')
    const encoded = payloadAt(WITHOUT_CAP, version)
    for (const decoded of [decodeEvent(encoded), decodeTrustedEvent(encoded)]) {
      expect(decoded).toEqual(WITHOUT_CAP)
      if (decoded.type !== 'kernel.configured') throw new Error('a config record')
      expect('terminalOrdersHeldMax' in decoded.config.params).toBe(false)
    }
  }
  // Read with version 8's layout a version 5 payload would be misread or refused: the versions really differ.
  expect(JSON.stringify(recordLayoutOf(schemaAtVersion('kernel.configured', 8), 'compact'))).toContain('terminalOrdersHeldMax')
})
