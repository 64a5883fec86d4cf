/**
 * An HA pair is upgraded standby first. A leader of the build before payload version 6 recorded a traced place the
 * kernel rejected as `order.rejected` version 3, without the request's trace, although its command record carried the
 * traceparent (places have since version 4). This build re-decides that command with the trace on its order.rejected:
 * the standby's shadow decider (and `redecide` on an older log) must compare what the leader decided, not the members
 * its build could not write — or every traced rejection of a rolling upgrade is a mismatch. A real difference in such
 * a record must still be one.
 */

import { describe, expect, test } from 'bun:test'
import { schemaAtVersion } from '../../../src/domain/events/binary-records.ts'
import { recordLayoutOf } from '../../../src/domain/events/binary-layout.ts'
import { compileRecordWriter } from '../../../src/domain/events/binary-writer.ts'
import { EVENT_CODES, EVENT_VERSIONS, type DomainEvent } from '../../../src/domain/events/index.ts'
import { parseDecimal } from '../../../src/domain/decimal.ts'
import { defaultKernelConfig } from '../../../src/domain/kernel-config.ts'
import { applyInPlace, decide, initialState, type KernelCommand } from '../../../src/kernel/index.ts'
import { encodeCommandRecord, ShadowDecider } from '../../../src/runtime/ha/index.ts'
import type { Frame } from '../../../wal/index.ts'

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
const PRINCIPAL = { id: 'alice', roles: ['trader' as const], accounts: ['demo-1'], liveAllowed: false }
const POLICY = {
  accountId: 'demo-1', instruments: ['sim:BTC-USD'], marketOrderInstruments: [], maxOrderNotional: parseDecimal('1000000'), maxOpenOrders: 10,
  liveAllowed: false, validFromMs: 0, validUntilMs: 10_000_000_000_000,
}

function frameOf(record: { type: number; version: number; payload: Uint8Array }, lsn: number): Frame {
  return { ...record, lsn } as unknown as Frame
}

/** The event as the build before wrote it: order.rejected at version 3 (its layout, no traceparent). */
function olderBuildRecord(event: DomainEvent): { type: number; version: number; payload: Uint8Array } {
  const { traceparent: _, ...written } = event as DomainEvent & { traceparent?: string }
  const write = compileRecordWriter(recordLayoutOf(schemaAtVersion(event.type, 3), 'compact'), event.type)
  return { type: EVENT_CODES[event.type], version: 3, payload: write(written as DomainEvent) }
}

function configured(): ReturnType<typeof initialState> {
  const state = initialState()
  const steps: KernelCommand[] = [
    { kind: 'configure', nowMs: 0, config: defaultKernelConfig({ policies: [{ ...POLICY }], digest: 'c' }) },
    { kind: 'fund', nowMs: 0, principalId: 'config', accountId: 'demo-1', asset: 'USD', amount: parseDecimal('1000'), reference: 'config' },
  ]
  for (const command of steps) for (const event of decide(state, command).events) applyInPlace(state, event, { lsn: state.lastLsn + 1 })
  return state
}

const rejectedPlace: KernelCommand = {
  kind: 'place', nowMs: 1_000, principal: PRINCIPAL, idempotencyKey: 'k-big',
  body: { account: 'demo-1', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '1000', price: '59000' },
  market: null, live: { credentialPresent: false, environmentLive: false, haLeader: true }, configDigest: 'c', buildCommit: 'b', traceparent: TRACEPARENT,
}

function shadowOf(state: ReturnType<typeof initialState>, leaderRecords: { type: number; version: number; payload: Uint8Array }[]): ShadowDecider {
  const shadow = new ShadowDecider()
  shadow.command(frameOf(encodeCommandRecord(rejectedPlace, leaderRecords.length), 1), state)
  leaderRecords.forEach((record, index) => shadow.event(frameOf(record, index + 2), state))
  return shadow
}

describe('shadow mode: a leader of the build before writes order.rejected without the trace', () => {
  test("a traced rejection recorded at version 3 matches the standby's version 6 decision", () => {
    const state = configured()
    const events = decide(state, rejectedPlace).events
    expect(events.map((event) => event.type)).toEqual(['order.rejected'])
    expect(EVENT_VERSIONS['order.rejected']).toBe(6)
    const stats = shadowOf(state, events.map(olderBuildRecord)).stats
    expect(stats.lastMismatches).toEqual([])
    expect(stats.matches).toBe(1)
  })

  test('a version 3 record that differs in anything else is still a mismatch', () => {
    const state = configured()
    const events = decide(state, rejectedPlace).events.map((event) => ({ ...event, atMs: 999 }) as DomainEvent)
    const stats = shadowOf(state, events.map(olderBuildRecord)).stats
    expect(stats.mismatches).toBe(1)
    expect(stats.lastMismatches[0]?.difference).toContain('atMs')
  })
})
