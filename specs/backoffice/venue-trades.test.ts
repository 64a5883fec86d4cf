import { describe, expect, test } from 'bun:test'
import { CoveredKeys } from '../../src/backoffice/covered-keys.ts'
import type { FillPage } from '../../src/backoffice/external-checks.ts'
import { initialLedger, type FillRecord, type LedgerState } from '../../src/backoffice/ledger-state.ts'
import type { TrackedOrder } from '../../src/backoffice/orders.ts'
import { FILL_PAGE_ROWS, ORDER_READ_COST_RECORDS, ORDER_READS_MAX, STORE_WAITS_MAX, splitFillReads, venueTrades } from '../../src/backoffice/venue-trades.ts'
import { venueClientOrderId } from '../../src/domain/orders.ts'
import { unslicedWork, WorkSlices } from '../../src/runtime/work-slices.ts'
import type { VenueAdapter, VenueTrade } from '../../src/venues/adapter.ts'

/** `cumQty`: what the ledger booked (the sum of its fills' quantities). */
function order(orderId: string, acceptedLsn: number, cumQty = 0n): TrackedOrder {
  return {
    orderId, acceptedLsn, accountId: 'acct-a', venue: 'sim', symbol: 'BTC-USD', baseAsset: 'BTC', quoteAsset: 'USD', side: 'buy',
    qty: 10n, cumQty, status: 'AckedOpen', clientId: venueClientOrderId(orderId), reservationAsset: 'USD', reservationTotal: 0n, held: 0n, amend: null, bootstrapSuspect: false, updatedAtMs: 0,
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
    execId: booked.execId, clientOrderId: venueClientOrderId(booked.orderId), venueOrderId: `v-${booked.orderId}`, account: 'acct-a', symbol: 'BTC-USD',
    side: 'buy', qty: booked.qty, price: booked.price, fee: booked.fee, feeAsset: 'USD', liquidity: 'maker', venueTimeMs: booked.venueTimeMs,
  }
}

/** A ledger that has folded through `lastLsn` (the fills read stop there) and holds `orders`. */
function ledgerAt(lastLsn: number, orders: readonly TrackedOrder[]): LedgerState {
  const ledger = { ...initialLedger(), lastLsn }
  for (const held of orders) ledger.orders.set(held.orderId, held)
  return ledger
}

/** The query model's range read over `fills`, a page as the store answers it. */
function pageOf(fills: readonly FillRecord[], page: FillPage): FillRecord[] {
  return fills
    .filter((booked) => booked.lsn >= page.fromLsn && booked.lsn <= page.toLsn && (page.afterLsn === undefined || booked.lsn > page.afterLsn))
    .sort((a, b) => a.lsn - b.lsn)
    .slice(0, page.limit)
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
      adapter, ledger: ledgerAt(1_000_000, [recent, resting]), accountId: 'acct-a', orders: [recent, resting], nowMs: 1_000, covered: new CoveredKeys(), slices: unslicedWork(),
      fillsFrom: (page) => (ranges.push(page.fromLsn), pageOf(fills, page)),
      fillsStoredThrough: () => true, fillsOfOrder: (orderId) => (byId.push(orderId), fills.filter((booked) => booked.orderId === orderId)),
    })
    expect(ranges).toEqual([900_000])
    expect(byId).toEqual(['old'])
    // The old order's later fill came back from both reads; counted once, its total matches the venue's.
    expect(found).toEqual([])
  })

  test('a fill missing at the venue is still a break when its order was read by id', async () => {
    const resting = order('old', 10, 2n)
    const recent = order('new', 900_000)
    const fills = [fill('old', 20, 2n), fill('new', 900_010, 3n)]
    const adapter = { venue: 'sim', trades: async () => ({ kind: 'ok' as const, value: [tradeOf(fills[1]!)] }) } as unknown as VenueAdapter
    const found = await venueTrades({
      adapter, ledger: ledgerAt(1_000_000, [resting, recent]), accountId: 'acct-a', orders: [resting, recent], nowMs: 1_000, covered: new CoveredKeys(), slices: unslicedWork(),
      fillsFrom: (page) => pageOf(fills, page),
      fillsStoredThrough: () => true, fillsOfOrder: (orderId) => fills.filter((booked) => booked.orderId === orderId),
    })
    expect(Array.isArray(found) && found.map((observation) => observation.key).sort()).toEqual(['venue_trades:sim:order:old', 'venue_trades:sim:x-20'])
  })

  test('the trades the ledger lacks are passed on only for an order whose venue trades add up to more than it booked', async () => {
    // 'short': booked 2 of the venue's 2 + 3; 'even': booked 4 under another exec id than the venue's trade of 4.
    const short = order('short', 10, 2n)
    const even = order('even', 11, 4n)
    const fills = [fill('short', 20, 2n), fill('even', 21, 4n)]
    const trades = [tradeOf(fills[0]!), { ...tradeOf(fill('short', 30, 3n)), venueTimeMs: 900 }, tradeOf(fill('even', 31, 4n))]
    const adapter = { venue: 'sim', trades: async () => ({ kind: 'ok' as const, value: trades }) } as unknown as VenueAdapter
    const lacking: string[] = []
    await venueTrades({
      adapter, ledger: ledgerAt(1_000, [short, even]), accountId: 'acct-a', orders: [short, even], nowMs: 1_000, covered: new CoveredKeys(), slices: unslicedWork(),
      fillsFrom: (page) => pageOf(fills, page),
      fillsStoredThrough: () => true, fillsOfOrder: (orderId) => fills.filter((booked) => booked.orderId === orderId),
      onLacking: (trade) => void lacking.push(trade.execId),
    })
    expect(lacking).toEqual(['x-30'])
  })

  test('a trade whose fee was charged in another asset than the fill booked is a break', async () => {
    const held = order('fee', 10, 2n)
    const fills = [{ ...fill('fee', 20, 2n), fee: 5n }]
    const trade = { ...tradeOf(fills[0] as FillRecord), feeAsset: 'BTC' }
    const adapter = { venue: 'sim', trades: async () => ({ kind: 'ok' as const, value: [trade] }) } as unknown as VenueAdapter
    const found = await venueTrades({
      adapter, ledger: ledgerAt(1_000, [held]), accountId: 'acct-a', orders: [held], nowMs: 1_000, covered: new CoveredKeys(), slices: unslicedWork(),
      fillsFrom: (page) => pageOf(fills, page),
      fillsStoredThrough: () => true, fillsOfOrder: (orderId) => fills.filter((booked) => booked.orderId === orderId),
    })
    expect(Array.isArray(found) && found.map((observation) => [observation.key, observation.expected, observation.actual])).toEqual([
      ['venue_trades:sim:x-20', 'buy 0.00000002 @ 0.000001 fee 0.00000005 USD', 'buy 0.00000002 @ 0.000001 fee 0.00000005 BTC'],
    ])
  })

  test('a venue trade of the other side under the fill’s exec id is a break (the quantities agree, so only its side tells)', async () => {
    // Before, side was not compared: the trade matched the fill, the order's filled quantity agreed, and nothing broke.
    const held = order('side', 10, 2n)
    const fills = [fill('side', 20, 2n)]
    const trade: VenueTrade = { ...tradeOf(fills[0] as FillRecord), side: 'sell' }
    const adapter = { venue: 'sim', trades: async () => ({ kind: 'ok' as const, value: [trade] }) } as unknown as VenueAdapter
    const found = await venueTrades({
      adapter, ledger: ledgerAt(1_000, [held]), accountId: 'acct-a', orders: [held], nowMs: 1_000, covered: new CoveredKeys(), slices: unslicedWork(),
      fillsFrom: (page) => pageOf(fills, page),
      fillsStoredThrough: () => true, fillsOfOrder: (orderId) => fills.filter((booked) => booked.orderId === orderId),
    })
    expect(Array.isArray(found) && found.map((observation) => [observation.key, observation.expected, observation.actual])).toEqual([
      ['venue_trades:sim:x-20', 'buy 0.00000002 @ 0.000001 fee 0 USD', 'sell 0.00000002 @ 0.000001 fee 0 USD'],
    ])
  })

  test('an order with no fill booked and no venue trade is in the window but not read; a venue trade of one is compared', async () => {
    const unfilled = Array.from({ length: 50 }, (_, index) => order(`u${index}`, 10 + index))
    const surprise = order('s', 500)
    const trade = tradeOf(fill('s', 600, 1n))
    const adapter = { venue: 'sim', trades: async () => ({ kind: 'ok' as const, value: [trade] }) } as unknown as VenueAdapter
    const covered = new CoveredKeys()
    const ranges: number[] = []
    const input = {
      adapter, accountId: 'acct-a', nowMs: 1_000, covered, slices: unslicedWork(), fillsStoredThrough: () => true, fillsOfOrder: () => [],
      fillsFrom: (page: FillPage) => (ranges.push(page.fromLsn), []),
    }
    expect(await venueTrades({ ...input, adapter: { ...adapter, trades: async () => ({ kind: 'ok' as const, value: [] }) }, ledger: ledgerAt(1_000, unfilled), orders: unfilled })).toEqual([])
    expect(ranges).toEqual([]) // nothing to read
    expect(unfilled.every((placed) => covered.has(`venue_trades:sim:order:${placed.orderId}`))).toBe(true)
    expect(covered.has('venue_trades:sim:order:elsewhere')).toBe(false)
    // The venue traded an order the ledger booked nothing for: compared, and a break.
    const found = await venueTrades({ ...input, ledger: ledgerAt(1_000, [...unfilled, surprise]), orders: [...unfilled, surprise] })
    expect(ranges).toEqual([500])
    expect(Array.isArray(found) && found.map((observation) => observation.key)).toEqual(['venue_trades:sim:order:s'])
    expect(covered.has(`venue_trades:sim:${trade.execId}`)).toBe(true)
  })

  test('the range is read a page at a time, with a pause after each full page, and every fill counts', async () => {
    const orders = Array.from({ length: 2 * FILL_PAGE_ROWS + 500 }, (_, index) => order(`o${index}`, 10 + 2 * index))
    const fills = orders.map((placed) => fill(placed.orderId, placed.acceptedLsn + 1, 1n))
    const adapter = { venue: 'sim', trades: async () => ({ kind: 'ok' as const, value: fills.map(tradeOf) }) } as unknown as VenueAdapter
    const pages: FillPage[] = []
    let pauses = 0
    const slices = new WorkSlices({ sliceMs: Number.POSITIVE_INFINITY, pause: async () => void pauses++ })
    const found = await venueTrades({
      adapter, ledger: ledgerAt(1_000_000, orders), accountId: 'acct-a', orders, nowMs: 1_000, covered: new CoveredKeys(), slices,
      fillsFrom: (page) => (pages.push(page), pageOf(fills, page)),
      fillsStoredThrough: () => true, fillsOfOrder: () => [],
    })
    expect(found).toEqual([])
    expect(pages.map((page) => page.afterLsn)).toEqual([undefined, fills[FILL_PAGE_ROWS - 1]!.lsn, fills[2 * FILL_PAGE_ROWS - 1]!.lsn])
    expect(pages.every((page) => page.fromLsn === 10 && page.toLsn === 1_000_000 && page.limit === FILL_PAGE_ROWS)).toBe(true)
    expect(pauses).toBe(2)
  })

  test('a page exactly full is followed by an empty one, not taken for the end', async () => {
    const orders = Array.from({ length: FILL_PAGE_ROWS }, (_, index) => order(`o${index}`, 10 + 2 * index))
    const fills = orders.map((placed) => fill(placed.orderId, placed.acceptedLsn + 1, 1n))
    const adapter = { venue: 'sim', trades: async () => ({ kind: 'ok' as const, value: fills.map(tradeOf) }) } as unknown as VenueAdapter
    let reads = 0
    const found = await venueTrades({
      adapter, ledger: ledgerAt(1_000_000, orders), accountId: 'acct-a', orders, nowMs: 1_000, covered: new CoveredKeys(), slices: unslicedWork(),
      fillsFrom: (page) => (reads++, pageOf(fills, page)),
      fillsStoredThrough: () => true, fillsOfOrder: () => [],
    })
    expect(found).toEqual([])
    expect(reads).toBe(2)
  })

  test('fills are read as the ledger stood when the venue answered: one booked later is not compared', async () => {
    const placed = order('a', 10)
    const early = fill('a', 20, 2n)
    const late = fill('a', 150, 1n)
    const adapter = { venue: 'sim', trades: async () => ({ kind: 'ok' as const, value: [tradeOf(early)] }) } as unknown as VenueAdapter
    const input = { adapter, accountId: 'acct-a', orders: [placed], nowMs: 1_000, slices: unslicedWork(), fillsFrom: (page: FillPage) => pageOf([early, late], page), fillsStoredThrough: () => true, fillsOfOrder: () => [] }
    // Folded through 100 when the answer came: the fill at 150 was booked after it, so nothing differs.
    expect(await venueTrades({ ...input, ledger: ledgerAt(100, [placed]), covered: new CoveredKeys() })).toEqual([])
    // Folded through 200: the fill at 150 has no trade at the venue, and the order's totals differ.
    const found = await venueTrades({ ...input, ledger: ledgerAt(200, [placed]), covered: new CoveredKeys() })
    expect(Array.isArray(found) && found.map((observation) => observation.key).sort()).toEqual(['venue_trades:sim:order:a', 'venue_trades:sim:x-150'])
  })

  test('a walk paused after every item finds the same breaks, and looks at the same keys, as one stretch', async () => {
    const orders = Array.from({ length: 300 }, (_, index) => order(`o${index}`, 10 + 2 * index))
    const fills = orders.map((placed, index) => fill(placed.orderId, placed.acceptedLsn + 1, index % 7 === 0 ? 2n : 1n))
    // The venue misses every 11th trade and knows one order egress never placed.
    const trades = fills.filter((_, index) => index % 11 !== 0).map(tradeOf)
    trades.push({ ...tradeOf(fill('foreign', 5_000, 1n)), clientOrderId: 'c-foreign' })
    const adapter = { venue: 'sim', trades: async () => ({ kind: 'ok' as const, value: trades }) } as unknown as VenueAdapter
    const check = async (slices: WorkSlices): Promise<{ keys: string[]; covered: string[] }> => {
      const covered = new CoveredKeys()
      const found = await venueTrades({ adapter, ledger: ledgerAt(1_000_000, orders), accountId: 'acct-a', orders: [...orders], nowMs: 1_000, covered, slices, fillsFrom: (page) => pageOf(fills, page), fillsStoredThrough: () => true, fillsOfOrder: () => [] })
      if (!Array.isArray(found)) throw new Error(found)
      return { keys: found.map((observation) => observation.key).sort(), covered: [...covered].sort() }
    }
    let pauses = 0
    let tick = 0
    const whole = await check(unslicedWork())
    const sliced = await check(new WorkSlices({ sliceMs: 1, itemsPerClockCheck: 1, nowMs: () => tick++, pause: async () => void pauses++ }))
    expect(whole.keys.length).toBeGreaterThan(20)
    expect(sliced).toEqual(whole)
    expect(pauses).toBeGreaterThanOrEqual(orders.length + trades.length)
  })

  test('an order the ledger retires during a pause is not compared', async () => {
    const kept = order('kept', 10)
    const retired = order('gone', 20)
    const fills = [fill('kept', 11, 1n), fill('gone', 21, 1n)]
    // The venue has forgotten the retired order's trade: compared, it would be a break.
    const adapter = { venue: 'sim', trades: async () => ({ kind: 'ok' as const, value: [tradeOf(fills[0]!)] }) } as unknown as VenueAdapter
    const ledger = ledgerAt(1_000, [kept, retired])
    let tick = 0
    const slices = new WorkSlices({ sliceMs: 1, itemsPerClockCheck: 1, nowMs: () => tick++, pause: async () => void ledger.orders.delete('gone') })
    const found = await venueTrades({ adapter, ledger, accountId: 'acct-a', orders: [kept, retired], nowMs: 1_000, covered: new CoveredKeys(), slices, fillsFrom: (page) => pageOf(fills, page), fillsStoredThrough: () => true, fillsOfOrder: () => [] })
    expect(found).toEqual([])
  })

  test('fills are read only once the query model holds them through the ledger\'s LSN: the check waits for it, then skips', async () => {
    const placed = order('a', 10)
    const booked = [fill('a', 20, 2n), fill('a', 90, 1n)]
    const adapter = { venue: 'sim', trades: async () => ({ kind: 'ok' as const, value: booked.map(tradeOf) }) } as unknown as VenueAdapter
    // The query model has written through LSN 50 only; fill 90 reaches it after `catchUpAfter` pauses.
    const run = async (catchUpAfter: number): Promise<{ found: Awaited<ReturnType<typeof venueTrades>>; pauses: number; reads: number }> => {
      let storedLsn = 50
      let pauses = 0
      let reads = 0
      const slices = new WorkSlices({ sliceMs: Number.POSITIVE_INFINITY, pause: async () => void (++pauses >= catchUpAfter && (storedLsn = 100)) })
      const found = await venueTrades({
        adapter, ledger: ledgerAt(100, [placed]), accountId: 'acct-a', orders: [placed], nowMs: 1_000, covered: new CoveredKeys(), slices,
        fillsStoredThrough: (lsn) => storedLsn >= lsn,
        fillsFrom: (page) => (reads++, pageOf(booked, { ...page, toLsn: Math.min(page.toLsn, storedLsn) })),
        fillsOfOrder: () => [],
      })
      return { found, pauses, reads }
    }
    // Caught up after two pauses: nothing differs (read early, fill 90 would have been a false break).
    expect(await run(2)).toEqual({ found: [], pauses: 2, reads: 1 })
    // Never caught up: the check is skipped with the reason, and nothing was read or compared.
    const behind = await run(Number.POSITIVE_INFINITY)
    expect(behind.found).toBe(`trades: the query model did not store the fills through LSN 100 within ${STORE_WAITS_MAX} pauses`)
    expect(behind.pauses).toBe(STORE_WAITS_MAX)
    expect(behind.reads).toBe(0)
  })
})
