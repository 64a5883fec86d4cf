// The paper sim venue resumes from egress's log (src/runtime/paper-sim-memory.ts). An order the log shows the venue
// acked and then went Unknown (a later call's answer lost: here an amend's) is still at the venue: the sim resumes it
// as the log last saw it. Before, only orders in OPEN_AT_VENUE were resumed, so after a restart reconciliation found
// the acked order "not at venue", failed it and bootstrap resent it as a new venue order: two venue orders for one.
//
// An order whose place never got an answer and whose ack the log never took is the other kind of Unknown: the log
// does not know the venue took it, and the venue died with the gateway, so the resumed sim does not hold it and
// bootstrap's resend (it is young) places it once at the resumed venue.
import { afterEach, describe, expect, test } from 'bun:test'
import { backOfficeOf } from '../../src/backoffice/index.ts'
import { parseDecimal } from '../../src/domain/decimal.ts'
import { currentClientOrderId } from '../../src/domain/orders.ts'
import { PaperRestarts, RESTING, TRADER, place, until } from './paper-restart-harness.ts'

const harness = new PaperRestarts()
afterEach(() => harness.cleanup())

// The grace before "not found" proves absence: short, so a wrong conclusion after the restart shows quickly.
const KERNEL = { reconcileGraceMs: 200 }

describe('the paper sim resume and Unknown orders', () => {
  test('an acked order Unknown at the stop (its amend unanswered) is resumed as the log last saw it: not failed, not resent', async () => {
    const dataDir = harness.newDataDir()
    const first = await harness.start(dataDir, KERNEL)
    const orderId = await place(first, RESTING, 'rest-1')
    const orders = first.gateway.engine.state.orders
    await until(() => orders.get(orderId)?.status === 'AckedOpen')
    const acked = structuredClone(orders.get(orderId)!)
    // Every request from now on is lost: the amend times out (the order goes Unknown) and so does every read-back.
    first.venue.setFaults({ dropRequestProbability: 1 })
    const amended = await first.gateway.amend(TRADER, orderId, { qty: null, price: parseDecimal('59100') })
    expect(amended.reply.kind).not.toBe('refused')
    await until(() => orders.get(orderId)?.status === 'Unknown')
    expect(orders.get(orderId)?.venueOrderId).toBe(acked.venueOrderId)
    await harness.stop(first)

    const second = await harness.start(dataDir, KERNEL)
    const state = second.gateway.engine.state
    // Bootstrap read the order back from the resumed sim: still there at its old price (the amend never arrived).
    await until(() => state.orders.get(orderId)?.status !== 'Unknown')
    await Bun.sleep(400)
    const order = state.orders.get(orderId)!
    expect(order).toMatchObject({ status: 'AckedOpen', venueOrderId: acked.venueOrderId, price: acked.price, sendAttempts: acked.sendAttempts, notAtVenue: false })
    const atVenue = second.venue.inspect().orders.filter((held) => held.clientOrderIds.includes(acked.venueClientOrderId))
    expect(atVenue).toHaveLength(1)
    expect(atVenue[0]).toMatchObject({ venueOrderId: acked.venueOrderId, status: 'open', price: acked.price!, qty: acked.qty })

    // The two agree from here on: a cancel ends the order at the venue, and the back office finds no break.
    await second.gateway.cancel(TRADER, orderId)
    await until(() => state.orders.get(orderId)?.status === 'Canceled')
    expect(second.venue.inspect().orders.find((held) => held.venueOrderId === acked.venueOrderId)?.status).toBe('canceled')
    const office = backOfficeOf(second.gateway)
    expect((await office.reconcile()).skipped).toEqual([])
    expect(office.openBreaks).toEqual([])
  }, 20_000)

  test('an order whose place was unanswered at the stop is not in the resumed sim: resent once, at the resumed venue', async () => {
    const dataDir = harness.newDataDir()
    const first = await harness.start(dataDir, KERNEL)
    first.venue.setFaults({ dropRequestProbability: 1 })
    const orderId = await place(first, RESTING, 'rest-1')
    await until(() => first.gateway.engine.state.orders.get(orderId)?.status === 'Sent')
    await harness.stop(first)

    const second = await harness.start(dataDir, KERNEL)
    const state = second.gateway.engine.state
    await until(() => state.orders.get(orderId)?.status === 'AckedOpen')
    const order = state.orders.get(orderId)!
    const atVenue = second.venue.inspect().orders.filter((held) => held.clientOrderIds.includes(currentClientOrderId(order)))
    expect(atVenue).toHaveLength(1)
    expect(atVenue[0]).toMatchObject({ venueOrderId: order.venueOrderId!, status: 'open' })
    const office = backOfficeOf(second.gateway)
    expect((await office.reconcile()).skipped).toEqual([])
    expect(office.openBreaks).toEqual([])
  }, 20_000)
})
