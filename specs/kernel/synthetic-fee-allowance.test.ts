/**
 * KNOWN DEFECT (s57 money review; section 5 of its note): a synthetic fill (a status-only read-back books the order's
 * missing quantity at its limit with no fee, reconcile.ts) ends a buy and releases all it held, its fee allowance
 * included, before the real fill's fee is booked by its true-up (order.fill_trued_up). The allowance freed can be
 * reserved by another order; the true-up then takes the account's available USD below zero. The fix keeps the fee
 * allowance on the synthetic quantity held until the true-up, in the kernel's heldFor and the back office's copy of
 * the reservation rules (a snapshot section layout change), not assigned yet: marked failing until it is.
 */

import { expect, test } from 'bun:test'
import { ACCOUNT, config, d, Harness } from './fixtures.ts'
import { filledSynthetically, realFillReport } from './venue-fixtures.ts'

test.failing('the fee allowance of synthetic quantity stays held until its true-up pays the fee', () => {
  const h = new Harness()
  h.run({ kind: 'configure', nowMs: h.nowMs, config: config() })
  h.run({ kind: 'fund', nowMs: h.nowMs, principalId: 'config', accountId: ACCOUNT, asset: 'USD', amount: d('50050'), reference: 'config' })
  const id = h.openOrder({ qty: '1', price: '50000' })
  expect(h.reserved('USD')).toBe(d('50050')) // 50 000 + 10 bps
  filledSynthetically(h, id) // Filled at 50000, no fee: 50 USD left, nothing held
  h.place({ qty: '0.001', price: '49950', client_order_id: 'c2' }) // reserves 49.99995 of the 50 (accepted today)
  realFillReport(h, id, { execId: 'real-1', lastQty: '1', cumQty: '1', price: '50000', fee: '50' }) // the venue's 10 bps
  expect(h.balance('USD') - h.reserved('USD')).toBeGreaterThanOrEqual(0n) // today: -49.99995
})
