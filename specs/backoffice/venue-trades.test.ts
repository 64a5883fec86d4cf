import { describe, expect, test } from 'bun:test'
import { initialLedger, type FillRecord } from '../../src/backoffice/ledger.ts'
import type { TrackedOrder } from '../../src/backoffice/orders.ts'
import { ORDER_READ_COST_RECORDS, ORDER_READS_MAX, splitFillReads, venueTrades } from '../../src/backoffice/venue-trades.ts'
import type { VenueAdapter, VenueTrade } from '../../src/venues/adapter.ts'

function order(orderId: string, acceptedLsn: number): TrackedOrder {
  return {
    orderId, acceptedLsn, accountId: 'acct-a', venue: 'sim', symbol: 'BTC-USD', baseAsset: 'BTC', quoteAsset: 'USD', side: 'buy',
    qty: 10n, cumQty: 0n, status: 'AckedOpen', clientIds: [`c-${orderId}`], reservationAsset: 'USD', reservationTotal: 0n, held: 0n, amend: null,
  }
}

function fill(orderId: string, lsn: number, qty: bigint): FillRecord {
  return {
    lsn, execId: `x-${lsn}`, orderId, accountId: 'acct-a', venue: 'sim', symbol: 'BTC-USD', side: 'buy', qty, price: 100n, fee: 0n,
    feeAsset: 'USD', liquidity: 'maker', synthetic: false, cash: -qty * 100n, venueTimeMs: 1_000, atMs: 1_000,
  }
}

function tradeOf(booked: FillRecord): VenueTrade {
  return {
    execId: booked.execId, clientOrderId: `c-${booked.orderId}`, venueOrderId: `v-${booked.orderId}`, account: 'acct-a', symbol: 'BTC-USD',
    side: 'buy', qty: booked.qty, price: booked.price, fee: booked.fee, feeAsset: 'USD', liquidity: 'maker', venueTimeMs: booked.venueTimeMs,
  }
}

describe('venue_trades reads', () => {
  test('the oldest orders are read by id only when that moves the range read far enough forward', () => {
    expect(splitFillReads([5])).toBe(0)
    expect(splitFillReads([5, 6, 7])).toBe(0)
    // Within one read's cost of the next acceptance: the range is cheaper.
    expect(splitFillReads([1, 1 + ORDER_READ_COST_RECORDS, 2_000_000])).toBe(2)
    expect(splitFillReads([1, ORDER_READ_COST_RECORDS, ORDER_READ_COST_RECORDS + 10])).toBe(0)
    expect(splitFillReads([1, 500_000, 500_001, 500_002])).toBe(1)
    // Never more than ORDER_READS_MAX, and at least one order is left for the range.
    const spread = Array.from({ length: 200 }, (_, index) => index * 1_000_000)
    expect(splitFillReads(spread)).toBe(ORDER_READS_MAX)
    expect(splitFillReads([1, 1_000_000])).toBe(1)
  })

  test('a long-resting order is read by its id, the rest from the newest acceptances on, and no fill is counted twice', async () => {
    const resting = order('old', 10)
    const recent = order('new', 900_000)
    const fills = [fill('old', 20, 2n), fill('new', 900_010, 3n), fill('old', 900_020, 1n)]
    const ranges: number[] = []
    const byId: string[] = []
    const adapter = { venue: 'sim', trades: async () => ({ kind: 'ok' as const, value: fills.map(tradeOf) }) } as unknown as VenueAdapter
    const found = await venueTrades({
      adapter, ledger: initialLedger(), accountId: 'acct-a', orders: [recent, resting], nowMs: 1_000, covered: new Set(),
      fillsFrom: (fromLsn) => (ranges.push(fromLsn), fills.filter((booked) => booked.lsn >= fromLsn)),
      fillsOfOrder: (orderId) => (byId.push(orderId), fills.filter((booked) => booked.orderId === orderId)),
    })
    expect(ranges).toEqual([900_000])
    expect(byId).toEqual(['old'])
    // The old order's later fill came back from both reads; counted once, its total matches the venue's.
    expect(found).toEqual([])
  })

  test('a fill missing at the venue is still a break when its order was read by id', async () => {
    const resting = order('old', 10)
    const recent = order('new', 900_000)
    const fills = [fill('old', 20, 2n), fill('new', 900_010, 3n)]
    const adapter = { venue: 'sim', trades: async () => ({ kind: 'ok' as const, value: [tradeOf(fills[1]!)] }) } as unknown as VenueAdapter
    const found = await venueTrades({
      adapter, ledger: initialLedger(), accountId: 'acct-a', orders: [resting, recent], nowMs: 1_000, covered: new Set(),
      fillsFrom: (fromLsn) => fills.filter((booked) => booked.lsn >= fromLsn),
      fillsOfOrder: (orderId) => fills.filter((booked) => booked.orderId === orderId),
    })
    expect(Array.isArray(found) && found.map((observation) => observation.key).sort()).toEqual(['venue_trades:sim:order:old', 'venue_trades:sim:x-20'])
  })
})
