/**
 * The executor's memory of send decisions that threw (src/runtime/send-throws.ts): bounded, each order held only while
 * unchanged, and forgotten once it ended.
 */

import { expect, test } from 'bun:test'
import type { Order } from '../../src/domain/orders.ts'
import type { KernelState, WorkItem } from '../../src/kernel/index.ts'
import { SimClock } from '../../src/runtime/clock.ts'
import { SEND_THROW_RETRY_MS, SEND_THROWS_HELD_MAX, SendThrows } from '../../src/runtime/send-throws.ts'

function setUp() {
  const clock = new SimClock({ startMs: 1_000_000 })
  const orders = new Map<string, Order>()
  const reported: string[] = []
  const throws = new SendThrows({ engine: { state: { orders } as unknown as KernelState }, clock, report: (_error, context) => void reported.push(context) })
  const item = (orderId: string): WorkItem => {
    if (!orders.has(orderId)) orders.set(orderId, { orderId, status: 'Enqueued', updatedAtMs: 0 } as Order)
    return { lane: 2, kind: 'place', orderId, venue: 'sim', symbol: 'BTC-USD' }
  }
  const heldNow = (orderId: string): boolean => throws.heldUntilMs(orderId) > clock.nowMs()
  return { clock, orders, reported, throws, item, heldNow }
}

test(`at most SEND_THROWS_HELD_MAX orders are remembered: past it the longest held is forgotten, its next throw a first again`, () => {
  const { throws, item, reported, heldNow } = setUp()
  for (let index = 0; index <= SEND_THROWS_HELD_MAX; index++) throws.thrown(item(`o-${index}`), new Error('boom'))
  expect(throws.size).toBe(SEND_THROWS_HELD_MAX)
  expect(reported).toHaveLength(SEND_THROWS_HELD_MAX + 1)
  // Forgotten is not dropped: it is picked (nothing holds it) and its next throw is reported in full.
  expect(heldNow('o-0')).toBe(false)
  expect(heldNow('o-1')).toBe(true)
  throws.thrown(item('o-0'), new Error('boom'))
  expect(reported.at(-1)).toBe('send decision for o-0')
  expect(throws.size).toBe(SEND_THROWS_HELD_MAX)
})

test('held until its wait ends, or at once when the order changed; forgotten when its decision no longer throws or it ended', () => {
  const { clock, orders, throws, item, heldNow } = setUp()
  throws.thrown(item('a'), new Error('boom'))
  expect(heldNow('a')).toBe(true)
  clock.advance(SEND_THROW_RETRY_MS)
  expect(heldNow('a')).toBe(false)
  throws.thrown(item('a'), new Error('boom'))
  expect(throws.heldUntilMs('a')).toBe(clock.nowMs() + 2 * SEND_THROW_RETRY_MS)
  expect(throws.waitEndMs('a')).toBe(clock.nowMs() + 2 * SEND_THROW_RETRY_MS)
  // A record of the order (a cancel asked for) ends the wait.
  ;(orders.get('a') as Order).updatedAtMs = 5
  expect(heldNow('a')).toBe(false)
  expect(throws.heldUntilMs('a')).toBe(0)
  throws.decided('a')
  expect(throws.size).toBe(0)
  throws.thrown(item('b'), new Error('boom'))
  ;(orders.get('b') as Order).status = 'Canceled'
  throws.forgetEnded(clock.nowMs())
  expect(throws.size).toBe(0)
  expect(throws.waitEndMs('b')).toBe(Number.POSITIVE_INFINITY)
})

test('ended orders are forgotten by a sweep at most every SEND_THROW_RETRY_MS, at once after the clock stepped back', () => {
  const { clock, orders, throws, item } = setUp()
  throws.forgetEnded(clock.nowMs())
  throws.thrown(item('a'), new Error('boom'))
  throws.thrown(item('b'), new Error('boom'))
  throws.forgetEnded(clock.nowMs())
  ;(orders.get('a') as Order).status = 'Canceled'
  clock.advance(SEND_THROW_RETRY_MS - 1)
  throws.forgetEnded(clock.nowMs())
  expect(throws.size).toBe(2)
  clock.advance(1)
  throws.forgetEnded(clock.nowMs())
  expect(throws.size).toBe(1)
  orders.delete('b')
  throws.forgetEnded(clock.nowMs() - 1)
  expect(throws.size).toBe(0)
})
