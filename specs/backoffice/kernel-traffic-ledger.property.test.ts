/**
 * The ledger under seeded random traffic through the kernel, with a venue behind it (venue-traffic-ledger-driver.ts:
 * lost and repeated reports, read-backs with and without trades, synthetic fills and their true-ups, fees in three
 * assets and rebates, prices at all eight places and through the limit; half the seeds retire ended orders within
 * the run). After every step the log folded so far balances per asset, agrees with the kernel's balances and holds to
 * the unit — per account and per order — and the one instrument's position adds up to the account's trade postings
 * (realized − basis = Σ quote legs, no basis when flat). At the end the live ledger, and ledgers continued from a
 * clone (a snapshot's capture) and from a section written every 50 steps, equal one folded from genesis. Replay one
 * seed with KERNEL_TRAFFIC_LEDGER_SEED=<seed>; run more with KERNEL_TRAFFIC_LEDGER_SEEDS=<count>.
 */

import { describe, expect, test } from 'bun:test'
import { balanceRowsOf } from '../../src/backoffice/balances.ts'
import { BreakBook } from '../../src/backoffice/breaks.ts'
import { ledgerBalanced, ledgerFigures, ledgerVsKernel, ledgerVsReplay } from '../../src/backoffice/internal-checks.ts'
import { accountBook } from '../../src/backoffice/books.ts'
import { initialLedger, type LedgerState, type Posting } from '../../src/backoffice/ledger-state.ts'
import { applyEvent, cloneLedger } from '../../src/backoffice/ledger.ts'
import { decodeSection, encodeSection } from '../../src/backoffice/section.ts'
import type { DomainEvent } from '../../src/domain/events/index.ts'
import type { KernelState } from '../../src/kernel/state.ts'
import { VenueTrafficDriver } from './venue-traffic-ledger-driver.ts'

const STEPS = 400
const ONE_SEED = process.env.KERNEL_TRAFFIC_LEDGER_SEED === undefined ? null : Number(process.env.KERNEL_TRAFFIC_LEDGER_SEED)
const SEED_COUNT = Number(process.env.KERNEL_TRAFFIC_LEDGER_SEEDS ?? 60)
/**
 * Seeds a long run found (3,000 seeds from 401): the kernel retired an ended order holding for synthetic quantity by
 * hold rule 2 while the ledger, keeping it a margin longer, still counted it toward keptMax, retired by count an older
 * order the kernel kept (Failed, not at the venue), and missed its resend's hold (src/backoffice/retention.ts
 * kernelRuledOut).
 */
const FOUND = [1376, 1862]
const SEEDS = ONE_SEED === null ? [...Array.from({ length: SEED_COUNT }, (_, index) => 101 + index), ...FOUND] : [ONE_SEED]

function foldTo(ledger: LedgerState, log: readonly DomainEvent[], throughLsn: number, postings?: Posting[]): LedgerState {
  for (let lsn = ledger.lastLsn + 1; lsn <= throughLsn; lsn++) {
    const booked = applyEvent(ledger, log[lsn - 1] as DomainEvent, lsn)
    postings?.push(...booked.postings)
  }
  return ledger
}

/** Each order holds what the kernel's does; the position's figures add up to the account's trade postings. */
function orderAndPositionDifferences(ledger: LedgerState, kernel: KernelState, postings: readonly Posting[]): string[] {
  const found: string[] = []
  for (const order of kernel.orders.values()) {
    const tracked = ledger.orders.get(order.orderId)
    if (tracked === undefined) continue
    if (tracked.held !== order.reservation.remaining) found.push(`${order.orderId} holds ${tracked.held} in the ledger, ${order.reservation.remaining} in the kernel`)
    if ((tracked.syntheticFeeHeld ?? 0n) !== order.syntheticFeeHeld) found.push(`${order.orderId} fee hold ${tracked.syntheticFeeHeld} vs ${order.syntheticFeeHeld}`)
    if (tracked.cumQty !== order.cumQty || tracked.qty !== order.qty) found.push(`${order.orderId} qty ${tracked.cumQty}/${tracked.qty} vs ${order.cumQty}/${order.qty}`)
  }
  for (const position of ledger.positions.values()) {
    const mine = postings.filter((posting) => posting.book === accountBook(position.accountId))
    const sum = (kind: string, asset: string) => mine.filter((posting) => posting.kind === kind && posting.asset === asset).reduce((total, posting) => total + posting.amount, 0n)
    if (position.netQty !== sum('trade_base', position.baseAsset)) found.push(`${position.symbol} net ${position.netQty} vs base postings ${sum('trade_base', position.baseAsset)}`)
    if (position.netQty === 0n && position.costBasis !== 0n) found.push(`${position.symbol} flat with a cost basis of ${position.costBasis}`)
    if (position.realizedPnl - position.costBasis !== sum('trade_quote', position.quoteAsset)) found.push(`${position.symbol} realized − basis ${position.realizedPnl - position.costBasis} vs quote postings ${sum('trade_quote', position.quoteAsset)}`)
  }
  return found
}

function firstDifference(seed: number): string | null {
  const params = seed % 2 === 0 ? { terminalOrdersKeptMax: 3, terminalOrderRetireAfterMs: 2_000, takerFeeBps: 25 } : {}
  const driver = new VenueTrafficDriver(seed, params)
  const { harness } = driver.kernel
  const live = initialLedger()
  const postings: Posting[] = []
  const sections: Uint8Array[] = []
  const clones: LedgerState[] = []
  for (let step = 0; step < STEPS; step++) {
    driver.step()
    foldTo(live, harness.log, harness.log.length, postings)
    const found = [...ledgerBalanced(live), ...ledgerVsKernel(balanceRowsOf(live), harness.state, live), ...orderAndPositionDifferences(live, harness.state, postings)]
    if (found.length > 0) return `seed ${seed}, step ${step}: ${JSON.stringify(found)}\n  last steps: ${driver.trace.slice(-6).join(' | ')}`
    if (step % 50 === 49) {
      const queryModel = { lastLsn: live.lastLsn, lastHash: '', digest: 'spec', tables: {} }
      sections.push(encodeSection({ lsn: live.lastLsn, chainHead: '0'.repeat(64), queryModel, ledger: live, breaks: new BreakBook(), image: new Uint8Array() }))
      clones.push(cloneLedger(live))
    }
  }
  const genesis = ledgerFigures(foldTo(initialLedger(), harness.log, harness.log.length))
  const continued = [live, ...clones, ...sections.map((bytes) => decodeSection(bytes).ledger)].map((ledger) => foldTo(ledger, harness.log, harness.log.length))
  const replayed = continued.flatMap((ledger) => ledgerVsReplay(ledgerFigures(ledger), genesis))
  return replayed.length === 0 ? null : `seed ${seed}: ${JSON.stringify(replayed)}`
}

describe('the ledger under random kernel traffic', () => {
  test(`balances, agrees with the kernel at every step, and replays alike from genesis and from a section (${SEEDS.length} seeds × ${STEPS} steps)`, () => {
    const differences = SEEDS.map(firstDifference).filter((found) => found !== null)
    expect(differences).toEqual([])
  }, 60_000)
})
