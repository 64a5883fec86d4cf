/**
 * Hold rule 2 (src/kernel/reservations.ts HOLD_RULE_GRACE, adopted by kernel.hold_rule_adopted at configure): an ended
 * order that still holds for a synthetic fill's true-up retires once it ended at least terminalOrderRetireAfterMs ago,
 * however few orders ended (src/kernel/retention.ts; the back office a margin later, src/backoffice/retention.ts). Under
 * rule 1 the kernel retired it only once more than terminalOrdersKeptMax (10,000) orders had ended, so on a quiet
 * gateway a true-up that never came kept a buy's allowance or a sell's fee allowance held for good (review rev-late1).
 * A log on rule 1 replays as it was decided; a true-up after the retirement is an orphan, as for any retired order.
 */

import { expect, test } from 'bun:test'
import { balanceRowsOf } from '../../src/backoffice/balances.ts'
import { decodeSection, encodeSection, BreakBook, type LedgerState } from '../../src/backoffice/index.ts'
import { ledgerFigures, ledgerVsKernel, ledgerVsReplay } from '../../src/backoffice/internal-checks.ts'
import { initialLedger } from '../../src/backoffice/ledger-state.ts'
import { RETIRE_MARGIN_MS } from '../../src/backoffice/retention.ts'
import type { DomainEvent } from '../../src/domain/events/index.ts'
import { applyInPlace, initialState, stateDigest, type KernelState } from '../../src/kernel/index.ts'
import { HOLD_RULE_GRACE, HOLD_RULE_SYNTHETIC } from '../../src/kernel/reservations.ts'
import { kernelStateBytes, kernelStateFromBytes } from '../../src/runtime/snapshot/state-codec.ts'
import { foldOn } from '../backoffice/kernel-log-fold.ts'
import { ACCOUNT, config, d, Harness, market, report } from './fixtures.ts'
import { filledSynthetically, realFillOfWhole } from './venue-fixtures.ts'

const GRACE_MS = 3_600_000 // the default terminalOrderRetireAfterMs

/**
 * A quiet gateway (a handful of orders end, far below terminalOrdersKeptMax): a buy of 1 BTC at 50 000 and a sell of
 * 1 BTC at 50 000 filled synthetically, holding 50 USD each (10 bps) until their true-ups, which never come. `rule`:
 * the hold rule its log adopted (1: a log a build before rule 2 wrote; its record rewritten so, as that build wrote it).
 */
function quietGateway(rule = HOLD_RULE_GRACE): { h: Harness; buy: string; sell: string } {
  const h = new Harness()
  h.run({ kind: 'configure', nowMs: h.nowMs, config: config() })
  if (rule !== HOLD_RULE_GRACE) {
    const at = h.log.findIndex((event) => event.type === 'kernel.hold_rule_adopted')
    h.log[at] = { type: 'kernel.hold_rule_adopted', atMs: h.nowMs, rule }
    h.state.holdRule = rule
  }
  h.run({ kind: 'fund', nowMs: h.nowMs, principalId: 'config', accountId: ACCOUNT, asset: 'USD', amount: d('50150'), reference: 'config' })
  h.run({ kind: 'fund', nowMs: h.nowMs, principalId: 'config', accountId: ACCOUNT, asset: 'BTC', amount: d('1'), reference: 'config' })
  const buy = h.openOrder({ qty: '1', price: '50000' })
  filledSynthetically(h, buy)
  const sell = h.openOrder({ side: 'sell', qty: '1', price: '50000', client_order_id: 'c-sell' })
  filledSynthetically(h, sell)
  expect([h.order(buy).status, h.order(sell).status]).toEqual(['Filled', 'Filled'])
  expect(h.reserved('USD')).toBe(d('100'))
  return { h, buy, sell }
}

/** `ms` later, another order placed and canceled: an order event at that time, and nothing else. */
function laterOrderEvent(h: Harness, ms: number, key: string): void {
  h.nowMs += ms
  h.cancel(h.placedId({ qty: '0.001', price: '50000', client_order_id: key }, { market: market('50000', { observedAtMs: h.nowMs }) }))
}

function replayed(log: readonly DomainEvent[], state: KernelState = initialState(), fromLsn = 1): KernelState {
  for (let lsn = fromLsn; lsn <= log.length; lsn++) applyInPlace(state, log[lsn - 1] as DomainEvent, { lsn })
  return state
}

function sectionOf(ledger: LedgerState): Uint8Array {
  return encodeSection({ lsn: ledger.lastLsn, chainHead: '0'.repeat(64), queryModel: { lastLsn: ledger.lastLsn, digest: 'd' } as never, ledger, breaks: new BreakBook(), image: new Uint8Array() })
}

/** The ledger folded on to the harness's last record agrees with the kernel (leaving out what the kernel retired). */
function expectAgree(ledger: LedgerState, h: Harness): void {
  foldOn(ledger, h, ledger.lastLsn + 1)
  expect(ledgerVsKernel(balanceRowsOf(ledger), h.state, ledger)).toEqual([])
}

test('ended orders holding for synthetic fills retire a grace after their end on a quiet gateway, the kernel first, then the ledger', () => {
  const { h, buy, sell } = quietGateway()
  const ledger = initialLedger()
  expectAgree(ledger, h)
  // Within the grace of either (the buy ended 5 s before the sell): still held, in both.
  laterOrderEvent(h, GRACE_MS - 10_000, 'c-1')
  expect(h.state.orders.has(buy) && h.state.orders.has(sell)).toBe(true)
  expect(h.reserved('USD')).toBe(d('100'))
  expectAgree(ledger, h)
  // Past the grace: the kernel retires both (a handful ended, far below terminalOrdersKeptMax) and releases their holds.
  laterOrderEvent(h, 10_000, 'c-2')
  expect(h.state.terminalOrderIds.size).toBeLessThan(10)
  expect(h.state.orders.has(buy) || h.state.orders.has(sell)).toBe(false)
  expect(h.reserved('USD')).toBe(0n)
  // The ledger keeps them a margin longer, which ledger_vs_kernel leaves out.
  expectAgree(ledger, h)
  expect(ledger.orders.has(buy) && ledger.orders.has(sell)).toBe(true)
  laterOrderEvent(h, RETIRE_MARGIN_MS, 'c-3')
  expectAgree(ledger, h)
  expect(ledger.orders.has(buy) || ledger.orders.has(sell)).toBe(false)
  expect(ledgerVsKernel(balanceRowsOf(ledger), h.state)).toEqual([])
})

test('a snapshot and a section taken while the holds wait replay to the state and ledger a replay from genesis gives', () => {
  const { h } = quietGateway()
  laterOrderEvent(h, 60_000, 'c-1')
  const through = h.log.length
  const kernel = kernelStateFromBytes(kernelStateBytes(h.state))
  const section = sectionOf(foldOn(initialLedger(), h, 1))
  for (const [index, ms] of [GRACE_MS, RETIRE_MARGIN_MS, 1_000].entries()) laterOrderEvent(h, ms, `c-${index + 2}`)
  expect(h.reserved('USD')).toBe(0n)
  expect(stateDigest(replayed(h.log))).toBe(stateDigest(h.state))
  expect(stateDigest(replayed(h.log, kernel, through + 1))).toBe(stateDigest(h.state))
  const restored = foldOn(decodeSection(section).ledger, h, through + 1)
  const folded = foldOn(initialLedger(), h, 1)
  expect(ledgerVsReplay(ledgerFigures(restored), ledgerFigures(folded))).toEqual([])
  expect(ledgerVsKernel(balanceRowsOf(restored), h.state)).toEqual([])
  expect(restored.counters.retiredOrders).toBe(folded.counters.retiredOrders)
})

test('a true-up within the grace ends the hold in the ledger too: the order stays, as any ended order, and the fold goes on', () => {
  const { h, buy } = quietGateway()
  const ledger = initialLedger()
  expectAgree(ledger, h)
  // The real fill comes within the grace: the kernel's order holds nothing more, nor does the ledger's.
  h.nowMs += 1_000
  realFillOfWhole(h, buy)
  expect(h.order(buy).syntheticHeldQty).toBe(0n)
  expectAgree(ledger, h)
  expect(ledger.orders.get(buy)?.syntheticPendingQty).toBeUndefined()
  // Past the grace and the margin: the sell (its true-up never came) retires from both; the buy, holding nothing, is
  // kept by the count as any ended order. The ledger's fold named the buy as still holding (an assertion) before.
  laterOrderEvent(h, GRACE_MS + RETIRE_MARGIN_MS, 'c-1')
  expectAgree(ledger, h)
  expect(h.state.orders.has(buy) && ledger.orders.has(buy)).toBe(true)
  expect(h.reserved('USD')).toBe(0n)
  expect(ledger.counters.retiredOrders).toBe(1)
})

test('a true-up after the retirement is an orphan: alerted, nothing booked, nothing held', () => {
  const { h, buy } = quietGateway()
  const order = h.order(buy)
  laterOrderEvent(h, GRACE_MS + 1_000, 'c-1')
  expect(h.state.orders.has(buy)).toBe(false)
  const usd = h.balance('USD')
  h.nowMs += 5
  const late = h.report(report(order, { execId: 'real-1', kind: 'fill', venueOrderId: `v-${buy}`, lastQty: d('1'), lastPrice: d('50000'), cumQty: d('1'), fee: d('50'), feeAsset: 'USD' }))
  expect(late.events.find((event) => event.type === 'alert.raised')).toMatchObject({ reason: 'REPORT_ORPHANED' })
  expect(late.events.map((event) => event.type)).not.toContain('order.fill_trued_up')
  expect(late.events.map((event) => event.type)).not.toContain('order.fill')
  expect(h.balance('USD')).toBe(usd)
  expect(h.reserved('USD')).toBe(0n)
  const ledger = foldOn(initialLedger(), h, 1)
  expect(ledgerVsKernel(balanceRowsOf(ledger), h.state, ledger)).toEqual([])
})

test('a log on hold rule 1 replays as it was decided: its holds wait for the count, until it adopts rule 2', () => {
  const { h, buy, sell } = quietGateway(HOLD_RULE_SYNTHETIC)
  const ledger = initialLedger()
  for (let day = 1; day <= 3; day++) laterOrderEvent(h, 86_400_000, `day-${day}`)
  expect(h.state.orders.has(buy) && h.state.orders.has(sell)).toBe(true)
  expect(h.reserved('USD')).toBe(d('100'))
  expectAgree(ledger, h)
  expect(ledger.orders.has(buy) && ledger.orders.has(sell)).toBe(true)
  expect(stateDigest(replayed(h.log))).toBe(stateDigest(h.state))
  // This build's first start on that log adopts rule 2; the next order event retires what ended past the grace.
  expect(h.run({ kind: 'configure', nowMs: h.nowMs, config: config() }).events).toEqual([{ type: 'kernel.hold_rule_adopted', atMs: h.nowMs, rule: HOLD_RULE_GRACE }])
  laterOrderEvent(h, 1_000, 'after')
  expect(h.state.orders.has(buy) || h.state.orders.has(sell)).toBe(false)
  expect(h.reserved('USD')).toBe(0n)
  expectAgree(ledger, h)
  expect(ledger.orders.has(buy) || ledger.orders.has(sell)).toBe(false)
  expect(stateDigest(replayed(h.log))).toBe(stateDigest(h.state))
})
