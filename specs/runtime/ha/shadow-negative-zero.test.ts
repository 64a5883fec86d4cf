/**
 * A standby re-decides the leader's command from its command record (JSON) and compares the event payloads byte for
 * byte. JSON writes -0 as 0, so the event payloads must too, or a -0 the leader received (a venue's JSON report) is a
 * mismatch the standby reports although both decided the same.
 */

import { describe, expect, test } from 'bun:test'
import { encodeEvent } from '../../../src/domain/events/index.ts'
import { ShadowDecider, encodeCommandRecord } from '../../../src/runtime/ha/index.ts'
import { decide, type KernelCommand } from '../../../src/kernel/index.ts'
import { initialState } from '../../../src/kernel/state.ts'
import type { Frame } from '../../../wal/index.ts'

function frameOf(record: { type: number; version: number; payload: Uint8Array }, lsn: number): Frame {
  return { ...record, lsn } as unknown as Frame
}

describe('shadow mode and -0', () => {
  test('a venue report with venueTimeMs -0: the standby decides the same bytes as the leader logged', () => {
    const state = initialState()
    const command: KernelCommand = {
      kind: 'venue_report',
      nowMs: 1_000,
      report: { venue: 'sim', execId: 'e-1', kind: 'new', clientOrderId: 'nobody', venueOrderId: 'v-1', account: 'a', symbol: 'BTC-USD', side: 'buy', cumQty: 0n, venueTimeMs: -0 },
    }
    const leaderEvents = decide(state, command).events.map((event) => encodeEvent(event))
    expect(leaderEvents.length).toBeGreaterThan(0)
    const shadow = new ShadowDecider()
    shadow.command(frameOf(encodeCommandRecord(command, leaderEvents.length), 1), state)
    leaderEvents.forEach((record, index) => shadow.event(frameOf(record, index + 2), state))
    expect(shadow.stats.lastMismatches).toEqual([])
    expect(shadow.stats.matches).toBe(1)
  })
})
