/**
 * Where an order's booked quantity stands in the venue's cumulative quantity (src/backoffice/venue-ranges.ts), and the
 * synthetic lots placed by it (synthetic-lots.ts). A report of a later venue range booked before the status read of an
 * earlier one leaves a gap; the read's synthetic fill stands for that gap, and its lot is placed there, so the true-up
 * of the real fill behind it finds it and moves the basis of the open position, not realized PnL. A log written before
 * fills recorded their place (payload version 11's order.fill venueCumQty) folds as it did: every fill at egress's own
 * cumulative quantity.
 */

import { describe, expect, test } from 'bun:test'
import { balanceRowsOf } from '../../src/backoffice/balances.ts'
import { BackOfficeSectionError, BreakBook, decodeSection, encodeSection, initialLedger, positionKey, Store, type LedgerState } from '../../src/backoffice/index.ts'
import { cloneLedger } from '../../src/backoffice/ledger-clone.ts'
import { ledgerVsKernel } from '../../src/backoffice/internal-checks.ts'
import { addSyntheticLot, FRACTION_ONE, type SyntheticLots } from '../../src/backoffice/synthetic-lots.ts'
import type { TrackedOrder } from '../../src/backoffice/orders.ts'
import { placeFill, takeSyntheticRanges } from '../../src/backoffice/venue-ranges.ts'
import type { DomainEvent, EventOf } from '../../src/domain/events/index.ts'
import { ACCOUNT, d, Harness } from '../kernel/fixtures.ts'
import { realFillReport, statusOnlyReconcile } from '../kernel/venue-fixtures.ts'
import { foldOn } from './kernel-log-fold.ts'

/**
 * A long of 0.1 BTC bought at 50 000, then a sell of 0.3 read by status only: the read sees 0.1 (a synthetic fill that
 * closes the long), the report of the venue's third 0.1 comes (a short of 0.1), the read sees 0.3 (a synthetic fill
 * standing for the venue's second 0.1), and the reports of the second (at 50 070) and first (at 50 000) come last.
 * `withoutPlaces`: the log as a build before payload version 11 wrote it, its fills without venueCumQty.
 */
function laterRangeFirst(options: { withoutPlaces: boolean }): { h: Harness; sellId: string; log: DomainEvent[]; afterSecondRead: number } {
  const h = Harness.funded()
  const buyId = h.openOrder({ client_order_id: 'buy-1', qty: '0.1' })
  realFillReport(h, buyId, { execId: 'a-1', lastQty: '0.1', cumQty: '0.1' })
  const sellId = h.openOrder({ client_order_id: 'sell-1', side: 'sell', qty: '0.3' })
  statusOnlyReconcile(h, sellId, '0.1')
  realFillReport(h, sellId, { execId: 'b-3', lastQty: '0.1', cumQty: '0.3' })
  statusOnlyReconcile(h, sellId, '0.3')
  const afterSecondRead = h.log.length
  realFillReport(h, sellId, { execId: 'b-2', lastQty: '0.1', cumQty: '0.2', price: '50070' })
  realFillReport(h, sellId, { execId: 'b-1', lastQty: '0.1', cumQty: '0.1' })
  const log = options.withoutPlaces ? h.log.map((event) => (event.type === 'order.fill' ? withoutPlace(event) : event)) : h.log
  return { h, sellId, log, afterSecondRead }
}

function withoutPlace(event: EventOf<'order.fill'>): DomainEvent {
  const { venueCumQty: _place, ...older } = event
  return older
}

function btcOf(ledger: LedgerState) {
  const position = ledger.positions.get(positionKey(ACCOUNT, 'sim', 'BTC-USD'))
  if (position === undefined) throw new Error('no BTC-USD position')
  return position
}

function fold(log: readonly DomainEvent[], throughLsn = log.length): LedgerState {
  return foldOn(initialLedger(), { log: log.slice(0, throughLsn) }, 1)
}

describe('synthetic lots placed by venue range', () => {
  test('the kernel records where a real fill stands in the venue cumulative quantity; a synthetic fill records none', () => {
    const { log } = laterRangeFirst({ withoutPlaces: false })
    const fills = log.filter((event): event is EventOf<'order.fill'> => event.type === 'order.fill')
    expect(fills.map((fill) => [fill.execId, fill.synthetic, fill.venueCumQty])).toEqual([
      ['a-1', false, d('0.1')],
      [expect.stringMatching(/^reconcile:/) as unknown as string, true, undefined],
      ['b-3', false, d('0.3')],
      [expect.stringMatching(/^reconcile:/) as unknown as string, true, undefined],
    ])
  })

  test('a report of a later venue range booked before the read of an earlier one: the read\'s lot is the gap it stands for, and the true-up moves the open basis', () => {
    const { h, sellId, log, afterSecondRead } = laterRangeFirst({ withoutPlaces: false })
    const read = fold(log, afterSecondRead)
    // The first read's 0.1 closed the long; the second's stands for the venue's (0.1, 0.2] and is open in the short.
    expect(btcOf(read).syntheticLots?.get(sellId)?.segments).toEqual([
      { fromQty: 0n, toQty: d('0.1'), openFraction: 0n, price: d('50000') },
      { fromQty: d('0.1'), toQty: d('0.2'), openFraction: FRACTION_ONE, price: d('50000') },
    ])
    // Every range of the venue's 0.3 is booked once: egress's coordinates and the venue's agree again.
    expect(read.orders.get(sellId)?.venueRanges).toBeUndefined()
    const ledger = fold(log)
    // As if the real fills had come in venue order: the long closed at 50 000 for nothing, the short of 0.2 stands at
    // 5 000 + 5 007 received.
    expect(btcOf(ledger)).toMatchObject({ netQty: -d('0.2'), costBasis: -d('10007'), realizedPnl: 0n })
    expect(btcOf(ledger).syntheticLots).toBeUndefined()
    expect(ledgerVsKernel(balanceRowsOf(ledger), h.state)).toEqual([])
  })

  test('the same log as a build before payload version 11 wrote it (fills without venueCumQty) folds as it did: at egress\'s cumulative quantity', () => {
    const { sellId, log, afterSecondRead } = laterRangeFirst({ withoutPlaces: true })
    const read = fold(log, afterSecondRead)
    expect(btcOf(read).syntheticLots?.get(sellId)?.segments).toEqual([
      { fromQty: 0n, toQty: d('0.1'), openFraction: 0n, price: d('50000') },
      { fromQty: d('0.2'), toQty: d('0.3'), openFraction: FRACTION_ONE, price: d('50000') },
    ])
    expect([...read.orders.values()].some((order) => order.venueRanges !== undefined || order.syntheticRanges !== undefined)).toBe(false)
    // That build's split (cash right, the 7 USD in realized PnL): older logs replay to the figures they had.
    expect(btcOf(fold(log))).toMatchObject({ netQty: -d('0.2'), costBasis: -d('10000'), realizedPnl: d('7') })
  })
})

describe('placing fills in the venue cumulative quantity', () => {
  const order = (cumQty: string, venueRanges?: [string, string][]): TrackedOrder =>
    ({ orderId: 'o-1', cumQty: d(cumQty), ...(venueRanges === undefined ? {} : { venueRanges: venueRanges.map(([from, to]) => ({ fromQty: d(from), toQty: d(to) })) }) }) as unknown as TrackedOrder
  const fillOf = (lastQty: string, options: { venueCumQty?: string; synthetic?: boolean } = {}): EventOf<'order.fill'> => ({
    type: 'order.fill', atMs: 1, orderId: 'o-1', execId: 'x', lastQty: d(lastQty), lastPrice: d('1'), fee: 0n, feeAsset: 'USD', cumQty: 0n, synthetic: options.synthetic ?? false, venueTimeMs: 1,
    ...(options.venueCumQty === undefined ? {} : { venueCumQty: d(options.venueCumQty) }),
  })
  const ranges = (held: TrackedOrder) => held.venueRanges?.map((range) => [range.fromQty, range.toQty])
  /** Applies the fill's quantity as applyOrderEvent does. */
  const place = (held: TrackedOrder, fill: EventOf<'order.fill'>) => {
    placeFill(held, fill)
    held.cumQty += fill.lastQty
  }

  test('fills in venue order, or with no place, keep nothing: (0, cumQty] is where they stand', () => {
    const held = order('0')
    place(held, fillOf('1', { venueCumQty: '1' }))
    place(held, fillOf('2'))
    place(held, fillOf('1', { venueCumQty: '4' }))
    expect(held.venueRanges).toBeUndefined()
  })

  test('reports out of venue order leave gaps until the fills below come, then merge back to nothing kept', () => {
    const held = order('0')
    place(held, fillOf('1', { venueCumQty: '3' }))
    place(held, fillOf('1', { venueCumQty: '5' }))
    expect(ranges(held)).toEqual([[d('2'), d('3')], [d('4'), d('5')]])
    place(held, fillOf('2', { venueCumQty: '2' }))
    expect(ranges(held)).toEqual([[0n, d('3')], [d('4'), d('5')]])
    place(held, fillOf('1', { venueCumQty: '4' }))
    expect(held.venueRanges).toBeUndefined()
  })

  test('a synthetic fill fills the lowest gaps and leaves its ranges for its order.synthetic_pending; one at the top leaves none', () => {
    const held = order('2', [['1', '2'], ['3', '4']])
    place(held, fillOf('2', { synthetic: true }))
    expect(held.syntheticRanges).toEqual([{ fromQty: 0n, toQty: d('1') }, { fromQty: d('2'), toQty: d('3') }])
    expect(held.venueRanges).toBeUndefined()
    expect(takeSyntheticRanges(held, d('2'))).toEqual([{ fromQty: 0n, toQty: d('1') }, { fromQty: d('2'), toQty: d('3') }])
    expect(held.syntheticRanges).toBeUndefined()
    place(held, fillOf('1', { synthetic: true }))
    expect(held.syntheticRanges).toBeUndefined()
    expect(takeSyntheticRanges(held, d('1'))).toEqual([{ fromQty: d('4'), toQty: d('5') }])
  })

  test('a lot over two gaps: its first units in venue order are those that closed the position', () => {
    const lots: SyntheticLots = new Map()
    const price = d('100')
    addSyntheticLot(lots, 'o-1', { ranges: [{ fromQty: 0n, toQty: d('1') }, { fromQty: d('2'), toQty: d('3') }], closedQty: d('1.5'), price })
    expect(lots.get('o-1')?.segments).toEqual([
      { fromQty: 0n, toQty: d('1'), openFraction: 0n, price },
      { fromQty: d('2'), toQty: d('2.5'), openFraction: 0n, price },
      { fromQty: d('2.5'), toQty: d('3'), openFraction: FRACTION_ONE, price },
    ])
  })

  test('a fill whose venue range is taken already (a venue contradicting itself), or has none, takes the lowest units free', () => {
    const held = order('1', [['2', '3']])
    place(held, fillOf('1', { venueCumQty: '3' }))
    expect(ranges(held)).toEqual([[0n, d('1')], [d('2'), d('3')]])
    place(held, fillOf('2'))
    expect(ranges(held)).toBeUndefined()
    expect(held.cumQty).toBe(d('4'))
  })
})

describe('venue ranges in the back-office snapshot section', () => {
  /** A section of `ledger` at its last LSN, with an empty query model (decodeSection does not open it). */
  const sectionOf = (ledger: LedgerState): Uint8Array => {
    const store = Store.open(':memory:')
    const image = store.image()
    store.close()
    const lsn = ledger.lastLsn
    return encodeSection({ lsn, chainHead: 'ab'.repeat(32), queryModel: { lastLsn: lsn, lastHash: '', digest: 'none', tables: {} }, ledger, breaks: new BreakBook(), image })
  }

  test('an order\'s ranges are written and read back; the restored ledger folds on to the live one\'s figures', () => {
    const { h, sellId, log } = laterRangeFirst({ withoutPlaces: false })
    // Through the report of the venue's third 0.1, and through the second read's fill before its pending record.
    const secondRead = log.findLastIndex((event) => event.type === 'order.fill' && event.synthetic)
    expect(log[secondRead + 1]?.type).toBe('order.synthetic_pending')
    for (const throughLsn of [log.findIndex((event) => event.type === 'order.fill' && event.execId === 'b-3') + 1, secondRead + 1]) {
      const ledger = fold(log, throughLsn)
      const order = ledger.orders.get(sellId)
      expect(order?.venueRanges ?? order?.syntheticRanges).toBeDefined()
      const restored = decodeSection(sectionOf(ledger)).ledger
      expect(restored.orders.get(sellId)).toEqual(order as TrackedOrder)
      expect(sectionOf(restored)).toEqual(sectionOf(ledger))
      foldOn(restored, { log }, throughLsn + 1)
      expect(btcOf(restored)).toEqual(btcOf(fold(log)))
      expect(ledgerVsKernel(balanceRowsOf(restored), h.state)).toEqual([])
    }
  })

  test('ranges that are not the order\'s (not adding up to its cumQty, out of order, not a list) are refused (STATE_INVALID)', () => {
    const { sellId, log } = laterRangeFirst({ withoutPlaces: false })
    const ledger = fold(log, log.findIndex((event) => event.type === 'order.fill' && event.execId === 'b-3') + 1)
    const bad: Record<string, unknown>[] = [
      { venueRanges: [{ fromQty: 0n, toQty: d('0.1') }] },
      { venueRanges: [{ fromQty: d('0.2'), toQty: d('0.3') }, { fromQty: 0n, toQty: d('0.1') }] },
      { venueRanges: [] },
      { syntheticRanges: 'none' },
    ]
    for (const members of bad) {
      const copy = cloneLedger(ledger)
      Object.assign(copy.orders.get(sellId) as TrackedOrder, members)
      let code: string | null = null
      try {
        decodeSection(sectionOf(copy))
      } catch (error) {
        code = error instanceof BackOfficeSectionError ? error.code : String(error)
      }
      expect(code).toBe('STATE_INVALID')
    }
  })
})
