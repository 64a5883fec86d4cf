// An order that ended at the venue and then went Unknown (venue news contradicting how it ended) across a restart of
// serve's paper gateway. The resumed sim holds it ended as the back office's ledger says it had ended
// (src/runtime/paper-sim-memory.ts, TrackedOrder.endedAs): never resting again, and read back so, it takes that end
// again. Before, the resumed sim did not hold it at all, and reconciliation failed it (RECONCILE_NOT_FOUND) although
// the venue had canceled it. Its trades before the end would stay in the resumed history
// (specs/runtime/paper-sim-memory.test.ts), but serve's sim fills every match whole (it never sets
// partialFillProbability), so an order it ended canceled or expired never has fills: the case this spec can drive is
// the fill-less one. After the restart the order is neither resent (a second venue order for one the trader canceled)
// nor a back-office break.
import { afterEach, describe, expect, test } from 'bun:test'
import { backOfficeOf } from '../../src/backoffice/index.ts'
import type { ExecutionReport } from '../../src/venues/adapter.ts'
import { PaperRestarts, RESTING, TRADER, place, until } from './paper-restart-harness.ts'

const harness = new PaperRestarts()
afterEach(() => harness.cleanup())

const KERNEL = { reconcileGraceMs: 200 }

describe('the paper sim resume and an ended order that went Unknown', () => {
  test('canceled, then an expiry report contradicts the cancel: after the restart it is Canceled again, not resent, and no break is raised', async () => {
    const dataDir = harness.newDataDir()
    const first = await harness.start(dataDir, KERNEL)
    const orderId = await place(first, RESTING, 'rest-1')
    const orders = first.gateway.engine.state.orders
    await until(() => orders.get(orderId)?.status === 'AckedOpen')
    await first.gateway.cancel(TRADER, orderId)
    await until(() => orders.get(orderId)?.status === 'Canceled')
    const canceled = structuredClone(orders.get(orderId)!)
    expect(canceled.reservation.remaining).toBe(0n)
    const expired: ExecutionReport = {
      venue: 'sim', execId: 'spec-contradiction', kind: 'expired', clientOrderId: canceled.venueClientOrderId, venueOrderId: canceled.venueOrderId!,
      account: canceled.accountId, symbol: canceled.symbol, side: canceled.side, cumQty: 0n, venueTimeMs: Date.now(),
    }
    // Every request from now on is lost, so reconciliation cannot read the order back before the stop.
    first.venue.setFaults({ dropRequestProbability: 1 })
    await first.gateway.reportIntake.submit(expired)
    await until(() => orders.get(orderId)?.status === 'Unknown')
    await Bun.sleep(100)
    // Brought back by venue news, it may be live at the venue again: it holds its worst case until it is read back.
    expect(orders.get(orderId)).toMatchObject({ status: 'Unknown', reservation: { remaining: canceled.reservation.total } })
    await harness.stop(first)

    const second = await harness.start(dataDir, KERNEL)
    const state = second.gateway.engine.state
    // Held ended as it had ended, with its ids and as created when the venue took it (not back on the book).
    const resumed = second.venue.inspect().orders.filter((held) => held.venueOrderId === canceled.venueOrderId)
    expect(resumed).toHaveLength(1)
    expect(resumed[0]).toMatchObject({ status: 'canceled', clientOrderIds: canceled.clientIdChain, cumQty: 0n, qty: canceled.qty })
    await until(() => state.orders.get(orderId)?.status !== 'Unknown')
    await Bun.sleep(400)
    // Read back canceled from the resumed venue: Canceled again, never sent again.
    const order = state.orders.get(orderId)!
    expect(order).toMatchObject({ status: 'Canceled', lastReason: 'RECONCILE_CONVERGED', sendAttempts: canceled.sendAttempts, cumQty: 0n, notAtVenue: false, reservation: { remaining: 0n } })
    expect(second.venue.inspect().orders.filter((held) => held.clientOrderIds.some((id) => canceled.clientIdChain.includes(id))).map((held) => held.venueOrderId)).toEqual([canceled.venueOrderId!])
    const office = backOfficeOf(second.gateway)
    expect((await office.reconcile()).skipped).toEqual([])
    expect(office.openBreaks).toEqual([])
  }, 20_000)
})
