/**
 * A buy's reservation covers what the order can cost however the venue splits it: an account funded with exactly the
 * reservation keeps available ≥ 0 (balance − reserved) in the kernel and in the back office's ledger after every
 * fill, when the order fills at or inside its limit in whole lots, each part's cash rounded up and each part's fee
 * rounded up on its own (the sim venue's rule) at a rate no higher than the configured `takerFeeBps`.
 *
 * Before the fix the taker-fee allowance was the only slack, so per-part rounding (up to about 2.5 units a part) left
 * such an account a few 1e-8 below zero (README "Ledger arithmetic" said so).
 */

import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { applyEvent, balanceRowsOf, initialLedger, type LedgerState } from '../../src/backoffice/index.ts'
import { formatDecimal, mulUnits, mulUnitsTwoWays, type Units } from '../../src/domain/decimal.ts'
import type { EventOf } from '../../src/domain/events/index.ts'
import type { Instrument } from '../../src/domain/instruments.ts'
import { defaultSimInstruments } from '../../src/domain/instruments.ts'
import { ACCOUNT, config, d, Harness, policy, report, T0 } from '../kernel/fixtures.ts'

const UNITS = 100_000_000n

/** An instrument whose qty × price has more than 8 decimals, so a part's cash rounds (tick 1e-6, lot 1e-3). */
function roundingInstrument(lotUnits: bigint): Instrument {
  const [btc] = defaultSimInstruments()
  return { ...(btc as Instrument), symbol: 'RND-USD', baseAsset: 'RND', tickSize: 100n, lotSize: lotUnits, minQty: lotUnits, maxQty: d('1000000'), minNotional: 0n, priceBandBps: 5_000 }
}

function harnessFor(instrument: Instrument, takerFeeBps: number, usd: Units): Harness {
  const harness = new Harness()
  const kernelConfig = config({ policies: [policy({ instruments: ['sim:RND-USD'] })], params: { takerFeeBps } })
  harness.run({ kind: 'configure', nowMs: T0, config: { ...kernelConfig, instruments: [instrument] } })
  harness.run({ kind: 'fund', nowMs: T0, principalId: 'config', accountId: ACCOUNT, asset: 'USD', amount: usd, reference: 'config' })
  return harness
}

function placeBuy(harness: Harness, qtyUnits: bigint, priceUnits: bigint): EventOf<'order.accepted'> {
  const decision = harness.place({ symbol: 'RND-USD', qty: formatDecimal(qtyUnits), price: formatDecimal(priceUnits) }, { market: { referencePrice: priceUnits, observedAtMs: T0, previousPrice: priceUnits } })
  expect(decision.reply.kind).toBe('accepted')
  return decision.events[0] as EventOf<'order.accepted'>
}

/** The sim venue's charge for one part: cash rounded up (a buy), the fee on the half-even notional rounded up. */
function feeOf(qty: Units, price: Units, venueFeeBps: number): Units {
  const [, notional] = mulUnitsTwoWays(qty, price, 'up', 'half_even')
  return mulUnits(notional, (BigInt(venueFeeBps) * UNITS) / 10_000n, 'up')
}

function ledgerAvailable(ledger: LedgerState): Units {
  const row = balanceRowsOf(ledger).find((candidate) => candidate.accountId === ACCOUNT && candidate.asset === 'USD')
  return (row?.total ?? 0n) - (row?.reserved ?? 0n)
}

const splitArb = fc.record({
  lotUnits: fc.constantFrom(100_000n, 1_000_000n, 100_000_000n),
  lots: fc.integer({ min: 1, max: 60 }),
  // Small prices too: there a part's rounding is large next to its notional and the fee allowance.
  priceTicks: fc.oneof(fc.bigInt({ min: 1n, max: 1_000n }), fc.bigInt({ min: 1n, max: 5_000_000_000n })),
  takerFeeBps: fc.integer({ min: 0, max: 30 }),
  venueFeeShare: fc.double({ min: 0, max: 1, noNaN: true }),
  cuts: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 60 }),
  improvements: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 60 }),
})

describe('a buy reservation and per-part rounding', () => {
  test('an account funded with exactly the reservation never goes below zero available, in the kernel or the ledger', () => {
    fc.assert(
      fc.property(splitArb, ({ lotUnits, lots, priceTicks, takerFeeBps, venueFeeShare, cuts, improvements }) => {
        const instrument = roundingInstrument(lotUnits)
        const qty = BigInt(lots) * lotUnits
        const limit = priceTicks * instrument.tickSize + 1n * instrument.tickSize
        const reservation = placeBuy(harnessFor(instrument, takerFeeBps, d('1000000000000')), qty, limit).reservationAmount
        const harness = harnessFor(instrument, takerFeeBps, reservation)
        const orderId = placeBuy(harness, qty, limit).orderId
        harness.send(orderId)
        harness.placeResult(orderId, { kind: 'ok', value: { venueOrderId: 'v-1' } })
        // Whole-lot parts: the cut points, deduplicated, of the order's lots.
        const points = [...new Set(cuts.map((cut) => Math.floor(cut * lots)).filter((point) => point > 0 && point < lots))].sort((a, b) => a - b)
        const venueFeeBps = Math.floor(venueFeeShare * takerFeeBps)
        const ledger = initialLedger()
        let folded = 0
        const fold = (): void => {
          for (; folded < harness.log.length; folded++) applyEvent(ledger, harness.log[folded]!, folded + 1)
        }
        let cumLots = 0
        for (const [index, point] of [...points, lots].entries()) {
          const partQty = BigInt(point - cumLots) * lotUnits
          cumLots = point
          // At or inside the limit: a buy fills no higher than its price.
          const improved = limit - BigInt(improvements[index] ?? 0) * instrument.tickSize
          const price = improved < instrument.tickSize ? instrument.tickSize : improved
          const order = harness.order(orderId)
          harness.report(report(order, { execId: `x${index}`, kind: 'fill', cumQty: BigInt(cumLots) * lotUnits, lastQty: partQty, lastPrice: price, fee: feeOf(partQty, price, venueFeeBps), feeAsset: 'USD' }))
          fold()
          expect(harness.order(orderId).cumQty).toBe(BigInt(cumLots) * lotUnits)
          expect(harness.balance('USD') - harness.reserved('USD')).toBeGreaterThanOrEqual(0n)
          expect(ledgerAvailable(ledger)).toBeGreaterThanOrEqual(0n)
        }
        expect(harness.order(orderId).status).toBe('Filled')
      }),
      { numRuns: 300, seed: 38_001 },
    )
  })

  test('three one-lot parts of a buy whose cash rounds: each pays a unit the whole order rounds to once', () => {
    const instrument = roundingInstrument(100_000n)
    // 0.001 × 0.000002 = 0.000000002 a part: 1 unit each, rounded up; the whole 0.003 × 0.000002 rounds to 1 unit.
    const reservation = placeBuy(harnessFor(instrument, 0, d('1000')), 300_000n, 200n).reservationAmount
    const harness = harnessFor(instrument, 0, reservation)
    const orderId = placeBuy(harness, 300_000n, 200n).orderId
    harness.send(orderId)
    harness.placeResult(orderId, { kind: 'ok', value: { venueOrderId: 'v-1' } })
    for (let part = 1; part <= 3; part++) {
      harness.report(report(harness.order(orderId), { execId: `x${part}`, kind: 'fill', cumQty: BigInt(part) * 100_000n, lastQty: 100_000n, lastPrice: 200n, fee: 0n, feeAsset: 'USD' }))
      expect(harness.balance('USD') - harness.reserved('USD')).toBeGreaterThanOrEqual(0n)
    }
    expect(harness.balance('USD')).toBe(reservation - 3n)
  })
})
