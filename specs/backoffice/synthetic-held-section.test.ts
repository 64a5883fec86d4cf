/**
 * What a buy's synthetic quantity pending a true-up keeps held (src/backoffice/orders.ts syntheticHeld, as the
 * kernel's syntheticHeldFor) goes through the back office's snapshot section: a ledger restored from it holds the same,
 * and releases it at the true-up as the kernel does. A section written before the pending quantity was kept (no such
 * member) reads as none pending, as those builds held none for it; a member that is not an amount is refused.
 */

import { describe, expect, test } from 'bun:test'
import { balanceRowsOf } from '../../src/backoffice/balances.ts'
import { BreakBook, decodeSection, encodeSection, initialLedger, type LedgerState } from '../../src/backoffice/index.ts'
import { ledgerVsKernel } from '../../src/backoffice/internal-checks.ts'
import { cloneLedger } from '../../src/backoffice/ledger.ts'
import { ACCOUNT, config, d, Harness } from '../kernel/fixtures.ts'
import { filledSynthetically, realFillReport } from '../kernel/venue-fixtures.ts'
import { foldOn } from './kernel-log-fold.ts'

function sectionOf(ledger: LedgerState): Uint8Array {
  return encodeSection({ lsn: ledger.lastLsn, chainHead: '0'.repeat(64), queryModel: { lastLsn: ledger.lastLsn, digest: 'd' } as never, ledger, breaks: new BreakBook(), image: new Uint8Array() })
}

/** A buy of 1 BTC at 50 000 filled synthetically: 50 USD (its allowance) held, pending its true-up. */
function pendingBuy(): { h: Harness; id: string; ledger: LedgerState } {
  const h = new Harness()
  h.run({ kind: 'configure', nowMs: h.nowMs, config: config() })
  h.run({ kind: 'fund', nowMs: h.nowMs, principalId: 'config', accountId: ACCOUNT, asset: 'USD', amount: d('50050'), reference: 'config' })
  const id = h.openOrder({ qty: '1', price: '50000' })
  filledSynthetically(h, id)
  const ledger = foldOn(initialLedger(), h, 1)
  expect(ledger.orders.get(id)).toMatchObject({ status: 'Filled', held: d('50'), syntheticPendingQty: d('1'), syntheticPendingCash: d('50000') })
  expect(ledgerVsKernel(balanceRowsOf(ledger), h.state)).toEqual([])
  return { h, id, ledger }
}

/** A section of a copy of `ledger` whose order `id` is changed by `edit` first. */
function sectionWith(ledger: LedgerState, id: string, edit: (order: Record<string, unknown>) => void): Uint8Array {
  const copy = cloneLedger(ledger)
  const order = copy.orders.get(id) as unknown as Record<string, unknown>
  edit(order)
  return sectionOf(copy)
}

describe('a held synthetic allowance in the snapshot section', () => {
  test('is written and read back, and the restored ledger releases it at the true-up as the kernel does', () => {
    const { h, id, ledger } = pendingBuy()
    const restored = decodeSection(sectionOf(ledger)).ledger
    expect(restored.orders.get(id)).toEqual(ledger.orders.get(id))
    expect(restored.reserved).toEqual(ledger.reserved)
    // Written again, the same bytes.
    expect(sectionOf(restored)).toEqual(sectionOf(ledger))
    const live = cloneLedger(ledger)
    realFillReport(h, id, { execId: 'real-1', lastQty: '0.5', cumQty: '0.5', price: '50000', fee: '25' })
    for (const copy of [live, restored]) {
      foldOn(copy, h, ledger.lastLsn + 1)
      expect(copy.orders.get(id)).toMatchObject({ held: d('25'), syntheticPendingQty: d('0.5'), syntheticPendingCash: d('25000') })
      expect(ledgerVsKernel(balanceRowsOf(copy), h.state)).toEqual([])
    }
    const through = live.lastLsn
    realFillReport(h, id, { execId: 'real-2', lastQty: '0.5', cumQty: '1', price: '50000', fee: '25' })
    const again = decodeSection(sectionOf(restored)).ledger
    for (const copy of [live, again]) {
      foldOn(copy, h, through + 1)
      expect(copy.orders.get(id)?.held).toBe(0n)
      expect(copy.orders.get(id)?.syntheticPendingQty).toBeUndefined()
      expect(ledgerVsKernel(balanceRowsOf(copy), h.state)).toEqual([])
    }
  })

  test('a section without the members reads as none pending; one with a member that is not an amount is refused', () => {
    const { id, ledger } = pendingBuy()
    // As a build before wrote it: no members, and nothing held for the pending quantity.
    const older = sectionWith(ledger, id, (order) => {
      delete order['syntheticPendingQty']
      delete order['syntheticPendingCash']
      order['held'] = 0n
    })
    expect(new TextDecoder().decode(older)).not.toContain('syntheticPending')
    expect(decodeSection(older).ledger.orders.get(id)).toMatchObject({ status: 'Filled', held: 0n })
    expect(decodeSection(older).ledger.orders.get(id)?.syntheticPendingQty).toBeUndefined()
    const wrong = sectionWith(ledger, id, (order) => (order['syntheticPendingQty'] = '1'))
    expect(() => decodeSection(wrong)).toThrow('syntheticPendingQty is not a positive amount')
  })
})

describe("a sell's held fee allowance in the snapshot section", () => {
  test('is written and read back with the fee rate, and the restored ledger releases it at the true-up as the kernel does', () => {
    const h = new Harness()
    h.run({ kind: 'configure', nowMs: h.nowMs, config: config() })
    h.run({ kind: 'fund', nowMs: h.nowMs, principalId: 'config', accountId: ACCOUNT, asset: 'BTC', amount: d('1'), reference: 'config' })
    const id = h.openOrder({ side: 'sell', qty: '1', price: '50000' })
    filledSynthetically(h, id)
    const ledger = foldOn(initialLedger(), h, 1)
    expect(ledger.takerFeeBps).toBe(10)
    expect(ledger.orders.get(id)?.syntheticFeeHeld).toBe(d('50'))
    const bytes = sectionOf(ledger)
    const restored = decodeSection(bytes).ledger
    expect(restored.takerFeeBps).toBe(10)
    expect(restored.orders.get(id)).toEqual(ledger.orders.get(id))
    expect(restored.reserved).toEqual(ledger.reserved)
    expect(sectionOf(restored)).toEqual(bytes)
    realFillReport(h, id, { execId: 'real-1', lastQty: '1', cumQty: '1', price: '50000', fee: '50' })
    foldOn(restored, h, ledger.lastLsn + 1)
    expect(restored.orders.get(id)?.syntheticFeeHeld).toBeUndefined()
    expect(ledgerVsKernel(balanceRowsOf(restored), h.state)).toEqual([])
  })

  test('a recorded rate of 0 is written: read back after a start that configured another rate, the ledger holds as the kernel did', () => {
    const h = new Harness()
    h.run({ kind: 'configure', nowMs: h.nowMs, config: config({ params: { takerFeeBps: 0 } }) })
    h.run({ kind: 'fund', nowMs: h.nowMs, principalId: 'config', accountId: ACCOUNT, asset: 'BTC', amount: d('1'), reference: 'config' })
    const id = h.openOrder({ side: 'sell', qty: '1', price: '50000' })
    const ledger = foldOn(initialLedger(), h, 1)
    const bytes = sectionOf(ledger)
    // After the section, under the rate of 0: no fee held. Then a start records a config with 10 bps (and the running
    // kernel the section is read with has it), before the records after the section are folded.
    filledSynthetically(h, id)
    expect(h.reserved('USD')).toBe(0n)
    h.run({ kind: 'configure', nowMs: h.nowMs, config: { ...config({ params: { takerFeeBps: 10 } }), digest: 'fee-changed' } })
    expect(h.state.config?.params.takerFeeBps).toBe(10)
    const restored = decodeSection(bytes, { upgradeFrom: h.state }).ledger
    expect(restored.takerFeeBps).toBe(0)
    foldOn(restored, h, ledger.lastLsn + 1)
    expect(restored.orders.get(id)?.syntheticFeeHeld).toBeUndefined()
    expect(ledgerVsKernel(balanceRowsOf(restored), h.state)).toEqual([])
    expect(restored.takerFeeBps).toBe(10)
  })

  test('a ledger without a fee rate writes no member for it, as the builds before did', () => {
    expect(new TextDecoder().decode(sectionOf(initialLedger()))).not.toContain('takerFeeBps')
  })
})
