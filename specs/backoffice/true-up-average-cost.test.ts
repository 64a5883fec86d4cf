/**
 * A true-up in a position that holds other fills (src/backoffice/synthetic-lots.ts). Positions use average cost: each
 * reduction releases a pro-rata share of the whole cost basis, the synthetic fill's cash included. So after the
 * true-up the basis and realized PnL must be what they would be had the real fill's cash been booked in the synthetic
 * fill's place from the start. Each expected figure below is worked out by hand, for both ways of booking.
 */
import { describe, expect, test } from 'bun:test'
import { applyEvent, initialLedger } from '../../src/backoffice/index.ts'
import { parseDecimal as d } from '../../src/domain/decimal.ts'
import { btcPosition, ledgerOf, SyntheticScript } from './synthetic-script.ts'
import { VenueOrder } from './venue-order-script.ts'

/** The figures a test compares: net quantity, cost basis, realized PnL. */
function figures(script: SyntheticScript, which: 'events' | 'reference') {
  const { netQty, costBasis, realizedPnl } = btcPosition(ledgerOf(script[which]))
  return { netQty, costBasis, realizedPnl }
}

describe('a true-up under average cost', () => {
  test('long 1, synthetic buy 0.5, sell 1, true-up: a third of the change stays in the basis, two thirds are realized', () => {
    const script = new SyntheticScript()
    script.real('buy', '1', '100')
    // Booked at 110 (55 paid); the real fill was at 100 (50 paid): the true-up gives the account 5 back.
    const lot = script.synthetic('buy', '0.5', '110', [{ qty: '0.5', price: '100' }])
    // Basis 155 for 1.5; selling 1 at 120 releases 2/3 of it (103.33333333), 2/3 of the synthetic cash with it.
    script.real('sell', '1', '120')
    const before = btcPosition(ledgerOf(script.events))
    expect(before).toMatchObject({ netQty: d('0.5'), costBasis: d('51.66666667'), realizedPnl: d('16.66666667') })
    script.arrive(lot)
    // Booked at 100 from the start: basis 150, selling 1 releases 100, realizes 20, leaves 50.
    expect(figures(script, 'reference')).toEqual({ netQty: d('0.5'), costBasis: d('50'), realizedPnl: d('20') })
    // One third of the 5 (1.66666667) leaves the basis, two thirds (3.33333333) are realized.
    expect(figures(script, 'events')).toEqual({ netQty: d('0.5'), costBasis: d('50'), realizedPnl: d('20') })
  })

  test("the session note's case: buy 1 at 100, synthetic buy 1 at 110 (really 100), sell 1 at 120: realized 20, basis 100", () => {
    const script = new SyntheticScript()
    script.real('buy', '1', '100')
    const lot = script.synthetic('buy', '1', '110', [{ qty: '1', price: '100' }])
    script.real('sell', '1', '120')
    script.arrive(lot)
    expect(figures(script, 'events')).toEqual({ netQty: d('1'), costBasis: d('100'), realizedPnl: d('20') })
    expect(figures(script, 'reference')).toEqual(figures(script, 'events'))
  })

  test('a short: short 1 at 100, synthetic sell 0.5 at 90 (really 95), buy 0.75 at 80: half of the change stays in the basis', () => {
    const script = new SyntheticScript()
    script.real('sell', '1', '100')
    // Received 45 for the synthetic sell; the real one received 47.5: the true-up gives the account 2.5 more.
    const lot = script.synthetic('sell', '0.5', '90', [{ qty: '0.5', price: '95' }])
    // Basis −145 for −1.5; buying 0.75 at 80 (paying 60) releases half (−72.5): realized 12.5, basis −72.5.
    script.real('buy', '0.75', '80')
    expect(btcPosition(ledgerOf(script.events))).toMatchObject({ netQty: d('-0.75'), costBasis: d('-72.5'), realizedPnl: d('12.5') })
    script.arrive(lot)
    // At 95 from the start: basis −147.5, buying 0.75 releases −73.75 and realizes 13.75.
    expect(figures(script, 'reference')).toEqual({ netQty: d('-0.75'), costBasis: d('-73.75'), realizedPnl: d('13.75') })
    expect(figures(script, 'events')).toEqual({ netQty: d('-0.75'), costBasis: d('-73.75'), realizedPnl: d('13.75') })
  })

  test('a flip through zero and back to the same side: the synthetic quantity closed at the flip, so all of the change is realized', () => {
    const script = new SyntheticScript()
    script.real('buy', '1', '100')
    const lot = script.synthetic('buy', '0.5', '110', [{ qty: '0.5', price: '100' }])
    // Sell 2 at 120: closes the 1.5 (basis 155, receives 180: realized 25) and opens short 0.5 at 60.
    script.real('sell', '2', '120')
    // Buy 1 at 130: closes the short 0.5 (pays 65 against 60: realized −5) and opens long 0.5 at 65.
    script.real('buy', '1', '130')
    expect(btcPosition(ledgerOf(script.events))).toMatchObject({ netQty: d('0.5'), costBasis: d('65'), realizedPnl: d('20') })
    script.arrive(lot)
    // The long 0.5 now open was bought at 130, none of it synthetic: its basis stays 65, the 5 is realized.
    expect(figures(script, 'reference')).toEqual({ netQty: d('0.5'), costBasis: d('65'), realizedPnl: d('25') })
    expect(figures(script, 'events')).toEqual({ netQty: d('0.5'), costBasis: d('65'), realizedPnl: d('25') })
  })

  test('a true-up in two pieces: each real fill takes its share of the synthetic cash, at the same open fraction', () => {
    const script = new SyntheticScript()
    script.real('buy', '1', '100')
    // Booked 0.5 at 110 (55); really 0.2 at 100 (20) and 0.3 at 104 (31.2).
    const lot = script.synthetic('buy', '0.5', '110', [{ qty: '0.2', price: '100' }, { qty: '0.3', price: '104' }])
    // Basis 155 for 1.5; selling 0.75 at 120 releases half: realized 90 − 77.5 = 12.5, basis 77.5.
    script.real('sell', '0.75', '120')
    script.arrive(lot)
    // The first piece: 22 of the synthetic 55 is replaced by 20, the account gets 2 back: half of it in the basis.
    const afterFirst = ledgerOf(script.events)
    expect(btcPosition(afterFirst)).toMatchObject({ costBasis: d('76.5'), realizedPnl: d('13.5') })
    // The rest of the synthetic quantity, the order's venue range (0.2, 0.5], waits for its real fill, still half open.
    const half = 500_000_000_000_000_000n
    expect(btcPosition(afterFirst).syntheticLots?.get(lot.orderId)).toEqual({ segments: [{ fromQty: d('0.2'), toQty: d('0.5'), openFraction: half, price: d('110') }], cover: null, mixedPrices: false })
    script.arrive(lot)
    // The second: the remaining 33 replaced by 31.2, 1.8 back, half of it in the basis: 75.6 and 14.4.
    const after = btcPosition(ledgerOf(script.events))
    expect({ netQty: after.netQty, costBasis: after.costBasis, realizedPnl: after.realizedPnl }).toEqual({ netQty: d('0.75'), costBasis: d('75.6'), realizedPnl: d('14.4') })
    // At the real prices from the start: basis 151.2 for 1.5, half released by the sale: 75.6, realized 90 − 75.6.
    expect(figures(script, 'reference')).toEqual({ netQty: d('0.75'), costBasis: d('75.6'), realizedPnl: d('14.4') })
    // Fully trued up: the position keeps nothing of the order.
    expect(after.syntheticLots).toBeUndefined()
  })

  test('a synthetic fill that flips the position opens only its part past zero', () => {
    const script = new SyntheticScript()
    script.real('sell', '1', '100')
    // Buy 1.5 at 90 (135 paid): closes the short 1 (pays 90 against 100: realized 10), opens 0.5 at 45.
    const lot = script.synthetic('buy', '1.5', '90', [{ qty: '1.5', price: '80' }])
    // Another long 0.5 at 100 and a sale of 0.5 at 100: the lot's third open in the basis is halved.
    script.real('buy', '0.5', '100')
    script.real('sell', '0.5', '100')
    script.arrive(lot)
    // At 80: closes the short for 80 (realized 20), opens 0.5 at 40; with 0.5 at 100 the basis is 90 for 1; selling
    // 0.5 at 100 releases 45 and realizes 5: realized 25, basis 45. Booked synthetically: realized 10 + 2.5, basis
    // 47.5 with a sixth of the lot open, so 2.5 of the 15 leaves the basis and 12.5 is realized.
    expect(figures(script, 'reference')).toEqual({ netQty: d('0.5'), costBasis: d('45'), realizedPnl: d('25') })
    expect(figures(script, 'events')).toEqual({ netQty: d('0.5'), costBasis: d('45'), realizedPnl: d('25') })
  })

  test('a synthetic fill that flips, its real fills at two prices, arriving last first: the first in venue order did the closing', () => {
    const script = new SyntheticScript()
    script.real('sell', '1', '100')
    // Booked 2 at 90 (180 paid): closes the short 1 for 90 (realized 10), opens 1 at 90. Really 1 at 80, then 1 at 95.
    const lot = script.synthetic('buy', '2', '90', [{ qty: '1', price: '80' }, { qty: '1', price: '95' }])
    // The second real fill first: it covers (1, 2], which opened the long, so its 5 more paid all goes to the basis.
    script.arrive(lot, 1)
    expect(btcPosition(ledgerOf(script.events))).toMatchObject({ netQty: d('1'), costBasis: d('95'), realizedPnl: d('10') })
    // Then the first, (0, 1], which closed the short: its 10 back is all realized.
    script.arrive(lot)
    // From the start: buying 1 at 80 closes the short (realized 20), 1 at 95 opens the long (basis 95).
    expect(figures(script, 'reference')).toEqual({ netQty: d('1'), costBasis: d('95'), realizedPnl: d('20') })
    expect(figures(script, 'events')).toEqual({ netQty: d('1'), costBasis: d('95'), realizedPnl: d('20') })
  })
  test('one order, two synthetic fills at different prices (100, a sale to flat, 200), both real fills at 150: each synthetic fill is trued up at its own price', () => {
    const script = new SyntheticScript()
    const order = new VenueOrder(script, 'buy', [{ qty: d('1'), price: d('150') }, { qty: d('1'), price: d('150') }], d('100'))
    order.execute()
    order.read(d('100'), 0n)
    // The synthetic 1 at 100 is sold at 160 (realized 60): flat, nothing of it open.
    script.real('sell', '1', '160')
    order.execute()
    order.read(d('200'), 0n)
    expect(btcPosition(ledgerOf(script.events))).toMatchObject({ netQty: d('1'), costBasis: d('200'), realizedPnl: d('60') })
    // The kernel trues up each real fill at the order's average synthetic price, 150: no cash changes hands.
    order.finish()
    expect(script.events.filter((event) => event.type === 'order.fill_trued_up').map((event) => (event as { cash: bigint; syntheticCash: bigint }).cash - (event as { syntheticCash: bigint }).syntheticCash)).toEqual([0n, 0n])
    // From the start: 1 at 150 sold at 160 (realized 10), 1 at 150 open. The 50 the first synthetic fill undercharged
    // is realized, the 50 the second overcharged leaves the basis.
    expect(figures(script, 'reference')).toEqual({ netQty: d('1'), costBasis: d('150'), realizedPnl: d('10') })
    expect(figures(script, 'events')).toEqual({ netQty: d('1'), costBasis: d('150'), realizedPnl: d('10') })
    // The second true-up books no cash yet moves 50 from the basis to the realized PnL: the position is written again.
    const ledger = initialLedger()
    const changed = script.events.flatMap((event, index) => {
      const booked = applyEvent(ledger, event, index + 1)
      return event.type === 'order.fill_trued_up' ? [booked.position !== undefined] : []
    })
    expect(changed).toEqual([false, true])
  })
})
