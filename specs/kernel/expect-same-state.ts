/**
 * What the "recorded once" specs (venue-end-once, venue-reject-once) check of a log a build before their fix wrote,
 * holding a record the kernel no longer writes: it still replays, to the same state.
 */

import { expect } from 'bun:test'
import type { DomainEvent } from '../../src/domain/events/index.ts'
import { applyInPlace } from '../../src/kernel/apply.ts'
import { canonicalState } from '../../src/kernel/canonical-state.ts'
import { Harness } from './fixtures.ts'

/**
 * Replays `harness`'s log with `extra` (about `orderId`) appended, as a build before the fix wrote it; expects the
 * same state: the order, the USD reserved, and all else but the count of records.
 */
export function expectSameStateWith(harness: Harness, orderId: string, extra: DomainEvent): void {
  const replayed = new Harness()
  for (const event of [...harness.log, extra]) applyInPlace(replayed.state, event, { lsn: replayed.state.lastLsn + 1 })
  expect(replayed.order(orderId)).toEqual(harness.order(orderId))
  expect(replayed.reserved('USD')).toBe(harness.reserved('USD'))
  // Only the count of records moves; every other part of the state is the same.
  replayed.state.lastLsn = harness.state.lastLsn
  replayed.state.counters.eventsApplied = harness.state.counters.eventsApplied
  expect(canonicalState(replayed.state)).toEqual(canonicalState(harness.state))
}
