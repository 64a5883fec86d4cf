/**
 * The back office's own reservation rules (src/backoffice/orders.ts) against the kernel's, for an order venue news
 * brings back from an end to Unknown: the kernel holds its worst case again (src/kernel/apply-order.ts), and so must
 * the ledger, or the ledger_vs_kernel check reports a break for every such order.
 */

import { expect, test } from 'bun:test'
import { balanceRowsOf } from '../../src/backoffice/balances.ts'
import { ledgerVsKernel } from '../../src/backoffice/internal-checks.ts'
import { initialLedger } from '../../src/backoffice/ledger-state.ts'
import { currentClientOrderId } from '../../src/domain/orders.ts'
import { d, Harness, report } from '../kernel/fixtures.ts'
import { foldOn } from './kernel-log-fold.ts'

test('an order brought back from an end holds the same in the ledger as in the kernel, and both release it at its end', () => {
  const harness = Harness.funded()
  const orderId = harness.placedId({ qty: '1', price: '50000' })
  harness.send(orderId)
  harness.placeResult(orderId, { kind: 'rejected', reason: 'venue_busy' })
  const order = harness.order(orderId)
  harness.report(report(order, { execId: 'n1', kind: 'new', clientOrderId: currentClientOrderId(order), venueOrderId: 'v-1', cumQty: 0n }))
  expect(harness.order(orderId).status).toBe('Unknown')
  expect(harness.reserved('USD')).toBe(d('50050'))
  const ledger = foldOn(initialLedger(), harness, 1)
  expect(ledgerVsKernel(balanceRowsOf(ledger), harness.state)).toEqual([])

  harness.report(report(order, { execId: 'c1', kind: 'canceled', clientOrderId: currentClientOrderId(order), venueOrderId: 'v-1', cumQty: 0n }))
  expect(harness.reserved('USD')).toBe(0n)
  const lsn = ledger.lastLsn
  expect(ledgerVsKernel(balanceRowsOf(foldOn(ledger, harness, lsn + 1)), harness.state)).toEqual([])
})
