// The paper sim venue resumes its trade history from egress's log (src/runtime/paper-sim-memory.ts). A trade that a
// synthetic fill still stands for at the stop (reconciliation read the order filled while its trades were not listed,
// and the real report never came) is in the log only as that synthetic fill. Before, the resumed sim did not hold it,
// and the back office's trades check found the order's filled quantity short at the sim after the restart
// ("filled quantity of …: ledger vs sim trades"). The resumed sim now holds it as a trade it never reported, at the
// synthetic fill's figures, under an id of its own session.
import { afterEach, describe, expect, test } from 'bun:test'
import { backOfficeOf } from '../../src/backoffice/index.ts'
import { CROSSING, PaperRestarts, place, until } from './paper-restart-harness.ts'

const harness = new PaperRestarts()
afterEach(() => harness.cleanup())

const CROSSING_QTY = 1_000_000n

describe('the paper sim resume and synthetic fills still pending', () => {
  test('a trade a synthetic fill stands for at the stop is in the resumed sim’s history; the back office finds no break', async () => {
    const dataDir = harness.newDataDir()
    const first = await harness.start(dataDir)
    const orders = first.gateway.engine.state.orders
    // Reports are lost and the trade list reads empty: the open-order sweep reads the order back filled with no trade
    // to explain it, and books the difference as a synthetic fill. The stop comes before any true-up.
    first.venue.setFaults({ dropReportProbability: 1 })
    first.venue.trades = () => Promise.resolve({ kind: 'ok', value: [] })
    const orderId = await place(first, CROSSING, 'cross-1')
    await until(() => orders.get(orderId)?.status === 'Filled', 15_000)
    const filled = structuredClone(orders.get(orderId)!)
    expect(filled.syntheticPendingQty).toBe(CROSSING_QTY)
    await harness.stop(first)

    const second = await harness.start(dataDir)
    const resumed = second.venue.inspect().trades.filter((trade) => trade.venueOrderId === filled.venueOrderId)
    // As the books hold it: the whole quantity at the synthetic fill's price (the limit) and fee (none), under an
    // execution id the resumed venue issued.
    expect(resumed).toHaveLength(1)
    expect(resumed[0]).toMatchObject({ clientOrderId: filled.venueClientOrderId, qty: CROSSING_QTY, price: filled.price!, fee: 0n, side: 'buy' })
    expect(resumed[0]!.execId).toMatch(/^sim-[0-9a-z]+-x1$/)
    const office = backOfficeOf(second.gateway)
    expect((await office.reconcile()).skipped).toEqual([])
    expect(office.openBreaks).toEqual([])
    // The next id the resumed venue issues is a new one.
    const next = await place(second, CROSSING, 'cross-2')
    await until(() => second.gateway.engine.state.orders.get(next)?.status === 'Filled')
    const nextTrades = second.venue.inspect().trades.filter((trade) => trade.venueOrderId === second.gateway.engine.state.orders.get(next)!.venueOrderId)
    expect(nextTrades.map((trade) => trade.execId)).not.toContain(resumed[0]!.execId)
  }, 30_000)
})
