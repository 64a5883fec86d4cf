/**
 * The holds a synthetic fill keeps until its true-up (a buy's allowance, src/kernel/reservations.ts syntheticHeldFor; a
 * sell's fee allowance, Order.syntheticFeeHeld) are a rule the log adopts by a record (kernel.hold_rule_adopted,
 * HOLD_RULE_SYNTHETIC, written at configure), as the retirement rule is: only a synthetic fill applied after it holds.
 * Applied to every synthetic fill, the same log gave an older build's state and this build's different ones: a
 * replay from genesis did not match a snapshot an older build took while a synthetic quantity was pending
 * (replay-verify), a back-office ledger folded from genesis did not match one restored from an older section
 * (ledger_vs_replay), and an order restored from an older snapshot held in the kernel what the ledger did not.
 */

import { expect, test } from 'bun:test'
import { balanceRowsOf } from '../../src/backoffice/balances.ts'
import { decodeSection, encodeSection, BreakBook, type LedgerState } from '../../src/backoffice/index.ts'
import { ledgerFigures, ledgerVsKernel, ledgerVsReplay } from '../../src/backoffice/internal-checks.ts'
import { initialLedger } from '../../src/backoffice/ledger-state.ts'
import type { DomainEvent } from '../../src/domain/events/index.ts'
import { applyInPlace, initialState, stateDigest, type KernelState } from '../../src/kernel/index.ts'
import { kernelStateFromBytes } from '../../src/runtime/snapshot/index.ts'
import { KERNEL_STATE_SCHEMA_V21, kernelSectionOf } from '../../src/runtime/snapshot/state-codec.ts'
import { foldOn } from '../backoffice/kernel-log-fold.ts'
import { encodeAsFormat21 } from '../runtime/snapshot/support.ts'
import { ACCOUNT, config, d, Harness, market, report } from './fixtures.ts'
import { filledSynthetically, realFillReport, statusOnlyReconcile } from './venue-fixtures.ts'

/**
 * A harness as a build before the hold rule ran it: configured, funded, its log without kernel.hold_rule_adopted. That
 * build wrote one record fewer at its configure; the record's place is taken by a repeat of the retirement rule's (the
 * same rule again: it changes nothing), so the LSNs of what follows are the harness's.
 */
function olderBuild(funds: Record<string, string>): Harness {
  const h = new Harness()
  h.run({ kind: 'configure', nowMs: h.nowMs, config: config() })
  const at = h.log.findIndex((event) => event.type === 'kernel.hold_rule_adopted')
  const retire = h.log.find((event) => event.type === 'kernel.retire_rule_adopted')
  if (retire === undefined) throw new Error('expected the configure to adopt the retirement rule')
  if (at >= 0) h.log[at] = retire
  h.state.holdRule = null
  for (const [asset, amount] of Object.entries(funds)) h.run({ kind: 'fund', nowMs: h.nowMs, principalId: 'config', accountId: ACCOUNT, asset, amount: d(amount), reference: 'config' })
  return h
}

/** This build's first start on that log: its configure adopts the hold rule (the config itself unchanged). */
function upgrade(h: Harness): void {
  const types = h.run({ kind: 'configure', nowMs: h.nowMs, config: config() }).events.map((event) => event.type)
  expect(types).toEqual(['kernel.hold_rule_adopted'])
}

function replayed(log: readonly DomainEvent[], state: KernelState = initialState(), fromLsn = 1): KernelState {
  for (let lsn = fromLsn; lsn <= log.length; lsn++) applyInPlace(state, log[lsn - 1] as DomainEvent, { lsn })
  return state
}

function sectionOf(ledger: LedgerState): Uint8Array {
  return encodeSection({ lsn: ledger.lastLsn, chainHead: '0'.repeat(64), queryModel: { lastLsn: ledger.lastLsn, digest: 'd' } as never, ledger, breaks: new BreakBook(), image: new Uint8Array() })
}

/** The ledger folded on to the harness's last record agrees with the kernel. */
function expectAgree(ledger: LedgerState, h: Harness): void {
  foldOn(ledger, h, ledger.lastLsn + 1)
  expect(ledgerVsKernel(balanceRowsOf(ledger), h.state, ledger)).toEqual([])
}

test('a synthetic fill before the log adopted the hold rule holds nothing, before or after the adoption; one after holds', () => {
  const h = olderBuild({ USD: '100100' })
  const ledger = initialLedger()
  const old = h.openOrder({ qty: '1', price: '50000' })
  filledSynthetically(h, old)
  // As that build decided: the fill released the whole reservation, the allowance included.
  expect(h.reserved('USD')).toBe(0n)
  expect(h.order(old).syntheticPendingQty).toBe(d('1'))
  expect(h.order(old).syntheticHeldQty).toBe(0n)
  expectAgree(ledger, h)
  expect(ledger.orders.get(old)?.held).toBe(0n)

  upgrade(h)
  expect(h.reserved('USD')).toBe(0n)
  const later = h.openOrder({ qty: '1', price: '50000', client_order_id: 'c2' })
  filledSynthetically(h, later)
  // After the adoption: the allowance (10 bps of 50 000) is held until the true-up.
  expect(h.order(later).syntheticHeldQty).toBe(d('1'))
  expect(h.reserved('USD')).toBe(d('50'))
  expectAgree(ledger, h)

  // The true-up of the fill from before releases nothing (it held nothing), the other's hold stays.
  realFillReport(h, old, { execId: 'real-old', lastQty: '1', cumQty: '1', price: '50000', fee: '50' })
  expect(h.order(old).syntheticPendingQty).toBe(0n)
  expect(h.reserved('USD')).toBe(d('50'))
  expectAgree(ledger, h)
  realFillReport(h, later, { execId: 'real-later', lastQty: '1', cumQty: '1', price: '50000', fee: '50' })
  expect(h.reserved('USD')).toBe(0n)
  expectAgree(ledger, h)
  expect(stateDigest(replayed(h.log))).toBe(stateDigest(h.state))
})

test('an order filled synthetically across the adoption holds for the quantity filled after it only, which its true-ups take first', () => {
  const h = olderBuild({ USD: '50050' })
  const ledger = initialLedger()
  const id = h.openOrder({ qty: '1', price: '50000' })
  statusOnlyReconcile(h, id, '0.25') // before the adoption: holds nothing for it
  expect(h.reserved('USD')).toBe(d('37537.5')) // the open 0.75's share
  expectAgree(ledger, h)
  upgrade(h)
  statusOnlyReconcile(h, id, '0.75') // 0.5 more after it: 25 025 less its 25 000 synthetic cash held
  expect(h.order(id)).toMatchObject({ syntheticPendingQty: d('0.75'), syntheticHeldQty: d('0.5') })
  expect(h.reserved('USD')).toBe(d('12512.5') + d('25'))
  expectAgree(ledger, h)
  // A real fill of 0.25 takes held quantity first: half the hold goes.
  realFillReport(h, id, { execId: 'real-1', lastQty: '0.25', cumQty: '0.25', price: '50000', fee: '12.5' })
  expect(h.order(id)).toMatchObject({ syntheticPendingQty: d('0.5'), syntheticHeldQty: d('0.25') })
  expect(h.reserved('USD')).toBe(d('12512.5') + d('12.5'))
  expectAgree(ledger, h)
  // The next 0.5 takes the rest of the held quantity and the unheld 0.25, releasing only what was held.
  realFillReport(h, id, { execId: 'real-2', lastQty: '0.5', cumQty: '0.75', price: '50000', fee: '25' })
  expect(h.order(id)).toMatchObject({ syntheticPendingQty: 0n, syntheticHeldQty: 0n, syntheticHeldCash: 0n })
  expect(h.reserved('USD')).toBe(d('12512.5'))
  expectAgree(ledger, h)
})

test("a sell filled synthetically before the adoption holds no fee, and its true-up after it releases none", () => {
  const h = olderBuild({ BTC: '2' })
  const ledger = initialLedger()
  const old = h.openOrder({ side: 'sell', qty: '1', price: '50000' })
  filledSynthetically(h, old)
  expect(h.order(old).syntheticFeeHeld).toBe(0n)
  expect(h.reserved('USD')).toBe(0n)
  expectAgree(ledger, h)
  upgrade(h)
  const later = h.openOrder({ side: 'sell', qty: '1', price: '50000', client_order_id: 'c2' })
  filledSynthetically(h, later)
  expect(h.order(later).syntheticFeeHeld).toBe(d('50'))
  expect(h.reserved('USD')).toBe(d('50'))
  expectAgree(ledger, h)
  realFillReport(h, old, { execId: 'real-old', lastQty: '1', cumQty: '1', price: '50000', fee: '50' })
  expect(h.reserved('USD')).toBe(d('50'))
  expectAgree(ledger, h)
})

test('a snapshot and a section an older build took while a synthetic quantity was pending replay to the state and ledger a replay from genesis gives', () => {
  const h = olderBuild({ USD: '100100', BTC: '1' })
  const buy = h.openOrder({ qty: '1', price: '50000' })
  filledSynthetically(h, buy)
  const sell = h.openOrder({ side: 'sell', qty: '1', price: '50000', client_order_id: 'c-sell' })
  filledSynthetically(h, sell)
  // The older build's snapshot, mid-wait: its kernel state (format 21) and its back-office section.
  const through = h.log.length
  const v21 = encodeAsFormat21(h.state)
  const kernel = kernelStateFromBytes(kernelSectionOf(JSON.stringify(v21.json), v21.idempotency), { schema: KERNEL_STATE_SCHEMA_V21 })
  const section = sectionOf(foldOn(initialLedger(), h, 1))
  // This build starts on it: adopts the rule, then the true-ups come, and a new buy fills synthetically and is trued up.
  upgrade(h)
  realFillReport(h, buy, { execId: 'real-buy', lastQty: '1', cumQty: '1', price: '50000', fee: '50' })
  const next = h.placedId({ qty: '1', price: '50000', client_order_id: 'c3' }, { market: market('50000', { observedAtMs: h.nowMs }) })
  h.send(next)
  h.placeResult(next, { kind: 'ok', value: { venueOrderId: `v-${next}` } })
  filledSynthetically(h, next)
  realFillReport(h, sell, { execId: 'real-sell', lastQty: '1', cumQty: '1', price: '50000', fee: '50' })

  // The kernel: snapshot + the records after it, and a replay from genesis, both the live state (replay-verify's check).
  const fromGenesis = replayed(h.log)
  expect(stateDigest(fromGenesis)).toBe(stateDigest(h.state))
  expect(stateDigest(replayed(h.log, kernel, through + 1))).toBe(stateDigest(h.state))
  expect(h.reserved('USD')).toBe(d('50')) // the new buy's allowance only
  // The back office: the section + the records after it, and a fold from genesis, agree with each other and the kernel.
  const restored = foldOn(decodeSection(section).ledger, h, through + 1)
  const folded = foldOn(initialLedger(), h, 1)
  expect(ledgerVsReplay(ledgerFigures(restored), ledgerFigures(folded))).toEqual([])
  expect(ledgerVsKernel(balanceRowsOf(restored), h.state, restored)).toEqual([])
  expect(ledgerVsKernel(balanceRowsOf(folded), fromGenesis, folded)).toEqual([])
})

test('an order an older build filled synthetically and ended, restored from its snapshot and revived, holds in the kernel what the ledger holds', () => {
  const h = olderBuild({ USD: '50050' })
  const id = h.openOrder({ qty: '1', price: '50000' })
  statusOnlyReconcile(h, id, '0.25') // 0.25 synthetic, pending its true-up
  h.report(report(h.order(id), { kind: 'canceled', execId: 'x-1', venueOrderId: `v-${id}`, cumQty: d('0.25') }))
  expect(h.order(id).status).toBe('Canceled')
  expect(h.reserved('USD')).toBe(0n)
  const through = h.log.length
  const v21 = encodeAsFormat21(h.state)
  const kernel = kernelStateFromBytes(kernelSectionOf(JSON.stringify(v21.json), v21.idempotency), { schema: KERNEL_STATE_SCHEMA_V21 })
  const ledger = decodeSection(sectionOf(foldOn(initialLedger(), h, 1))).ledger
  upgrade(h)
  // A reject of the order the venue said it canceled contradicts the end: Unknown, its open share held again.
  h.report(report(h.order(id), { kind: 'rejected', execId: 'r-1', venueOrderId: `v-${id}`, cumQty: d('0.25'), reason: 'late' }))
  expect(h.order(id).status).toBe('Unknown')
  expect(h.reserved('USD')).toBe(d('37537.5'))
  h.nowMs += 10_000
  const order = h.order(id)
  const venueOrder = { clientOrderId: order.venueClientOrderId, venueOrderId: `v-${id}`, account: order.accountId, symbol: order.symbol, side: order.side, qty: order.qty, cumQty: d('0.25'), status: 'canceled' as const }
  h.run({ kind: 'reconcile_result', nowMs: h.nowMs, askedAtMs: h.nowMs - 20, orderId: id, venueOrder, trades: [] })
  expect(h.order(id).status).toBe('Canceled')
  // Ended again: nothing held for the quantity filled before the adoption, in the kernel restored and the ledger alike.
  expect(h.reserved('USD')).toBe(0n)
  const restored = replayed(h.log, kernel, through + 1)
  expect(stateDigest(restored)).toBe(stateDigest(h.state))
  foldOn(ledger, h, through + 1)
  expect(ledger.orders.get(id)?.held).toBe(0n)
  expect(ledgerVsKernel(balanceRowsOf(ledger), restored, ledger)).toEqual([])
})

test('the hold rule goes through the back-office section: absent reads as none adopted, adopted is written', () => {
  const h = olderBuild({ USD: '1' })
  const before = foldOn(initialLedger(), h, 1)
  expect(before.holdRule).toBeNull()
  expect(new TextDecoder().decode(sectionOf(before)).includes('holdRule')).toBe(false)
  expect(decodeSection(sectionOf(before)).ledger.holdRule).toBeNull()
  upgrade(h)
  const after = foldOn(before, h, before.lastLsn + 1)
  expect(after.holdRule).toBe(h.state.holdRule)
  expect(decodeSection(sectionOf(after)).ledger.holdRule).toBe(h.state.holdRule)
})
