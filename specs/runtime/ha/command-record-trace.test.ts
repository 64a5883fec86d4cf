/**
 * The request's trace context in the command record (src/runtime/ha/command-record.ts): a standby decides a place,
 * cancel or amend again with the same traceparent the leader recorded, so the records it makes match byte for byte;
 * a command record with a malformed one is refused (COMMAND_RECORD_SHAPE), never decided.
 */

import { describe, expect, test } from 'bun:test'
import { encodeEvent } from '../../../src/domain/events/index.ts'
import { CommandRecordError, decodeCommandRecord, encodeCommandRecord, ShadowDecider } from '../../../src/runtime/ha/index.ts'
import { decide, type KernelCommand } from '../../../src/kernel/index.ts'
import { initialState } from '../../../src/kernel/state.ts'
import type { Frame } from '../../../wal/index.ts'

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
const PRINCIPAL = { id: 'alice', roles: ['trader' as const], accounts: ['demo-1'], liveAllowed: false }

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
