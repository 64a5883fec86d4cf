/**
 * Lane queues as apply keeps them (src/kernel/queues.ts): an order moves only between the queue its work was in and
 * the one its work is in now, keeps its FIFO place while its work does not change, and a queue that does not hold an
 * order where its work says fails an assertion. queueMismatches recomputes the invariant from the orders; the
 * random command sequences of determinism.test.ts check it after every step.
 */

import { describe, expect, test } from 'bun:test'
import { queueMismatches } from '../../src/kernel/queues.ts'
import { Harness } from './fixtures.ts'

describe('lane queues', () => {
  test('an order keeps its FIFO place while its work does not change, and joins the back when it changes', () => {
    const harness = Harness.funded()
    const a = harness.placedId({ client_order_id: 'a' })
    const b = harness.placedId({ client_order_id: 'b' })
    expect([...harness.state.queues[2].keys()]).toEqual([a, b])
    harness.send(a)
    expect([...harness.state.queues[2].keys()]).toEqual([b])
    harness.placeResult(a, { kind: 'retryable', reason: '429', retryAfterMs: 100 })
    // a is Enqueued again: its work went place → nothing → place, so it queues behind b.
    expect([...harness.state.queues[2].keys()]).toEqual([b, a])
    expect(queueMismatches(harness.state)).toEqual([])
  })

  test('queueMismatches names an order missing from its queue and a count that is off', () => {
    const harness = Harness.funded()
    const a = harness.placedId({ client_order_id: 'a' })
    expect(queueMismatches(harness.state)).toEqual([])
    harness.state.queues[2].delete(a)
    harness.state.queuedByAccount.set('acct-1', 5)
    expect(queueMismatches(harness.state)).toEqual([
      `order ${a} (Enqueued): lane 2 holds nothing, expected place`,
      'queuedByAccount acct-1 is 5, expected 1',
    ])
  })

  test('an order missing from the queue its work says fails an assertion on its next event', () => {
    const harness = Harness.funded()
    const a = harness.placedId({ client_order_id: 'a' })
    harness.state.queues[2].delete(a)
    expect(() => harness.send(a)).toThrow(`order ${a} is not queued for place in lane 2`)
  })
})
