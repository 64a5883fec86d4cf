/**
 * A repeat of an amend off the tick or lot is a repeat, answered like the first attempt. The first is rounded before it
 * is recorded (qty down to the lot, a buy's price down to the tick), and before the fix the pending-amend check
 * compared the repeat's unrounded values with the recorded rounded ones: they differed, so the client's retry of an
 * accepted amend was refused AMEND_PENDING, as if it were a different amend.
 */

import { describe, expect, test } from 'bun:test'
import { Harness } from './fixtures.ts'

describe('repeating an amend that was rounded', () => {
  test('a repeat of an off-lot amend is a duplicate of the accepted one and writes nothing', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder()
    expect(harness.amend(orderId, { qty: '0.20005' }).reply).toEqual({ kind: 'amend_accepted', orderId, amendId: 1, duplicate: false })
    expect(harness.amend(orderId, { qty: '0.20005' })).toEqual({ events: [], reply: { kind: 'amend_accepted', orderId, amendId: 1, duplicate: true } })
  })

  test('a repeat of an off-tick amend is a duplicate too', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder()
    const change = { qty: '0.2', price: '49000.005' }
    expect(harness.amend(orderId, change).reply).toMatchObject({ kind: 'amend_accepted', amendId: 1, duplicate: false })
    expect(harness.amend(orderId, change).reply).toEqual({ kind: 'amend_accepted', orderId, amendId: 1, duplicate: true })
  })

  test('an amend that rounds to different values than the pending one is still AMEND_PENDING', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder()
    harness.amend(orderId, { qty: '0.20005' })
    expect(harness.amend(orderId, { qty: '0.2001' }).reply).toMatchObject({ kind: 'refused', reason: 'AMEND_PENDING' })
  })
})
