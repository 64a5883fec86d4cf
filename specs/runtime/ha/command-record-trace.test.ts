/**
 * The request's trace context in the command record (src/runtime/ha/command-record.ts): a standby decides a place,
 * cancel, amend or flatten again with the same traceparent the leader recorded, so the records it makes match byte for
 * byte (a rejected place's order.rejected and a flatten's closes included);
 * a command record with a malformed one is refused (COMMAND_RECORD_SHAPE), never decided.
 */

import { describe, expect, test } from 'bun:test'
import { encodeEvent } from '../../../src/domain/events/index.ts'
import { CommandRecordError, decodeCommandRecord, encodeCommandRecord, ShadowDecider } from '../../../src/runtime/ha/index.ts'
import { parseDecimal } from '../../../src/domain/decimal.ts'
import type { DomainEvent } from '../../../src/domain/events/index.ts'
import { defaultKernelConfig } from '../../../src/domain/kernel-config.ts'
import { applyInPlace, decide, type KernelCommand } from '../../../src/kernel/index.ts'
import { initialState } from '../../../src/kernel/state.ts'
import type { Frame } from '../../../wal/index.ts'

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
const PRINCIPAL = { id: 'alice', roles: ['trader' as const], accounts: ['demo-1'], liveAllowed: false }
const TEST_POLICY = {
  accountId: 'demo-1', instruments: ['sim:BTC-USD'], marketOrderInstruments: [], maxOrderNotional: parseDecimal('1000000'), maxOpenOrders: 10,
  liveAllowed: false, validFromMs: 0, validUntilMs: 10_000_000_000_000,
}

function frameOf(record: { type: number; version: number; payload: Uint8Array }, lsn: number): Frame {
  return { ...record, lsn } as unknown as Frame
}

describe('the traceparent of a command record', () => {
  test('place, cancel and amend commands keep it through the record', () => {
    const cancel: KernelCommand = { kind: 'cancel', nowMs: 1, principal: PRINCIPAL, orderId: 'o-1', reason: 'USER_CANCEL', traceparent: TRACEPARENT }
    expect(decodeCommandRecord(encodeCommandRecord(cancel, 1)).command).toEqual(cancel)
    const { traceparent: _, ...untraced } = cancel
    expect(decodeCommandRecord(encodeCommandRecord(untraced, 1)).command).toEqual(untraced)
  })

  test('a flatten command keeps it through the record; one recorded without it (an older leader) still decodes', () => {
    const flatten: KernelCommand = { kind: 'flatten', nowMs: 1, principal: PRINCIPAL, accountId: 'demo-1', flattenId: 'f-1', markets: {}, buildCommit: 'b', traceparent: TRACEPARENT }
    expect(decodeCommandRecord(encodeCommandRecord(flatten, 1)).command).toEqual(flatten)
    const { traceparent: _, ...untraced } = flatten
    expect(decodeCommandRecord(encodeCommandRecord(untraced, 1)).command).toEqual(untraced)
  })

  test('a malformed one is refused with COMMAND_RECORD_SHAPE', () => {
    const cancel: KernelCommand = { kind: 'cancel', nowMs: 1, principal: PRINCIPAL, orderId: 'o-1', reason: 'USER_CANCEL', traceparent: TRACEPARENT.toUpperCase() }
    const record = encodeCommandRecord(cancel, 1)
    expect(() => decodeCommandRecord(record)).toThrow(CommandRecordError)
    try {
      decodeCommandRecord(record)
    } catch (error) {
      expect((error as CommandRecordError).code).toBe('COMMAND_RECORD_SHAPE')
    }
  })

  test('a standby decides a traced place command again (its record is understood, not refused) and matches the leader', () => {
    const place: KernelCommand = {
      kind: 'place',
      nowMs: 1_000,
      principal: PRINCIPAL,
      idempotencyKey: 'k-1',
      body: { account: 'demo-1', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '59000' },
      market: null,
      live: { credentialPresent: false, environmentLive: false, haLeader: true },
      configDigest: 'c',
      buildCommit: 'b',
      traceparent: TRACEPARENT,
    }
    const state = initialState()
    const leaderEvents = decide(state, place).events
    expect(leaderEvents.length).toBeGreaterThan(0)
    const shadow = new ShadowDecider()
    shadow.command(frameOf(encodeCommandRecord(place, leaderEvents.length), 1), state)
    leaderEvents.forEach((event, index) => shadow.event(frameOf(encodeEvent(event), index + 2), state))
    expect(shadow.stats.lastMismatches).toEqual([])
    expect(shadow.stats.matches).toBe(1)
  })
})

describe('a standby re-decides the traced records this build added', () => {
  const ops = { id: 'olga', roles: ['ops' as const], accounts: [], liveAllowed: false }
  const configured = (): ReturnType<typeof initialState> => {
    const state = initialState()
    const steps: KernelCommand[] = [
      { kind: 'configure', nowMs: 0, config: defaultKernelConfig({ policies: [{ ...TEST_POLICY }], digest: 'c' }) },
      { kind: 'fund', nowMs: 0, principalId: 'config', accountId: 'demo-1', asset: 'BTC', amount: parseDecimal('1'), reference: 'config' },
    ]
    for (const command of steps) for (const event of decide(state, command).events) applyInPlace(state, event, { lsn: state.lastLsn + 1 })
    return state
  }

  function shadowMatches(state: ReturnType<typeof initialState>, command: KernelCommand): DomainEvent[] {
    const leaderEvents = decide(state, command).events
    const shadow = new ShadowDecider()
    shadow.command(frameOf(encodeCommandRecord(command, leaderEvents.length), 1), state)
    leaderEvents.forEach((event, index) => shadow.event(frameOf(encodeEvent(event), index + 2), state))
    expect(shadow.stats.lastMismatches).toEqual([])
    expect(shadow.stats.matches).toBe(1)
    return leaderEvents
  }

  test("a rejected place's order.rejected (version 6) with the trace", () => {
    const place: KernelCommand = {
      kind: 'place', nowMs: 1_000, principal: PRINCIPAL, idempotencyKey: 'k-big',
      body: { account: 'demo-1', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '1000', price: '59000' },
      market: null, live: { credentialPresent: false, environmentLive: false, haLeader: true }, configDigest: 'c', buildCommit: 'b', traceparent: TRACEPARENT,
    }
    const events = shadowMatches(configured(), place)
    expect(events.map((event) => [event.type, (event as { traceparent?: string }).traceparent])).toEqual([['order.rejected', TRACEPARENT]])
  })

  test("a flatten's close (order.accepted) with the trace", () => {
    const flatten: KernelCommand = {
      kind: 'flatten', nowMs: 1_000, principal: ops, accountId: 'demo-1', flattenId: 'f-1', buildCommit: 'b', traceparent: TRACEPARENT,
      markets: { 'sim:BTC-USD': { referencePrice: parseDecimal('59000'), observedAtMs: 1_000, previousPrice: null } },
    }
    const events = shadowMatches(configured(), flatten)
    expect(events.filter((event) => event.type === 'order.accepted').map((event) => (event as { traceparent?: string }).traceparent)).toEqual([TRACEPARENT])
  })
})
