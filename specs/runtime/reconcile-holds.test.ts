/** The executor's reconcile holds (src/runtime/reconcile-holds.ts): which reconcile items its pick passes over, until when. */

import { describe, expect, test } from 'bun:test'
import { SimClock } from '../../src/runtime/clock.ts'
import { READ_BACK_RETRY_AFTER_MS_MAX } from '../../src/runtime/read-back.ts'
import { ReconcileHolds } from '../../src/runtime/reconcile-holds.ts'

function holdsAt(startMs: number): { clock: SimClock; holds: ReconcileHolds } {
  const clock = new SimClock({ startMs })
  return { clock, holds: new ReconcileHolds({ clock, reconcileRetryMs: 1_000 }) }
}

describe('ReconcileHolds', () => {
  test('an order with a read-back in flight is held until it is done', () => {
    const { holds } = holdsAt(0)
    holds.reconciling.add('o1')
    expect(holds.held.has('o1')).toBe(true)
    expect(holds.held.has('o2')).toBe(false)
    holds.reconciling.delete('o1')
    expect(holds.held.has('o1')).toBe(false)
  })

  test('a backoff holds the order for reconcileRetryMs, compared with the time of the pick', () => {
    const { clock, holds } = holdsAt(10_000)
    holds.backOff('o1')
    holds.pickAt(10_999)
    expect(holds.held.has('o1')).toBe(true)
    expect(holds.pickAt(11_000)).toBe(11_000)
    expect(holds.held.has('o1')).toBe(false)
    expect(holds.dueMsBefore(Number.POSITIVE_INFINITY)).toBe(11_000)
    expect(holds.dueMsBefore(10_500)).toBe(10_500)
    clock.advance(1_000)
    holds.dropExpired()
    expect(holds.dueMsBefore(Number.POSITIVE_INFINITY)).toBe(Number.POSITIVE_INFINITY)
  })

  test("a venue's longer Retry-After is honoured up to its cap, a shorter one never shortens the wait", () => {
    const { holds } = holdsAt(0)
    holds.backOff('short', 0)
    holds.backOff('long', 5_000.2)
    holds.backOff('huge', READ_BACK_RETRY_AFTER_MS_MAX * 10)
    holds.pickAt(999)
    expect(holds.held.has('short')).toBe(true)
    holds.pickAt(1_000)
    expect(holds.held.has('short')).toBe(false)
    holds.pickAt(5_000)
    expect(holds.held.has('long')).toBe(true)
    holds.pickAt(5_001)
    expect(holds.held.has('long')).toBe(false)
    holds.pickAt(READ_BACK_RETRY_AFTER_MS_MAX - 1)
    expect(holds.held.has('huge')).toBe(true)
    holds.pickAt(READ_BACK_RETRY_AFTER_MS_MAX)
    expect(holds.held.has('huge')).toBe(false)
  })
})
