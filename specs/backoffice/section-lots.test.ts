/**
 * Synthetic lots in the back-office snapshot section (src/backoffice/section.ts, format 3): a section carries each
 * position's lots, and one restored folds on to the true-up as the live ledger would; a version 2 section (written
 * before lots) has none, and the true-up of the synthetic quantity it held pending is split by the rule of the build
 * that wrote it; a lot that is not one is refused.
 */
import { describe, expect, test } from 'bun:test'
import { applyEvent, BackOfficeSectionError, BreakBook, decodeSection, encodeSection, genesisLedger, positionKey, Store, type LedgerState } from '../../src/backoffice/index.ts'
import type { DomainEvent } from '../../src/domain/events/index.ts'
import { FRACTION_ONE } from '../../src/backoffice/synthetic-lots.ts'
import { ACCOUNT, d } from './events.ts'
import { btcPosition, ledgerOf, SyntheticScript } from './synthetic-script.ts'
import { VenueOrder } from './venue-order-script.ts'

/** The brief's example up to the sale (the true-up still to come), and the events of the true-up. */
function example(): { before: DomainEvent[]; trueUp: DomainEvent[] } {
  const script = new SyntheticScript()
  script.real('buy', '1', '100')
  const lot = script.synthetic('buy', '0.5', '110', [{ qty: '0.5', price: '100' }])
  script.real('sell', '1', '120')
  const before = [...script.events]
  script.arrive(lot)
  return { before, trueUp: script.events.slice(before.length) }
}

/** A section of `ledger` at its last LSN, with an empty query model (decodeSection does not open it). */
function sectionOf(ledger: LedgerState, version?: number): Uint8Array {
  const lsn = ledger.lastLsn
  const store = Store.open(':memory:')
  const image = store.image()
  store.close()
  const bytes = encodeSection({ lsn, chainHead: 'ab'.repeat(32), queryModel: { lastLsn: lsn, lastHash: '', digest: 'none', tables: {} }, ledger, breaks: new BreakBook(), image })
  return version === undefined ? bytes : withVersion(bytes, version)
}

function withVersion(bytes: Uint8Array, version: number): Uint8Array {
  const length = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true)
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + length))) as Record<string, unknown>
  header.version = version
  const encoded = new TextEncoder().encode(JSON.stringify(header))
  const out = new Uint8Array(12 + encoded.byteLength + bytes.byteLength - 12 - length)
  out.set(bytes.subarray(0, 8), 0)
  new DataView(out.buffer).setUint32(8, encoded.byteLength, true)
  out.set(encoded, 12)
  out.set(bytes.subarray(12 + length), 12 + encoded.byteLength)
  return out
}

function foldOn(ledger: LedgerState, events: readonly DomainEvent[]): LedgerState {
  const from = ledger.lastLsn
  events.forEach((event, index) => applyEvent(ledger, event, from + index + 1))
  return ledger
}

/** `ledger` as a version 2 build held it: no lots, no lotsUntrackedThroughLsn. */
function asVersion2(ledger: LedgerState): LedgerState {
  const { lotsUntrackedThroughLsn: _untracked, ...rest } = ledger
  const positions = new Map([...ledger.positions].map(([key, { syntheticLots: _lots, ...position }]) => [key, position]))
  return { ...rest, positions } as LedgerState
}

/** The message of the STATE_INVALID the section is refused with (fails the spec when it is read, or refused otherwise). */
function stateProblemOf(bytes: Uint8Array): string {
  try {
    decodeSection(bytes)
  } catch (error) {
    if (error instanceof BackOfficeSectionError && error.code === 'STATE_INVALID') return error.message
    throw error
  }
  throw new Error('the section was read')
}

describe('synthetic lots in the back-office section', () => {
  test('a section carries the lots: restored, it folds on to the true-up as the live ledger does', () => {
    const { before, trueUp } = example()
    const restored = decodeSection(sectionOf(ledgerOf(before))).ledger
    expect(restored.lotsUntrackedThroughLsn).toBe(0)
    expect([...(btcPosition(restored).syntheticLots?.values() ?? [])]).toEqual([{ segments: [{ fromQty: 0n, toQty: d('0.5'), openFraction: FRACTION_ONE / 3n, price: d('110') }], cover: null, mixedPrices: false }])
    expect(btcPosition(foldOn(restored, trueUp))).toEqual(btcPosition(ledgerOf([...before, ...trueUp])))
    expect(btcPosition(restored)).toMatchObject({ costBasis: d('50'), realizedPnl: d('20') })
  })

  test('a version 2 section has no lots: the synthetic quantity it held pending is trued up by the rule before lots', () => {
    const { before, trueUp } = example()
    const section = decodeSection(sectionOf(asVersion2(ledgerOf(before)), 2))
    expect(section.ledger.lotsUntrackedThroughLsn).toBe(section.header.lsn)
    expect(btcPosition(section.ledger).syntheticLots).toBeUndefined()
    const trued = btcPosition(foldOn(section.ledger, trueUp))
    // The older split, as the build that wrote the section would have booked it: all of the 5 in the open 0.5's basis.
    expect(trued).toMatchObject({ netQty: d('0.5'), costBasis: d('46.66666667'), realizedPnl: d('16.66666667') })
    // The cash is right either way: realized − basis is what the fills and the true-up moved (−100 − 55 + 120 + 5).
    expect(trued.realizedPnl - trued.costBasis).toBe(d('-30'))
  })

  test('a version 3 section (lots without prices) is read: each segment\'s price unknown (null), its true-up split as that build split it', () => {
    const { before, trueUp } = example()
    const ledger = ledgerOf(before)
    for (const lot of btcPosition(ledger).syntheticLots?.values() ?? []) for (const segment of lot.segments) delete (segment as { price?: unknown }).price
    const restored = decodeSection(sectionOf(ledger, 3)).ledger
    expect([...(btcPosition(restored).syntheticLots?.values() ?? [])]).toEqual([{ segments: [{ fromQty: 0n, toQty: d('0.5'), openFraction: FRACTION_ONE / 3n, price: null }], cover: null, mixedPrices: false }])
    expect(btcPosition(foldOn(restored, trueUp))).toMatchObject({ costBasis: d('50'), realizedPnl: d('20') })
    // A version 4 section whose segment has no price is refused.
    expect(stateProblemOf(sectionOf(ledger))).toMatch(/has no price/)
  })

  test('a fold from genesis with the version 2 section\'s untracked LSN keeps no lot through it and repeats that ledger to the unit (the replay check\'s base)', () => {
    const { before, trueUp } = example()
    const section = decodeSection(sectionOf(asVersion2(ledgerOf(before)), 2))
    const continued = foldOn(section.ledger, trueUp)
    const beforeTrueUp = foldOn(genesisLedger(section.header.lsn), before)
    expect(btcPosition(beforeTrueUp).syntheticLots).toBeUndefined()
    const replayed = foldOn(beforeTrueUp, trueUp)
    expect(btcPosition(replayed)).toEqual(btcPosition(continued))
    expect(btcPosition(replayed)).toMatchObject({ costBasis: d('46.66666667'), realizedPnl: d('16.66666667') })
    // Synthetic quantity booked after the untracked LSN gets its lot as usual.
    const later = foldOn(genesisLedger(section.header.lsn - 3), before)
    expect(btcPosition(later).syntheticLots?.has('o2')).toBe(true)
  })

  test('an order with synthetic quantity pending from before lots and a newer synthetic fill: the older quantity\'s true-up leaves the newer lot whole', () => {
    const script = new SyntheticScript()
    const order = new VenueOrder(script, 'buy', [{ qty: d('1'), price: d('100') }, { qty: d('1'), price: d('100') }], d('150'))
    order.execute()
    order.read(d('110'), 0n)
    // The version 2 section: the first synthetic 1 pending, untracked.
    const sectionLsn = script.events.length
    order.execute()
    order.read(d('110'), 0n)
    const ledger = foldOn(genesisLedger(sectionLsn), script.events)
    const newer = [{ fromQty: d('1'), toQty: d('2'), openFraction: FRACTION_ONE, price: d('110') }]
    expect(btcPosition(ledger).syntheticLots?.get(order.orderId)?.segments).toEqual(newer)
    // The first real fill covers (0, 1]: the untracked quantity, split by the rule before lots; the lot is not taken.
    const before = script.events.length
    order.report(0)
    foldOn(ledger, script.events.slice(before))
    expect(btcPosition(ledger).syntheticLots?.get(order.orderId)?.segments).toEqual(newer)
    // The second covers (1, 2]: the newer lot, taken whole.
    const middle = script.events.length
    order.report(0)
    foldOn(ledger, script.events.slice(middle))
    expect(btcPosition(ledger).syntheticLots).toBeUndefined()
    expect(btcPosition(ledger)).toMatchObject({ netQty: d('2'), costBasis: d('200'), realizedPnl: 0n })
  })

  test('a version 3 section without lotsUntrackedThroughLsn, or with a lot that is not one, is refused', () => {
    const { before } = example()
    expect(() => decodeSection(sectionOf(asVersion2(ledgerOf(before))))).toThrow('back-office state fields missing or of the wrong type')
    const broken = [
      { segments: [{ fromQty: 0n, toQty: d('0.5'), openFraction: FRACTION_ONE + 1n, price: d('110') }], cover: null, mixedPrices: false },
      { segments: [{ fromQty: 0n, toQty: d('0.5'), openFraction: 0n, price: 0n }], cover: null, mixedPrices: false },
      { segments: [{ fromQty: 0n, toQty: d('0.5'), openFraction: 0n }], cover: null, mixedPrices: false },
      { segments: [{ fromQty: d('0.5'), toQty: d('0.5'), openFraction: 0n }], cover: null, mixedPrices: false },
      { segments: [], cover: null, mixedPrices: false },
      { segments: [{ fromQty: 0n, toQty: d('0.5'), openFraction: 0n }], cover: { fromQty: 1n }, mixedPrices: false },
      { segments: [{ fromQty: 0n, toQty: d('0.5'), openFraction: 0n, price: d('110') }], cover: null },
      { segments: [{ fromQty: 0n, toQty: d('0.5'), openFraction: 0n, price: null }], cover: null, mixedPrices: true },
      { qty: d('0.5'), openFraction: 0n },
    ]
    for (const lot of broken) {
      const ledger = ledgerOf(before)
      btcPosition(ledger).syntheticLots = new Map([['o2', lot as never]])
      expect(stateProblemOf(sectionOf(ledger))).toMatch(/^synthetic lots of position .*BTC-USD: /)
    }
  })

  test('a lot the ledger could not hold is refused with STATE_INVALID: open off its side or flat, segments out of order or overlapping or past the order, of an order not held, under another position', () => {
    const { before } = example()
    const segment = (from: string, to: string, openFraction = 0n) => ({ fromQty: d(from), toQty: d(to), openFraction, price: d('110') })
    const refused = (change: (ledger: LedgerState) => void): string => {
      const ledger = ledgerOf(before)
      change(ledger)
      return stateProblemOf(sectionOf(ledger))
    }
    const lotOf = (ledger: LedgerState, segments: ReturnType<typeof segment>[]) => (btcPosition(ledger).syntheticLots = new Map([['o2', { segments, cover: null, mixedPrices: false }]]))
    // As written, the example's lot (a third open in the long 0.5) is read.
    expect(() => decodeSection(sectionOf(ledgerOf(before)))).not.toThrow()
    // Open in a position that is flat, or short (the order bought): the next true-up would assert inside the fold.
    expect(refused((ledger) => (btcPosition(ledger).netQty = 0n))).toMatch(/o2 is open in a position not open on its buy side/)
    expect(refused((ledger) => (btcPosition(ledger).netQty = -d('0.5')))).toMatch(/o2 is open in a position not open on its buy side/)
    // Closed lots in a flat position are what the ledger keeps after a close to zero: read.
    const flatClosed = ledgerOf(before)
    btcPosition(flatClosed).netQty = 0n
    lotOf(flatClosed, [segment('0', '0.5')])
    expect(() => decodeSection(sectionOf(flatClosed))).not.toThrow()
    expect(refused((ledger) => lotOf(ledger, [segment('0.25', '0.5'), segment('0', '0.25')]))).toMatch(/out of order or overlap/)
    expect(refused((ledger) => lotOf(ledger, [segment('0', '0.3'), segment('0.2', '0.5')]))).toMatch(/out of order or overlap/)
    expect(refused((ledger) => lotOf(ledger, [segment('0', '0.6')]))).toMatch(/o2 ends past its cumulative quantity/)
    expect(refused((ledger) => {
      const lots = btcPosition(ledger).syntheticLots as Map<string, unknown>
      lots.set('o9', lots.get('o2'))
    })).toMatch(/a lot of o9, an order the ledger does not hold/)
    expect(refused((ledger) => {
      const btc = btcPosition(ledger)
      ledger.positions.set(positionKey(ACCOUNT, 'sim', 'ETH-USD'), { ...btc, symbol: 'ETH-USD', fees: new Map() })
      delete btc.syntheticLots
    })).toMatch(/the lot of o2 belongs to another position/)
  })

  test('an order\'s covered fills that are not what the ledger writes are refused with STATE_INVALID (they reach the rows a true-up lists)', () => {
    const { before, trueUp } = example()
    const ledger = ledgerOf([...before, ...trueUp])
    const order = [...ledger.orders.values()].find((held) => (held.coveredFills?.length ?? 0) > 0)
    if (order === undefined) throw new Error('the example holds no covered fill')
    const covered = order.coveredFills?.[0] as NonNullable<typeof order.coveredFills>[number]
    expect(() => decodeSection(sectionOf(ledger))).not.toThrow()
    for (const broken of [{ ...covered, liquidity: 'both' }, { ...covered, coveredQty: -1n }, { ...covered, price: '100' }, { ...covered, lsn: 0 }, null]) {
      order.coveredFills = [broken as never]
      expect(stateProblemOf(sectionOf(ledger))).toMatch(new RegExp(`^order ${order.orderId}: coveredFills\\[0\\] is not a covered fill`))
    }
    order.coveredFills = 'x' as never
    expect(stateProblemOf(sectionOf(ledger))).toMatch(/coveredFills is not a list/)
  })
})
