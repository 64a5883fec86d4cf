/**
 * Alert (and failed amend) details state amounts as decimals now; the build before wrote some as the kernel's internal
 * units ("venue cumQty 10000000, trades explain 0" for 0.1). A standby of this build re-deciding such a leader's
 * command, or `redecide` on an older log, compares the records byte for byte: the text alone would be a mismatch
 * although both decided the same. The comparison takes a leader record that differs only in a detail reading as the
 * standby's once integers are read as units as the standby's (runtime/ha/shadow-units-detail.ts); any other
 * difference, in the detail's numbers included, is still a mismatch.
 */

import { describe, expect, test } from 'bun:test'
import { decodeEvent, encodeEvent, type DomainEvent } from '../../../src/domain/events/index.ts'
import { decide, type KernelCommand } from '../../../src/kernel/index.ts'
import { encodeCommandRecord, ShadowDecider } from '../../../src/runtime/ha/index.ts'
import { unitsReadingsOf } from '../../../src/runtime/ha/shadow-units-detail.ts'
import { d, Harness } from '../../kernel/fixtures.ts'
import { unknownOrder, venueOrderOf } from '../../kernel/venue-fixtures.ts'

function frame(record: { type: number; version: number; payload: Uint8Array }, lsn: number): never {
  return { ...record, lsn, hash: new Uint8Array(32), epoch: 1 } as never
}

/** A reconcile answer that books a synthetic fill of 0.1 and alerts it; the state it is decided on. */
function syntheticFillCase(): { harness: Harness; command: KernelCommand } {
  const harness = Harness.funded()
  const orderId = unknownOrder(harness)
  const command: KernelCommand = { kind: 'reconcile_result', nowMs: harness.nowMs, orderId, venueOrder: venueOrderOf(harness, orderId, { status: 'filled', cumQty: d('0.1') }), trades: [] }
  return { harness, command }
}

/** The shadow's verdict on a leader that logged this kernel's decision with its alert's detail replaced. */
function verdict(detailOfLeader: (detail: string) => string): { matches: number; mismatches: number; ours: string } {
  const { harness, command } = syntheticFillCase()
  const events = decide(harness.state, command).events
  const alert = events[0]
  if (alert?.type !== 'alert.raised') throw new Error('expected the synthetic fill alert first')
  const leaderEvents: DomainEvent[] = [{ ...alert, detail: detailOfLeader(alert.detail) }, ...events.slice(1)]
  const shadow = new ShadowDecider()
  shadow.command(frame(encodeCommandRecord(command, leaderEvents.length), 10), harness.state)
  leaderEvents.forEach((event, index) => shadow.event(frame(encodeEvent(event), 11 + index), harness.state))
  return { matches: shadow.stats.matches, mismatches: shadow.stats.mismatches, ours: alert.detail }
}

describe('a leader detail in internal units', () => {
  test('this build writes the decimal; the build before\'s units text of the same decision matches, another number does not', () => {
    expect(verdict((detail) => detail).ours).toBe('venue cumQty 0.1, trades explain 0')
    expect(verdict((detail) => detail)).toMatchObject({ matches: 1, mismatches: 0 })
    expect(verdict(() => 'venue cumQty 10000000, trades explain 0')).toMatchObject({ matches: 1, mismatches: 0 })
    expect(verdict(() => 'venue cumQty 20000000, trades explain 0')).toMatchObject({ matches: 0, mismatches: 1 })
    expect(verdict(() => 'venue cumQty 0.2, trades explain 0')).toMatchObject({ matches: 0, mismatches: 1 })
    expect(verdict(() => 'venue quantity 10000000, trades explain 0')).toMatchObject({ matches: 0, mismatches: 1 })
  })

  test('only standalone integers are read as units, each one or not: an all-digit id stays as it is', () => {
    expect(unitsReadingsOf('fill 42 would take cumQty to 150000000 of 100000000')).toContain('fill 42 would take cumQty to 1.5 of 1')
    expect(unitsReadingsOf('fill sim-x2 of 0.5')).toEqual([])
    expect(unitsReadingsOf('pass 99999999999999999999.99999999')).toEqual([])
  })

  test('a record differing in anything besides the detail is a mismatch whatever its detail says', () => {
    const { harness, command } = syntheticFillCase()
    const events = decide(harness.state, command).events
    const alert = events[0]
    if (alert?.type !== 'alert.raised') throw new Error('expected the synthetic fill alert first')
    const leaderEvents: DomainEvent[] = [{ ...alert, detail: 'venue cumQty 10000000, trades explain 0', atMs: alert.atMs + 1 }, ...events.slice(1)]
    const shadow = new ShadowDecider()
    shadow.command(frame(encodeCommandRecord(command, leaderEvents.length), 10), harness.state)
    leaderEvents.forEach((event, index) => shadow.event(frame(encodeEvent(event), 11 + index), harness.state))
    expect(shadow.stats).toMatchObject({ matches: 0, mismatches: 1 })
    expect(decodeEvent(encodeEvent(leaderEvents[0] as DomainEvent))).toMatchObject({ type: 'alert.raised' })
  })
})
