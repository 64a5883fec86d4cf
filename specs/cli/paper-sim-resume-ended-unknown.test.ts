// An order that ended at the venue and then went Unknown (venue news contradicting how it ended) across a restart of
// serve's paper gateway. The resumed sim does not rest it again (src/runtime/paper-sim-memory.ts: it has ended); its
// trades before the end would stay in the resumed history (specs/runtime/paper-sim-memory.test.ts), but serve's sim
// fills every match whole (it never sets partialFillProbability), so an order it ended canceled or expired never has
// fills: the case this spec can drive is the fill-less one. After the restart the order is neither resent (a second
// venue order for one the trader canceled) nor a back-office break.
import { afterEach, describe, expect, test } from 'bun:test'
import { backOfficeOf } from '../../src/backoffice/index.ts'
import type { ExecutionReport } from '../../src/venues/adapter.ts'
import { PaperRestarts, RESTING, TRADER, place, until } from './paper-restart-harness.ts'

const harness = new PaperRestarts()
afterEach(() => harness.cleanup())

const KERNEL = { reconcileGraceMs: 200 }

describe('the paper sim resume and an ended order that went Unknown', () => {
  test('canceled, then an expiry report contradicts the cancel: after the restart it is not resent and no break is raised', async () => {
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
    expect(orders.get(orderId)).toMatchObject({ status: 'Unknown', reservation: { remaining: 0n } })
    await harness.stop(first)

    const second = await harness.start(dataDir, KERNEL)
    const state = second.gateway.engine.state
    expect(second.venue.inspect().orders.filter((held) => held.venueOrderId === canceled.venueOrderId)).toEqual([])
    await until(() => state.orders.get(orderId)?.status !== 'Unknown')
    await Bun.sleep(400)
    // Not at the resumed venue, so reconciliation settles it as not found: failed, and never sent again.
    const order = state.orders.get(orderId)!
    expect(order).toMatchObject({ status: 'Failed', lastReason: 'RECONCILE_NOT_FOUND', sendAttempts: canceled.sendAttempts, cumQty: 0n })
    expect(second.venue.inspect().orders.filter((held) => held.clientOrderIds.some((id) => canceled.clientIdChain.includes(id)))).toEqual([])
    const office = backOfficeOf(second.gateway)
    expect((await office.reconcile()).skipped).toEqual([])
    expect(office.openBreaks).toEqual([])
  }, 20_000)
})
