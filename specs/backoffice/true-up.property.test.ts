/**
 * True-ups under average cost, over random trades (src/backoffice/synthetic-lots.ts): real and synthetic fills of one
 * account in one instrument, longs and shorts, flips through zero, reductions between a synthetic fill and its real
 * fills, real fills arriving in one piece or several. Once every real fill has arrived, the ledger must hold the
 * position a ledger holds that booked those real fills in the synthetic fills' place from the start: the same net
 * quantity and cash exactly, and the same cost basis and realized PnL up to one unit of rounding per fill.
 */
import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { applyEvent, initialLedger } from '../../src/backoffice/index.ts'
import { cloneLedger } from '../../src/backoffice/ledger-clone.ts'
import { decodeTagged, encodeTagged } from '../../src/backoffice/tagged-json.ts'
import type { LedgerState } from '../../src/backoffice/ledger.ts'
import { formatDecimal } from '../../src/domain/decimal.ts'
import { btcPosition, ledgerOf, SyntheticScript, type SyntheticHandle } from './synthetic-script.ts'

const side = fc.constantFrom('buy' as const, 'sell' as const)
/** Quantities in steps of 0.00001 and prices in steps of 0.0001 (50 to 150): qty × price has nine places, so it rounds. */
const qtySteps = fc.integer({ min: 1, max: 150_000 })
const priceSteps = fc.integer({ min: 500_000, max: 1_500_000 })
const qtyOf = (steps: number): string => formatDecimal(BigInt(steps) * 1_000n)
const priceOf = (steps: number): string => formatDecimal(BigInt(steps) * 10_000n)

const stepArb = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('real' as const), side, qty: qtySteps, price: priceSteps }), weight: 4 },
  {
    arbitrary: fc.record({
      kind: fc.constant('synthetic' as const),
      side,
      guess: priceSteps,
      pieces: fc.array(fc.record({ qty: qtySteps, price: priceSteps }), { minLength: 1, maxLength: 3 }),
    }),
    weight: 2,
  },
  { arbitrary: fc.record({ kind: fc.constant('arrive' as const), pick: fc.nat(), piece: fc.nat() }), weight: 2 },
)

type Step = typeof stepArb extends fc.Arbitrary<infer T> ? T : never

/** The script of `steps`, every real fill arrived at the end. */
function scriptOf(steps: readonly Step[]): SyntheticScript {
  const script = new SyntheticScript()
  const waiting: SyntheticHandle[] = []
  for (const step of steps) {
    if (step.kind === 'real') script.real(step.side, qtyOf(step.qty), priceOf(step.price))
    else if (step.kind === 'synthetic') {
      const pieces = step.pieces.map((piece) => ({ qty: qtyOf(piece.qty), price: priceOf(piece.price) }))
      const total = step.pieces.reduce((sum, piece) => sum + piece.qty, 0)
      waiting.push(script.synthetic(step.side, qtyOf(total), priceOf(step.guess), pieces))
    } else if (waiting.length > 0) {
      const handle = waiting[step.pick % waiting.length] as SyntheticHandle
      script.arrive(handle, step.piece)
      if (handle.arrived.size === handle.pieces.length) waiting.splice(waiting.indexOf(handle), 1)
    }
  }
  script.arriveAll(waiting)
  return script
}

const stepsArb = fc.array(stepArb, { minLength: 1, maxLength: 30 })

describe('true-ups over random trades', () => {
  test('after every real fill, cost basis and realized PnL are those of the real fills booked from the start (±1 unit per fill)', () => {
    fc.assert(
      fc.property(stepsArb, (steps) => {
        const script = scriptOf(steps)
        fc.pre(script.events.some((event) => event.type === 'order.fill'))
        const trued = btcPosition(ledgerOf(script.events))
        const reference = btcPosition(ledgerOf(script.reference))
        expect(trued.netQty).toBe(reference.netQty)
        // The cash is the real fills' either way, to the unit (the header invariant of positions.ts).
        expect(trued.realizedPnl - trued.costBasis).toBe(reference.realizedPnl - reference.costBasis)
        const fills = script.events.filter((event) => event.type === 'order.fill' || event.type === 'order.fill_trued_up').length
        const off = trued.costBasis - reference.costBasis
        if (off > BigInt(fills) || off < -BigInt(fills)) {
          throw new Error(`cost basis ${formatDecimal(trued.costBasis)}, with the real fills from the start ${formatDecimal(reference.costBasis)}: off by ${off} units over ${fills} fills`)
        }
        // Every synthetic quantity trued up: nothing of it is kept.
        expect(trued.syntheticLots).toBeUndefined()
      }),
      { seed: 2_027, numRuns: 400 },
    )
  })

  test('a copy of the ledger (a snapshot capture) or its section encoding, taken anywhere, folds on to the same positions', () => {
    fc.assert(
      fc.property(stepsArb, fc.nat(), (steps, cut) => {
        const events = scriptOf(steps).events
        const at = cut % (events.length + 1)
        const straight = ledgerOf(events)
        const live = initialLedger()
        events.slice(0, at).forEach((event, index) => applyEvent(live, event, index + 1))
        const copied = cloneLedger(live)
        const decoded = decodeTagged(encodeTagged(live)) as LedgerState
        for (const ledger of [live, copied, decoded]) {
          events.slice(at).forEach((event, index) => applyEvent(ledger, event, at + index + 1))
          expect(ledger.positions).toEqual(straight.positions)
        }
      }),
      { seed: 2_028, numRuns: 150 },
    )
  })
})
