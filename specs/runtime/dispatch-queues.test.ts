/** The executor's per venue×symbol dispatch queues (src/runtime/dispatch-queues.ts): handed over from the head only. */

import { describe, expect, test } from 'bun:test'
import type { Dispatch } from '../../src/runtime/executor-options.ts'
import { DispatchQueues } from '../../src/runtime/dispatch-queues.ts'

function dispatchOf(orderId: string): Dispatch {
  return { item: { lane: 1, kind: 'place', orderId, venue: 'sim', symbol: 'BTC-USD' }, events: null, failed: false, held: null }
}

describe('DispatchQueues', () => {
  test('a durable dispatch waits behind an earlier one that is not, then both go in decision order', () => {
    const queues = new DispatchQueues()
    const queue = queues.queueFor('sim', 'BTC-USD')
    const first = dispatchOf('o1')
    const second = dispatchOf('o2')
    queue.push(first, second)
    const handed: string[] = []
    second.events = []
    queues.dispatchDurable(queue, (head) => handed.push(head.item.orderId))
    expect(handed).toEqual([])
    first.failed = true
    queues.dispatchDurable(queue, (head) => handed.push(head.item.orderId))
    expect(handed).toEqual(['o1', 'o2'])
    expect(queue).toEqual([])
  })

  test("an emptied queue is kept for its instrument's next dispatch; each instrument has its own", () => {
    const queues = new DispatchQueues()
    const queue = queues.queueFor('sim', 'BTC-USD')
    expect(queues.queueFor('sim', 'BTC-USD')).toBe(queue)
    queues.dispatchDurable(queue, () => {})
    expect(queues.queueFor('sim', 'BTC-USD')).toBe(queue)
    expect(queues.queueFor('sim', 'ETH-USD')).not.toBe(queue)
    expect(queues.queueFor('other', 'BTC-USD')).not.toBe(queue)
  })
})
