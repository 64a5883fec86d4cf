/**
 * The `config.policies.selfTrade` member kernel.configured gained with payload version 9 (registry.ts MEMBERS_ADDED):
 * a policy's self-trade setting (src/kernel/intake/self-trade.ts). A version 9 record carries it per policy or not; a
 * version 8 record (the cap's build, which had no per-account setting) reads — by both decoders — as the same config
 * with every policy without it, which decides with no self-trade check, as the builds before it decided.
 */

import { expect, test } from 'bun:test'
import type { Policy } from '../../../src/domain/accounts.ts'
import { parseDecimal } from '../../../src/domain/decimal.ts'
import { recordLayoutOf } from '../../../src/domain/events/binary-layout.ts'
import { schemaAtVersion } from '../../../src/domain/events/binary-records.ts'
import { decodeEvent, encodeEvent, EVENT_CODES, SchemaError, type DomainEvent, type EncodedEvent } from '../../../src/domain/events/index.ts'
import { EVENT_VERSIONS } from '../../../src/domain/events/registry.ts'
import { decodeTrustedEvent } from '../../../src/domain/events/trusted-decode.ts'
import { defaultKernelConfig } from '../../../src/domain/kernel-config.ts'
import { withoutKeyWindow } from './member-fixtures.ts'
import { writeRecordInterpreted } from './interpreted-writer.ts'

function policy(accountId: string, selfTrade?: Policy['selfTrade']): Policy {
  const base: Policy = { accountId, instruments: ['sim:BTC-USD'], marketOrderInstruments: [], maxOrderNotional: parseDecimal('1000'), maxOpenOrders: 5, liveAllowed: false, validFromMs: 0, validUntilMs: 10 }
  return selfTrade === undefined ? base : { ...base, selfTrade }
}

function configured(policies: Policy[]): DomainEvent {
  return { type: 'kernel.configured', atMs: 1, config: withoutKeyWindow(defaultKernelConfig({ digest: 'd', policies })) }
}

const SET = configured([policy('a', 'reject'), policy('b', 'allow')])
const UNSET = configured([policy('a'), policy('b')])

function payloadAt(event: DomainEvent, version: number): EncodedEvent {
  const { type, ...body } = event
  return { type: EVENT_CODES[type], version, payload: writeRecordInterpreted(recordLayoutOf(schemaAtVersion(type, version), 'compact'), body, type) }
}

test('kernel.configured is written as version 10 (9 added a policy\'s selfTrade) with each policy\'s selfTrade, set or not, and reads back by both decoders', () => {
  expect(EVENT_VERSIONS['kernel.configured']).toBe(10)
  for (const event of [SET, UNSET]) {
    const encoded = encodeEvent(event)
    expect(encoded.version).toBe(10)
    expect(decodeEvent(encoded)).toEqual(event)
    expect(decodeTrustedEvent(encoded)).toEqual(event)
  }
  const decoded = decodeEvent(encodeEvent(SET))
  if (decoded.type !== 'kernel.configured') throw new Error('a config record')
  expect(decoded.config.policies.map((item) => item.selfTrade)).toEqual(['reject', 'allow'])
  // Only the two words: anything else is refused, never read as one of them.
  const other = configured([{ ...policy('a'), selfTrade: 'maybe' as Policy['selfTrade'] }])
  expect(() => decodeEvent(payloadAt(other, 9))).toThrow(SchemaError)
})

test('a version 8 payload (no room for selfTrade) reads as the same config, every policy without it', () => {
  const layout = JSON.stringify(recordLayoutOf(schemaAtVersion('kernel.configured', 8), 'compact'))
  expect(layout).not.toContain('selfTrade')
  const encoded = payloadAt(UNSET, 8)
  for (const decoded of [decodeEvent(encoded), decodeTrustedEvent(encoded)]) {
    expect(decoded).toEqual(UNSET)
    if (decoded.type !== 'kernel.configured') throw new Error('a config record')
    for (const item of decoded.config.policies) expect('selfTrade' in item).toBe(false)
  }
  // Read with version 9's layout a version 8 payload would be misread or refused: the versions really differ.
  expect(JSON.stringify(recordLayoutOf(schemaAtVersion('kernel.configured', 9), 'compact'))).toContain('selfTrade')
  expect(Buffer.from(payloadAt(UNSET, 8).payload).equals(Buffer.from(encodeEvent(UNSET).payload))).toBe(false)
})
