/**
 * The work index (src/kernel/work-index.ts) lives beside one state object, in a WeakMap. These specs pin what that
 * buys for copies of a state: a clone (cloneState, what apply() and the snapshotter work on) and a state decoded from
 * a snapshot's bytes each get an index of their own, built from their own queues, and never share one with the
 * state they came from. An index carried along with the state's fields (cloneState spreads them) would make work
 * done on a copy move the original's entries: an order never sent, or sent twice.
 */

import { describe, expect, test } from 'bun:test'
import { cloneState, nextDueMs, nextWork, type KernelState, type WorkItem } from '../../src/kernel/index.ts'
import { kernelStateBytes, kernelStateFromBytes } from '../../src/runtime/snapshot/state-codec.ts'
import { config, Harness, market } from './fixtures.ts'
import { referenceNextWork } from './reference-next-work.ts'

/** The index's answer, checked against the walk on the same state. */
function pick(harness: Harness, nowMs = harness.nowMs): WorkItem | null {
  const options = { nowMs }
  const actual = nextWork(harness.state, options)
  expect(actual).toEqual(referenceNextWork(harness.state, options))
  return actual
}

function copyOf(harness: Harness, state: KernelState): Harness {
  const copy = new Harness()
  copy.state = state
  copy.nowMs = harness.nowMs
  return copy
}

/** One slot per instrument; BTC orders a and b, ETH order c, all queued in Lane2, with the original's index built. */
function backlog(): { harness: Harness; a: string; b: string; c: string } {
  const harness = Harness.funded({ config: config({ params: { callsPerInstrumentMax: 1 } }) })
  const a = harness.placedId({ client_order_id: 'a', qty: '0.01' })
  const b = harness.placedId({ client_order_id: 'b', qty: '0.01' })
  const c = harness.placedId({ client_order_id: 'c', symbol: 'ETH-USD', price: '3000', qty: '0.01' }, { market: market('3000') })
  expect(pick(harness)).toMatchObject({ orderId: a })
  return { harness, a, b, c }
}

describe('copies of a state get work indexes of their own', () => {
  test('work done on a clone is not seen by the original, and the original work is not seen by the clone', () => {
    const { harness, a, b, c } = backlog()
    const clone = copyOf(harness, cloneState(harness.state))
    clone.send(a)
    expect(pick(clone)).toMatchObject({ orderId: c })
    expect(pick(harness)).toMatchObject({ orderId: a })
    harness.send(a)
    harness.placeResult(a, { kind: 'ok', value: { venueOrderId: 'v-a' } })
    expect(pick(harness)).toMatchObject({ orderId: b })
    // The clone's BTC slot is still taken by its own call for a.
    clone.send(c)
    expect(pick(clone)).toBeNull()
  })

  test('a state decoded from snapshot bytes picks as the original, FIFO and backoffs included', () => {
    const { harness, a, b, c } = backlog()
    harness.send(a)
    harness.placeResult(a, { kind: 'retryable', reason: 'throttled', retryAfterMs: 500 })
    const retryAtMs = harness.order(a).notBeforeMs
    expect(retryAtMs).toBeGreaterThan(harness.nowMs)
    // The original's index has seen the retry before the snapshot is taken; the restored state's is built after it.
    expect(pick(harness)).toMatchObject({ orderId: b })
    const restored = copyOf(harness, kernelStateFromBytes(kernelStateBytes(harness.state)))
    for (const side of [harness, restored]) {
      expect(pick(side)).toMatchObject({ orderId: b })
      side.send(b)
      expect(pick(side)).toMatchObject({ orderId: c })
      side.send(c)
      expect(pick(side)).toBeNull()
      // a (retried, so behind b in Lane2) is looked at once b's answer frees the BTC slot; then the timer is due.
      side.placeResult(b, { kind: 'ok', value: { venueOrderId: 'v-b' } })
      expect(pick(side)).toBeNull()
      expect(nextDueMs(side.state)).toBe(retryAtMs)
      expect(pick(side, retryAtMs)).toMatchObject({ orderId: a })
    }
  })
})
