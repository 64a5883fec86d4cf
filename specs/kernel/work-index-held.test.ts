/**
 * Items the work index sets aside as held (src/kernel/work-index.ts) are looked at again only by picks that reach
 * their lane. With a venue unreachable every Unknown order's reconcile query backs off (held in Lane3): a pick that
 * ends in Lane0 — a cancel, a flatten close — must not look at each of them (it did, once per pick: ~0.2 ms per pick
 * with 5,000 held, where the walk of the queues took ~0.3 us), and a held query is still picked once released.
 */

import { describe, expect, test } from 'bun:test'
import { nextWork } from '../../src/kernel/index.ts'
import { workIndexOf } from '../../src/kernel/work-index.ts'
import { Harness } from './fixtures.ts'

/** A reconcile-held set that counts the questions asked of it. */
class CountingHeld {
  readonly ids = new Set<string>()
  questions = 0

  has(orderId: string): boolean {
    this.questions++
    return this.ids.has(orderId)
  }
}

describe('held items are looked at again only when their lane is', () => {
  test('with every reconcile query held, a Lane0 cancel is picked without asking about any of them, and a released query is picked after it', () => {
    const harness = Harness.funded()
    const held = new CountingHeld()
    for (let index = 0; index < 40; index++) {
      const orderId = harness.placedId({ client_order_id: `u${index}`, qty: '0.001' })
      harness.send(orderId)
      harness.placeResult(orderId, { kind: 'unknown', reason: 'timeout' })
      held.ids.add(orderId)
    }
    expect(harness.state.queues[3].size).toBe(40)
    // Late enough for every reconcile query to be due: each one is held by the executor (backing off), none picked.
    const options = { nowMs: harness.nowMs + 3_600_000, reconcileHeld: held }
    expect(nextWork(harness.state, options)).toBeNull()
    expect(workIndexOf(harness.state).sizes().held).toBe(40)

    const open = harness.openOrder({ client_order_id: 'open', qty: '0.001' })
    harness.cancel(open)
    held.questions = 0
    expect(nextWork(harness.state, options)).toMatchObject({ lane: 0, kind: 'cancel', orderId: open })
    expect(held.questions).toBe(0)

    harness.nowMs = options.nowMs
    harness.send(open, 'cancel')
    const [released] = held.ids
    held.ids.delete(released as string)
    expect(nextWork(harness.state, options)).toMatchObject({ lane: 3, kind: 'reconcile', orderId: released })
  })
})
