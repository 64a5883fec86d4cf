/**
 * True-ups under average cost, over random trades (src/backoffice/synthetic-lots.ts): real and synthetic fills of one
 * account in one instrument, longs and shorts, flips through zero, reductions between a synthetic fill and its real
 * fills, real fills arriving in one piece or several. Once every real fill has arrived, the ledger must hold the
 * position a ledger holds that booked those real fills in the synthetic fills' place from the start: the same net
 * quantity and cash exactly, and the same cost basis and realized PnL up to one unit of rounding per fill.
 *
 * The second property drives orders the way the kernel sees them over several status reads (venue-order-script.ts):
 * one order may get several synthetic fills at different prices, a read may stop inside a real fill (which then
 * straddles: part covered, part booked as its own fill), and a report may arrive before a read it precedes in venue
 * order (the read's synthetic fill then stands for the gaps below the report: src/backoffice/venue-ranges.ts). It
 * checks that its runs did exercise each of those. The fourth takes a copy or a snapshot section of such a ledger
 * anywhere, an order's fills standing apart from egress's cumulative quantity included, and folds it on step by step.
 */
import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { applyEvent, BreakBook, decodeSection, encodeSection, initialLedger, Store } from '../../src/backoffice/index.ts'
import { cloneLedger } from '../../src/backoffice/ledger-clone.ts'
import { decodeTagged, encodeTagged } from '../../src/backoffice/tagged-json.ts'
import type { LedgerState } from '../../src/backoffice/ledger-state.ts'
import { formatDecimal, type Units } from '../../src/domain/decimal.ts'
import { btcPosition, ledgerOf, SyntheticScript, type SyntheticHandle } from './synthetic-script.ts'
import { VenueOrder, type VenueOrderCounts } from './venue-order-script.ts'

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

/**
 * One or two orders read by status, each of two to four real fills, in rounds: in each, some of an order's real fills
 * execute, some of those executed report (in any order), a real trade of another order may happen, and a status read
 * may follow (seeing all that executed, or stopping inside a real fill).
 */
const orderScriptArb = fc.record({
  orders: fc.array(fc.record({ side, pieces: fc.array(fc.record({ qty: qtySteps, price: priceSteps }), { minLength: 2, maxLength: 4 }) }), { minLength: 1, maxLength: 2 }),
  rounds: fc.array(
    fc.record({
      order: fc.nat(),
      executed: fc.integer({ min: 0, max: 2 }),
      reports: fc.array(fc.nat(), { maxLength: 2 }),
      real: fc.option(fc.record({ side, qty: qtySteps, price: priceSteps })),
      read: fc.option(fc.record({ price: priceSteps, pick: fc.oneof(fc.constant(0), fc.nat()) }), { freq: 4 }),
    }),
    { minLength: 1, maxLength: 12 },
  ),
})

type OrderScript = typeof orderScriptArb extends fc.Arbitrary<infer T> ? T : never

/** The script of orders read by status (venue-order-script.ts), every order finished at the end. */
function orderScriptOf(input: OrderScript): { script: SyntheticScript; orders: VenueOrder[] } {
  const script = new SyntheticScript()
  const orders = input.orders.map((order) => {
    const pieces = order.pieces.map((piece) => ({ qty: BigInt(piece.qty) * 1_000n, price: BigInt(piece.price) * 10_000n }))
    return new VenueOrder(script, order.side, pieces, 15_000_000_000n)
  })
  for (const round of input.rounds) {
    const order = orders[round.order % orders.length] as VenueOrder
    for (let count = 0; count < round.executed; count++) order.execute()
    for (const pick of round.reports) order.report(pick)
    if (round.real !== null) script.real(round.real.side, qtyOf(round.real.qty), priceOf(round.real.price))
    if (round.read !== null) order.read(BigInt(round.read.price) * 10_000n, BigInt(round.read.pick))
  }
  for (const order of orders) order.finish()
  return { script, orders }
}

/**
 * The position folded from `events` is the one folded from `reference` (see the header); `cashRoundingUnits`: the
 * quote `reference` holds more for rounding its parts of a straddling fill apart (venue-order-script.ts).
 */
function expectTruedUp(script: SyntheticScript, cashRoundingUnits: Units = 0n): void {
  const trued = btcPosition(ledgerOf(script.events))
  const reference = btcPosition(ledgerOf(script.reference))
  expect(trued.netQty).toBe(reference.netQty)
  // The cash is the real fills' either way, to the unit (the header invariant of positions.ts).
  expect(trued.realizedPnl - trued.costBasis).toBe(reference.realizedPnl - reference.costBasis - cashRoundingUnits)
  const fills = script.events.filter((event) => event.type === 'order.fill' || event.type === 'order.fill_trued_up').length
  const off = trued.costBasis - reference.costBasis
  if (off > BigInt(fills) || off < -BigInt(fills)) {
    throw new Error(`cost basis ${formatDecimal(trued.costBasis)}, with the real fills from the start ${formatDecimal(reference.costBasis)}: off by ${off} units over ${fills} fills`)
  }
  // Every synthetic quantity trued up: nothing of it is kept.
  expect(trued.syntheticLots).toBeUndefined()
}

describe('true-ups over random trades', () => {
  test('after every real fill, cost basis and realized PnL are those of the real fills booked from the start (±1 unit per fill)', () => {
    fc.assert(
      fc.property(stepsArb, (steps) => {
        const script = scriptOf(steps)
        fc.pre(script.events.some((event) => event.type === 'order.fill'))
        expectTruedUp(script)
      }),
      { seed: 2_027, numRuns: 400 },
    )
  })

  test('orders read by status several times: synthetic fills at different prices, straddling real fills, reports before reads (±1 unit per fill)', () => {
    const seen: VenueOrderCounts = { mixedPriceOrders: 0, straddlingFills: 0, reportsBeforeReads: 0 }
    fc.assert(
      fc.property(orderScriptArb, (input) => {
        const { script, orders } = orderScriptOf(input)
        expectTruedUp(script, orders.reduce((sum, order) => sum + order.cashRoundingUnits, 0n))
        for (const order of orders) {
          seen.mixedPriceOrders += order.counts.mixedPriceOrders
          seen.straddlingFills += order.counts.straddlingFills
          seen.reportsBeforeReads += order.counts.reportsBeforeReads
        }
      }),
      { seed: 2_029, numRuns: 400 },
    )
    // What the property is for did happen, in more than a handful of runs.
    expect(seen.mixedPriceOrders).toBeGreaterThan(40)
    expect(seen.straddlingFills).toBeGreaterThan(40)
    expect(seen.reportsBeforeReads).toBeGreaterThan(40)
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

  test('orders read by status: a copy of the ledger or its snapshot section, taken anywhere (between a synthetic fill and its pending record too), folds on to the same positions', () => {
    const store = Store.open(':memory:')
    const image = store.image()
    store.close()
    let placedApart = 0
    fc.assert(
      fc.property(orderScriptArb, fc.nat(), (input, cut) => {
        const events = orderScriptOf(input).script.events
        const at = cut % (events.length + 1)
        const live = initialLedger()
        events.slice(0, at).forEach((event, index) => applyEvent(live, event, index + 1))
        if ([...live.orders.values()].some((order) => order.venueRanges !== undefined || order.syntheticRanges !== undefined)) placedApart += 1
        const lsn = Math.max(live.lastLsn, 1)
        const section = encodeSection({ lsn, chainHead: 'ab'.repeat(32), queryModel: { lastLsn: lsn, lastHash: '', digest: 'none', tables: {} }, ledger: live, breaks: new BreakBook(), image })
        const copies = [cloneLedger(live), decodeSection(section).ledger]
        // Step by step with the ledger it was taken from: the same positions (lots included) and orders after each event.
        events.slice(at).forEach((event, index) => {
          for (const ledger of [live, ...copies]) applyEvent(ledger, event, at + index + 1)
          for (const copy of copies) {
            expect(copy.positions).toEqual(live.positions)
            expect([...copy.orders.values()]).toEqual([...live.orders.values()])
          }
        })
      }),
      { seed: 2_030, numRuns: 200 },
    )
    // Cuts where an order's fills stood apart from egress's cumulative quantity (venue-ranges.ts) did happen.
    expect(placedApart).toBeGreaterThan(5)
  })

  /**
   * Found by s60's long fuzz run (the second property failed about one case in 200 past CI's 400 runs of seed 2029;
   * e.g. `{ seed: 337798013, numRuns: 4000 }` at case 634), fixed since. A report for a higher venue range (2000, 3000]
   * booked before a status read covering an earlier range was placed at egress's cumulative quantity (1000, 2000], so
   * the next synthetic fill's lot sat at egress (2000, 3000] while it stood for venue (1000, 2000]; the true-up's cover
   * (venue quantities, `order.fill_covered`) missed the lot and takeSyntheticLot fell back to the first segments — the
   * fill that closed the earlier long — so the price difference went to realized PnL instead of the open short's basis
   * (cash was right). The kernel now records a real fill's place in the venue's cumulative quantity (`order.fill`
   * venueCumQty, payload version 11) and the ledger places the synthetic fill in the gap it stands for
   * (src/backoffice/venue-ranges.ts).
   */
  test('the shrunk counterexample: a report of a later venue range booked before the read of an earlier one', () => {
    const input = {
      orders: [{ side: 'sell', pieces: [{ qty: 1, price: 500_000 }, { qty: 1, price: 500_070 }, { qty: 1, price: 500_000 }] }],
      rounds: [
        { order: 0, executed: 2, reports: [], real: { side: 'buy', qty: 1, price: 500_000 }, read: { price: 500_000, pick: 1_193_675_000 } },
        { order: 0, executed: 1, reports: [1_909_370_210], real: null, read: { price: 500_000, pick: 0 } },
        { order: 0, executed: 0, reports: [8_931_187], real: null, read: null },
        { order: 0, executed: 0, reports: [], real: null, read: null },
      ],
    } as OrderScript
    const { script, orders } = orderScriptOf(input)
    expectTruedUp(script, orders.reduce((sum, order) => sum + order.cashRoundingUnits, 0n))
  })
})
