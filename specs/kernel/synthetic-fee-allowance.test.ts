/**
 * A synthetic fill (a status-only read-back books the order's missing quantity at its limit with no fee,
 * reconcile.ts) ends a buy before the real fill's fee is booked by its true-up (order.fill_trued_up). Released with
 * the fill, the fee allowance could be reserved by another order, and the true-up then took the account's available
 * USD below zero (s57 money review). The share of the reservation beyond the synthetic cash stays held until the
 * true-ups take the synthetic quantity (src/kernel/reservations.ts syntheticHeldFor), in the kernel and in the back
 * office's copy of the rules (src/backoffice/orders.ts), which must agree at every step (ledger_vs_kernel). A sell
 * filled synthetically credits its proceeds at once and holds its base asset only: the fee allowance on its proceeds
 * is held in its quote asset (Order.syntheticFeeHeld, src/backoffice/synthetic-fee-hold.ts) until the true-ups.
 */

import { expect, test } from 'bun:test'
import { balanceRowsOf } from '../../src/backoffice/balances.ts'
import { ledgerVsKernel } from '../../src/backoffice/internal-checks.ts'
import { initialLedger } from '../../src/backoffice/ledger-state.ts'
import { foldOn } from '../backoffice/kernel-log-fold.ts'
import { ACCOUNT, config, d, Harness, market } from './fixtures.ts'
import { filledSynthetically, realFillReport } from './venue-fixtures.ts'

/** 50 050 USD, a buy of 1 BTC at 50 000 holding all of it (10 bps allowance), filled synthetically. */
function syntheticallyFilledBuy(params: Parameters<typeof config>[0] = {}): { h: Harness; id: string } {
  const h = new Harness()
  h.run({ kind: 'configure', nowMs: h.nowMs, config: config(params) })
  h.run({ kind: 'fund', nowMs: h.nowMs, principalId: 'config', accountId: ACCOUNT, asset: 'USD', amount: d('50050'), reference: 'config' })
  const id = h.openOrder({ qty: '1', price: '50000' })
  expect(h.reserved('USD')).toBe(d('50050')) // 50 000 + 10 bps
  filledSynthetically(h, id)
  expect(h.order(id).status).toBe('Filled')
  return { h, id }
}

const available = (h: Harness) => h.balance('USD') - h.reserved('USD')

test('the fee allowance of synthetic quantity stays held until its true-up pays the fee', () => {
  const { h, id } = syntheticallyFilledBuy()
  expect(h.reserved('USD')).toBe(d('50')) // the allowance, held by the Filled order
  expect(available(h)).toBe(0n)
  const second = h.place({ qty: '0.001', price: '49950', client_order_id: 'c2' }) // 49.99995: refused, nothing free
  expect(second.events.some((event) => event.type === 'order.accepted')).toBe(false)
  realFillReport(h, id, { execId: 'real-1', lastQty: '1', cumQty: '1', price: '50000', fee: '50' }) // the venue's 10 bps
  expect(h.reserved('USD')).toBe(0n)
  expect(available(h)).toBe(0n)
})

test('partial true-ups release the allowance share by share, and a fee below it frees the rest', () => {
  const { h, id } = syntheticallyFilledBuy()
  const ledger = foldOn(initialLedger(), h, 1)
  expect(ledgerVsKernel(balanceRowsOf(ledger), h.state)).toEqual([])
  // 0.4 BTC at 49 990 with 19.996 fee: the rest, 0.6 pending, keeps its share (30 030 less its 30 000 synthetic cash).
  realFillReport(h, id, { execId: 'real-1', lastQty: '0.4', cumQty: '0.4', price: '49990', fee: '19.996' })
  expect(h.order(id).syntheticPendingQty).toBe(d('0.6'))
  expect(h.reserved('USD')).toBe(d('30'))
  expect(available(h)).toBe(d('4.004')) // 0.4 × 10 under the limit, and the fee 0.004 under its 20 allowance
  let lsn = ledger.lastLsn
  expect(ledgerVsKernel(balanceRowsOf(foldOn(ledger, h, lsn + 1)), h.state)).toEqual([])
  // 0.6 BTC at 50 000 with a fee of 1: nothing pending, nothing held, all that was not spent is free.
  realFillReport(h, id, { execId: 'real-2', lastQty: '0.6', cumQty: '1', price: '50000', fee: '1' })
  expect(h.order(id).syntheticPendingQty).toBe(0n)
  expect(h.reserved('USD')).toBe(0n)
  expect(available(h)).toBe(d('50050') - d('19996') - d('19.996') - d('30000') - d('1'))
  lsn = ledger.lastLsn
  expect(ledgerVsKernel(balanceRowsOf(foldOn(ledger, h, lsn + 1)), h.state)).toEqual([])
})

test('a partly filled buy keeps its open share and the allowance of its synthetic part, in the kernel and the ledger', () => {
  const h = new Harness()
  h.run({ kind: 'configure', nowMs: h.nowMs, config: config() })
  h.run({ kind: 'fund', nowMs: h.nowMs, principalId: 'config', accountId: ACCOUNT, asset: 'USD', amount: d('50050'), reference: 'config' })
  const id = h.openOrder({ qty: '1', price: '50000' })
  const ledger = foldOn(initialLedger(), h, 1)
  // The venue says 0.25 filled, no trades listed: 12 500 booked synthetically, its 12.5 allowance kept.
  h.nowMs += 5_000
  const order = h.order(id)
  const venueOrder = { clientOrderId: order.venueClientOrderId, venueOrderId: `v-${id}`, account: order.accountId, symbol: order.symbol, side: order.side, qty: order.qty, cumQty: d('0.25'), status: 'partially_filled' as const }
  h.run({ kind: 'reconcile_result', nowMs: h.nowMs, askedAtMs: h.nowMs - 20, orderId: id, venueOrder, trades: [] })
  expect(h.order(id).status).toBe('Partial')
  expect(h.reserved('USD')).toBe(d('37537.5') + d('12.5'))
  expect(ledgerVsKernel(balanceRowsOf(foldOn(ledger, h, ledger.lastLsn + 1)), h.state)).toEqual([])
  // Canceled at the venue: the open share goes, the synthetic part's allowance stays until its true-up.
  h.report({ ...reportOf(h, id), kind: 'canceled', execId: 'x-1', cumQty: d('0.25') })
  expect(h.order(id).status).toBe('Canceled')
  expect(h.reserved('USD')).toBe(d('12.5'))
  expect(ledgerVsKernel(balanceRowsOf(foldOn(ledger, h, ledger.lastLsn + 1)), h.state)).toEqual([])
  realFillReport(h, id, { execId: 'real-1', lastQty: '0.25', cumQty: '0.25', price: '50000', fee: '12.5' })
  expect(h.reserved('USD')).toBe(0n)
  expect(available(h)).toBe(d('50050') - d('12500') - d('12.5'))
  expect(ledgerVsKernel(balanceRowsOf(foldOn(ledger, h, ledger.lastLsn + 1)), h.state)).toEqual([])
})

test('an order retired before its true-up releases what it held, in the kernel and the ledger alike', () => {
  const { h, id } = syntheticallyFilledBuy({ params: { terminalOrdersKeptMax: 1, terminalOrderRetireAfterMs: 1_000 } })
  expect(h.reserved('USD')).toBe(d('50'))
  const ledger = foldOn(initialLedger(), h, 1)
  h.run({ kind: 'fund', nowMs: h.nowMs, principalId: 'config', accountId: ACCOUNT, asset: 'USD', amount: d('100'), reference: 'config' })
  retiresReleased(h, ledger, id, '50000')
})

test('in the minute the ledger holds an order the kernel retired, its synthetic hold is no ledger_vs_kernel break', () => {
  const { h, id } = syntheticallyFilledBuy({ params: { terminalOrdersKeptMax: 1, terminalOrderRetireAfterMs: 1_000 } })
  const ledger = foldOn(initialLedger(), h, 1)
  h.run({ kind: 'fund', nowMs: h.nowMs, principalId: 'config', accountId: ACCOUNT, asset: 'USD', amount: d('100'), reference: 'config' })
  const other = h.placedId({ qty: '0.001', price: '50000', client_order_id: 'c2' })
  // Canceled 30 s on: past the kernel's grace (1 s), within the ledger's (1 s + RETIRE_MARGIN_MS).
  h.nowMs += 30_000
  h.cancel(other)
  expect(h.state.orders.has(id)).toBe(false)
  expect(h.reserved('USD')).toBe(0n)
  foldOn(ledger, h, ledger.lastLsn + 1)
  expect(ledger.orders.get(id)?.held).toBe(d('50'))
  // The back office's reconcile compares with the ledger's held orders (backoffice.ts): no break for the lag.
  expect(ledgerVsKernel(balanceRowsOf(ledger), h.state, ledger)).toEqual([])
  // An order the kernel still holds is compared as it is: its hold taken off the ledger's side is a break.
  const held = ledgerVsKernel(balanceRowsOf(ledger), { ...h.state, orders: new Map([[id, h.state.orders.get(other)!]]) }, ledger)
  expect(held.map((found) => [found.key, found.expected, found.actual])).toEqual([['ledger_vs_kernel:reserved:acct-1:USD', '50', '0']])
})

// Review rev-late1: the hold goes at retirement only, and the kernel retired an ended order only once more than
// terminalOrdersKeptMax (10,000) had ended; a gateway ending fewer kept a synthetic fill's hold whose real fills never
// came for good. Hold rule 2 retires such an order a grace after its end (specs/kernel/synthetic-hold-grace.test.ts).
test('a synthetic hold whose true-up never comes is released a grace after the end, however few orders end', () => {
  const { h } = syntheticallyFilledBuy()
  h.run({ kind: 'fund', nowMs: h.nowMs, principalId: 'config', accountId: ACCOUNT, asset: 'USD', amount: d('100'), reference: 'config' })
  for (let day = 1; day <= 30; day++) {
    h.nowMs += 86_400_000 // the grace is an hour
    h.cancel(h.placedId({ qty: '0.001', price: '50000', client_order_id: `day-${day}` }, { market: market('50000', { observedAtMs: h.nowMs }) }))
  }
  expect(h.reserved('USD')).toBe(0n)
})

/** 1 BTC and no USD, a sell of 1 BTC at 50 000 filled synthetically: 50 000 USD of proceeds, no fee booked yet. */
function syntheticallyFilledSell(params: Parameters<typeof config>[0] = {}): { h: Harness; id: string } {
  const h = new Harness()
  h.run({ kind: 'configure', nowMs: h.nowMs, config: config(params) })
  h.run({ kind: 'fund', nowMs: h.nowMs, principalId: 'config', accountId: ACCOUNT, asset: 'BTC', amount: d('1'), reference: 'config' })
  const id = h.openOrder({ side: 'sell', qty: '1', price: '50000' })
  expect(h.reserved('BTC')).toBe(d('1'))
  filledSynthetically(h, id)
  expect(h.order(id).status).toBe('Filled')
  expect(h.balance('USD')).toBe(d('50000'))
  return { h, id }
}

test('a sell filled synthetically holds the fee allowance on its proceeds in its quote until the true-up pays the fee', () => {
  const { h, id } = syntheticallyFilledSell()
  const ledger = foldOn(initialLedger(), h, 1)
  expect(h.reserved('BTC')).toBe(0n)
  expect(h.reserved('USD')).toBe(d('50')) // 10 bps of 50 000, held by the Filled sell
  expect(h.order(id).syntheticFeeHeld).toBe(d('50'))
  expect(available(h)).toBe(d('49950'))
  expect(ledgerVsKernel(balanceRowsOf(ledger), h.state)).toEqual([])
  // 0.999 at 50 000 reserves 49 999.95: more than is free once the fee is kept back.
  const buy = h.place({ qty: '0.999', price: '50000', client_order_id: 'c2' })
  expect(buy.events.some((event) => event.type === 'order.accepted')).toBe(false)
  realFillReport(h, id, { execId: 'real-1', lastQty: '1', cumQty: '1', price: '50000', fee: '50' }) // the venue's 10 bps
  expect(h.reserved('USD')).toBe(0n)
  expect(h.order(id).syntheticFeeHeld).toBe(0n)
  expect(available(h)).toBe(d('49950'))
  expect(ledgerVsKernel(balanceRowsOf(foldOn(ledger, h, ledger.lastLsn + 1)), h.state)).toEqual([])
})

test("partial true-ups of a sell release its fee allowance share by share, in the kernel and the ledger", () => {
  const { h, id } = syntheticallyFilledSell()
  const ledger = foldOn(initialLedger(), h, 1)
  // 0.4 BTC at 50 100 with 20.04 fee: the rest, 0.6 pending, keeps its share of the allowance (30).
  realFillReport(h, id, { execId: 'real-1', lastQty: '0.4', cumQty: '0.4', price: '50100', fee: '20.04' })
  expect(h.order(id).syntheticPendingQty).toBe(d('0.6'))
  expect(h.reserved('USD')).toBe(d('30'))
  expect(available(h)).toBe(d('50000') + d('40') - d('20.04') - d('30'))
  expect(ledgerVsKernel(balanceRowsOf(foldOn(ledger, h, ledger.lastLsn + 1)), h.state)).toEqual([])
  // 0.6 BTC at 50 000 with 30 fee: nothing pending, nothing held.
  realFillReport(h, id, { execId: 'real-2', lastQty: '0.6', cumQty: '1', price: '50000', fee: '30' })
  expect(h.order(id).syntheticPendingQty).toBe(0n)
  expect(h.reserved('USD')).toBe(0n)
  expect(available(h)).toBe(d('50000') + d('40') - d('20.04') - d('30'))
  expect(ledgerVsKernel(balanceRowsOf(foldOn(ledger, h, ledger.lastLsn + 1)), h.state)).toEqual([])
})

test("a sell retired before its true-up releases its fee allowance, in the kernel and the ledger alike", () => {
  const { h, id } = syntheticallyFilledSell({ params: { terminalOrdersKeptMax: 1, terminalOrderRetireAfterMs: 1_000 } })
  expect(h.reserved('USD')).toBe(d('50'))
  const ledger = foldOn(initialLedger(), h, 1)
  retiresReleased(h, ledger, id, '49950')
})

function reportOf(h: Harness, id: string) {
  const order = h.order(id)
  return { venue: order.venue, venueOrderId: `v-${id}`, clientOrderId: order.venueClientOrderId, account: order.accountId, symbol: order.symbol, side: order.side, venueTimeMs: h.nowMs }
}

test("in the minute the ledger holds a sell the kernel retired, its fee allowance is no ledger_vs_kernel break", () => {
  const { h, id } = syntheticallyFilledSell({ params: { terminalOrdersKeptMax: 1, terminalOrderRetireAfterMs: 1_000 } })
  const ledger = foldOn(initialLedger(), h, 1)
  const other = h.placedId({ qty: '0.001', price: '49950', client_order_id: 'c2' })
  // Canceled 30 s on: past the kernel's grace (1 s), within the ledger's (1 s + RETIRE_MARGIN_MS).
  h.nowMs += 30_000
  h.cancel(other)
  expect(h.state.orders.has(id)).toBe(false)
  expect(h.reserved('USD')).toBe(0n)
  foldOn(ledger, h, ledger.lastLsn + 1)
  expect(ledger.orders.get(id)?.syntheticFeeHeld).toBe(d('50'))
  expect(ledgerVsKernel(balanceRowsOf(ledger), h.state, ledger)).toEqual([])
})

/**
 * Another order placed at `price` and canceled 2 minutes on (past the kernel's grace and the ledger's margin): the
 * synthetic one (`id`) retires, and nothing stays held, in the kernel or the ledger.
 */
function retiresReleased(h: Harness, ledger: ReturnType<typeof initialLedger>, id: string, price: string): void {
  const other = h.placedId({ qty: '0.001', price, client_order_id: 'c2' })
  h.nowMs += 120_000
  h.cancel(other)
  expect(h.order(other).status).toBe('Canceled')
  expect(h.state.orders.has(id)).toBe(false)
  expect(h.reserved('USD')).toBe(0n)
  foldOn(ledger, h, ledger.lastLsn + 1)
  expect(ledger.orders.has(id)).toBe(false)
  expect(ledgerVsKernel(balanceRowsOf(ledger), h.state)).toEqual([])
}
