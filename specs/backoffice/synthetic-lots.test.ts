/**
 * The synthetic lots a position keeps for its true-ups (src/backoffice/synthetic-lots.ts), folded from what the kernel
 * itself logs: a status-only reconcile books a synthetic fill (`order.fill`, `order.synthetic_pending`), real fill
 * reports cover it later (`order.fill_covered`, `order.fill_trued_up`). The lot follows the kernel's pending synthetic
 * quantity, goes when it is all trued up or its order is retired, and splits each true-up by the open fractions of the
 * range the real fill covers.
 */
import { describe, expect, test } from 'bun:test'
import { initialLedger, type LedgerState } from '../../src/backoffice/ledger-state.ts'
import { applyEvent } from '../../src/backoffice/ledger.ts'
import { positionKey, type Position } from '../../src/backoffice/positions.ts'
import { RETIRE_MARGIN_MS } from '../../src/backoffice/retention.ts'
import { FRACTION_ONE, takeSyntheticLot, type SyntheticLots } from '../../src/backoffice/synthetic-lots.ts'
import { ACCOUNT, config, d, Harness, market } from '../kernel/fixtures.ts'
import { realFillReport, statusOnlyReconcile } from '../kernel/venue-fixtures.ts'

function ledgerOf(harness: Harness): LedgerState {
  const ledger = initialLedger()
  harness.log.forEach((event, index) => applyEvent(ledger, event, index + 1))
  return ledger
}

function btc(ledger: LedgerState): Position {
  const position = ledger.positions.get(positionKey(ACCOUNT, 'sim', 'BTC-USD'))
  if (position === undefined) throw new Error('no BTC-USD position')
  return position
}

/** A limit order at 50000 placed and acknowledged now (a market price observed now: never stale). */
function opened(harness: Harness, body: Record<string, unknown>): string {
  const orderId = harness.placedId({ price: '50000', ...body }, { market: market('50000', { observedAtMs: harness.nowMs }) })
  harness.send(orderId)
  harness.placeResult(orderId, { kind: 'ok', value: { venueOrderId: `v-${orderId}` } })
  return orderId
}

/** An order filled at once by one real fill report of its whole quantity. */
function filledReal(harness: Harness, tag: string, side: 'buy' | 'sell', qty: string, price: string): void {
  const orderId = opened(harness, { client_order_id: tag, side, qty })
  realFillReport(harness, orderId, { execId: `${tag}-x`, lastQty: qty, cumQty: qty, price })
}

describe('synthetic lots, from the kernel’s own events', () => {
  test('long 0.1, a synthetic buy of 0.05 at the limit (really 49000), a sale of 0.1: the true-up leaves a third of its change in the basis', () => {
    const harness = Harness.funded()
    filledReal(harness, 'r1', 'buy', '0.1', '50000')
    const synthetic = opened(harness, { client_order_id: 's1', qty: '0.05' })
    statusOnlyReconcile(harness, synthetic, '0.05', 'filled')
    // Basis 7500 for 0.15: the synthetic 0.05 at its limit, 2500.
    expect(btc(ledgerOf(harness)).syntheticLots?.get(synthetic)).toEqual({ segments: [{ fromQty: 0n, toQty: d('0.05'), openFraction: FRACTION_ONE, price: d('50000') }], cover: null, mixedPrices: false })
    filledReal(harness, 'r2', 'sell', '0.1', '50500')
    // The sale releases 2/3 of 7500 (5000) for 5050: realized 50, basis 2500, a third of the synthetic lot still open.
    const sold = btc(ledgerOf(harness))
    expect(sold).toMatchObject({ netQty: d('0.05'), costBasis: d('2500'), realizedPnl: d('50') })
    expect(sold.syntheticLots?.get(synthetic)?.segments[0]?.openFraction).toBe(FRACTION_ONE / 3n)
    realFillReport(harness, synthetic, { execId: 'real-s1', lastQty: '0.05', cumQty: '0.05', price: '49000' })
    expect(harness.order(synthetic).syntheticPendingQty).toBe(0n)
    // Paid 2450, not 2500: 50 back, a third (16.66666667) off the basis, the rest realized. At 49000 from the start:
    // basis 7450 for 0.15, the sale releases 4966.66666667 and realizes 83.33333333, leaving 2483.33333333.
    const trued = btc(ledgerOf(harness))
    expect(trued).toMatchObject({ netQty: d('0.05'), costBasis: d('2483.33333333'), realizedPnl: d('83.33333333') })
    expect(trued.syntheticLots).toBeUndefined()
  })

  test('a real fill at the synthetic price with no fee books nothing, and still takes the lot', () => {
    const harness = Harness.funded()
    const synthetic = opened(harness, { client_order_id: 's1', qty: '0.05' })
    statusOnlyReconcile(harness, synthetic, '0.05', 'filled')
    expect(btc(ledgerOf(harness)).syntheticLots?.size).toBe(1)
    const late = realFillReport(harness, synthetic, { execId: 'real-s1', lastQty: '0.05', cumQty: '0.05', price: '50000' })
    expect(late.events.map((event) => event.type)).toContain('order.fill_trued_up')
    const ledger = ledgerOf(harness)
    expect(btc(ledger).syntheticLots).toBeUndefined()
    expect(btc(ledger)).toMatchObject({ netQty: d('0.05'), costBasis: d('2500'), realizedPnl: 0n })
  })

  test('an order retired with synthetic quantity still pending leaves no lot behind', () => {
    const harness = Harness.funded({ config: config({ params: { terminalOrdersKeptMax: 1, terminalOrderRetireAfterMs: 1_000 } }) })
    const synthetic = opened(harness, { client_order_id: 'a', qty: '0.05' })
    statusOnlyReconcile(harness, synthetic, '0.05', 'filled')
    expect(btc(ledgerOf(harness)).syntheticLots?.has(synthetic)).toBe(true)
    // Two more orders end, past the kernel's grace and the back office's margin: the synthetic one is retired.
    for (const tag of ['b', 'c']) {
      const other = harness.placedId({ client_order_id: tag }, { market: market('50000', { observedAtMs: harness.nowMs }) })
      harness.nowMs += 1
      harness.cancel(other)
      harness.nowMs += 1_000 + RETIRE_MARGIN_MS + 1
    }
    const ledger = ledgerOf(harness)
    expect(ledger.orders.has(synthetic)).toBe(false)
    expect(btc(ledger).syntheticLots).toBeUndefined()
  })
})

describe('taking a lot for a true-up', () => {
  const lots = (): SyntheticLots =>
    new Map([['o', {
      segments: [
        // (0, 0.2] closed the position when booked; (0.2, 0.6] opened it and is half open since; (0.6, 1] all open.
        { fromQty: 0n, toQty: d('0.2'), openFraction: 0n, price: d('100') },
        { fromQty: d('0.2'), toQty: d('0.6'), openFraction: FRACTION_ONE / 2n, price: d('100') },
        { fromQty: d('0.6'), toQty: d('1'), openFraction: FRACTION_ONE, price: d('100') },
      ],
      cover: null,
      mixedPrices: false,
    }]])

  test('takes the range the real fill covers, across segments, and keeps the rest on either side', () => {
    const held = lots()
    held.set('o', { ...(held.get('o') as NonNullable<ReturnType<SyntheticLots['get']>>), cover: { fromQty: d('0.1'), toQty: d('0.7') } })
    const taken = takeSyntheticLot(held, 'o', d('0.6'))
    // 0.1 closed (0), 0.4 half open, 0.1 open: 0.3 of the 0.6 taken is open.
    expect(taken).toMatchObject({ qty: d('0.6'), openWeight: d('0.3') * FRACTION_ONE, pricesMixed: false })
    expect(taken.pieces.map((piece) => piece.qty)).toEqual([d('0.1'), d('0.4'), d('0.1')])
    expect(held.get('o')).toEqual({
      segments: [{ fromQty: 0n, toQty: d('0.1'), openFraction: 0n, price: d('100') }, { fromQty: d('0.7'), toQty: d('1'), openFraction: FRACTION_ONE, price: d('100') }],
      cover: null,
      mixedPrices: false,
    })
  })

  test('with no cover noted (or one outside the lot), takes from the first segments; all of it: the lot goes', () => {
    const held = lots()
    expect(takeSyntheticLot(held, 'o', d('0.3'))).toMatchObject({ qty: d('0.3'), openWeight: d('0.05') * FRACTION_ONE })
    held.set('o', { ...(held.get('o') as NonNullable<ReturnType<SyntheticLots['get']>>), cover: { fromQty: d('5'), toQty: d('6') } })
    expect(takeSyntheticLot(held, 'o', d('0.7'))).toMatchObject({ qty: d('0.7'), openWeight: d('0.55') * FRACTION_ONE })
    expect(held.has('o')).toBe(false)
    // Quantity beyond the lot (booked before lots were kept) is not taken: the caller splits it by the older rule.
    expect(takeSyntheticLot(held, 'o', d('0.1'))).toMatchObject({ qty: 0n, openWeight: 0n, pieces: [] })
  })
})
