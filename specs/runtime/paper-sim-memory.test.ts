// simMemoryOf (src/runtime/paper-sim-memory.ts): what the paper sim resumes from, rebuilt from egress's state. Which
// Unknown orders it holds, and the trades of an order a synthetic fill covered (paper-sim-trades.ts). The serve
// restarts behind these are specs/cli/paper-sim-resume-unknown.test.ts and paper-sim-resume-true-up.test.ts. What the
// ledger keeps of the venue (src/backoffice/venue-facts.ts): how an Unknown order had ended, when the venue took an
// order, the client id of each trade; and the synthetic quantity pending, given back as unreported trades.
import { describe, expect, test } from 'bun:test'
import { initialLedger, type FillRecord, type TrackedOrder } from '../../src/backoffice/index.ts'
import { parseDecimal as d } from '../../src/domain/decimal.ts'
import type { Order } from '../../src/domain/orders.ts'
import { SmallSet } from '../../src/domain/small-set.ts'
import type { KernelState } from '../../src/kernel/index.ts'
import { simMemoryOf, type SimMemorySources } from '../../src/runtime/paper-sim-memory.ts'

const NOW_MS = 1_800_000_000_000
const HISTORY_MS = 300_000

function order(orderId: string, overrides: Partial<Order>): Order {
  return {
    orderId, accountId: 'demo-1', idempotencyKey: orderId, clientOrderId: null, venue: 'sim', symbol: 'BTC-USD',
    baseAsset: 'BTC', quoteAsset: 'USD', side: 'buy', type: 'limit', qty: d('0.02'), price: d('59000'), worstPrice: null, tif: 'GTC',
    postOnly: false, reduceOnly: false, lane: 1, venueClientOrderId: `eg-${orderId}`, status: 'AckedOpen',
    cumQty: 0n, cumNotional: 0n, cumNotionalRemainder: 0n, reservation: { asset: 'USD', total: d('1200'), remaining: d('1200') }, venueOrderId: `sim-${orderId}`,
    sendAttempts: 1, lastSendAtMs: NOW_MS - 10_000, cancelWanted: false, cancelAttempts: 0, notAtVenue: false, notBeforeMs: 0,
    execIds: new SmallSet<string>(), acceptedAtMs: NOW_MS - 10_000, updatedAtMs: NOW_MS - 5_000, unknownSinceMs: null,
    lastReason: null, flattenId: null, clientIdChain: [`eg-${orderId}`], amendCount: 0, amend: null, syntheticCumQty: 0n,
    syntheticPendingQty: 0n, syntheticPendingCash: 0n, syntheticPendingNotional: 0n, syntheticHeldQty: 0n, syntheticHeldCash: 0n, overfillCumQty: null,
    overfillRecheckMs: 0, bootstrapSuspect: false, limitLoosest: null, syntheticDeclinedCumQty: null, expiresAtMs: null, protectionPrice: null, syntheticFeeHeld: 0n,
    ...overrides,
  }
}

function fill(orderId: string, execId: string, overrides: Partial<FillRecord>): FillRecord {
  return {
    lsn: 10, execId, orderId, accountId: 'demo-1', venue: 'sim', symbol: 'BTC-USD', side: 'buy', qty: d('0.01'),
    price: d('59000'), fee: 0n, feeAsset: 'USD', liquidity: 'maker', synthetic: false, cash: -d('590'),
    venueTimeMs: NOW_MS - 6_000, atMs: NOW_MS - 6_000, ...overrides,
  }
}

function sources(orders: Order[], extra: Partial<SimMemorySources> = {}): SimMemorySources {
  return {
    state: { orders: new Map(orders.map((held) => [held.orderId, held])) } as unknown as KernelState,
    ledger: initialLedger(),
    fillsOf: () => [],
    trueUpTimesOf: () => new Map(),
    venue: 'sim',
    session: 's',
    historyFromMs: NOW_MS - HISTORY_MS,
    ...extra,
  }
}

describe('simMemoryOf and Unknown orders', () => {
  test('an acked Unknown order rests as the log last saw it; filled in full, it ended filled; never acked or ended before, it is not held', () => {
    const memory = simMemoryOf(sources([
      order('u-open', { status: 'Unknown', cumQty: d('0.01') }),
      order('u-filled', { status: 'Unknown', cumQty: d('0.02') }),
      order('u-old', { status: 'Unknown', cumQty: d('0.02'), updatedAtMs: NOW_MS - HISTORY_MS - 1 }),
      order('u-unacked', { status: 'Unknown', venueOrderId: null }),
      // Ended (its hold released) before venue news contradicting that made it Unknown: how it ended is lost.
      order('u-was-ended', { status: 'Unknown', reservation: { asset: 'USD', total: d('1200'), remaining: 0n } }),
      order('failed', { status: 'Failed' }),
    ]))
    expect(memory.orders.map((held) => [held.venueOrderId, held.cumQty])).toEqual([['sim-u-open', d('0.01')]])
    expect(memory.ended.map((held) => [held.venueOrderId, held.status, held.endedAtMs])).toEqual([['sim-u-filled', 'filled', NOW_MS - 5_000]])
  })

  test('an order that ended partly filled and then went Unknown is off the book, but its trades stay in the history', () => {
    // Canceled after one fill of 0.01 (its hold released), then venue news contradicting the cancel made it Unknown.
    const wasEnded = order('u-was-ended', { status: 'Unknown', cumQty: d('0.01'), reservation: { asset: 'USD', total: d('1200'), remaining: 0n } })
    const old = order('u-old-ended', { status: 'Unknown', cumQty: d('0.01'), reservation: { asset: 'USD', total: d('1200'), remaining: 0n }, updatedAtMs: NOW_MS - HISTORY_MS - 1 })
    const fills = new Map([
      ['u-was-ended', [fill('u-was-ended', 'x-ended', {})]],
      ['u-old-ended', [fill('u-old-ended', 'x-old', { venueTimeMs: NOW_MS - HISTORY_MS - 2 })]],
    ])
    const memory = simMemoryOf(sources([wasEnded, old], { fillsOf: (orderId) => fills.get(orderId) ?? [] }))
    expect(memory.orders).toEqual([])
    expect(memory.ended).toEqual([])
    // Only the fill the log holds, as the venue reported it; one before the venue's trade history is not kept.
    expect(memory.trades.map((trade) => [trade.execId, trade.venueOrderId, trade.clientOrderId, trade.qty, trade.price, trade.venueTimeMs])).toEqual([
      ['x-ended', 'sim-u-was-ended', 'eg-u-was-ended', d('0.01'), d('59000'), NOW_MS - 6_000],
    ])
  })
})

describe('simMemoryOf and covered trades', () => {
  test('a trade covered in part is its covered part plus the rest its execId booked; one covered whole is timed by its true-up', () => {
    const held = order('o1', { status: 'Filled', cumQty: d('0.02') })
    const ledger = initialLedger()
    ledger.endedOrders.set('o1', NOW_MS - 5_000)
    const covered = (execId: string, coveredQty: string) => ({ lsn: 12, execId, coveredQty: d(coveredQty), price: d('58990'), fee: d('0.1'), feeAsset: 'USD', liquidity: 'maker' as const })
    ledger.orders.set('o1', { coveredFills: [covered('x-whole', '0.005'), covered('x-part', '0.005'), covered('x-untimed', '0.005')] } as unknown as TrackedOrder)
    const fills = [
      fill('o1', 'reconcile:o1:0.015', { synthetic: true, qty: d('0.015'), venueTimeMs: NOW_MS - 5_500 }),
      fill('o1', 'x-part', { qty: d('0.005'), price: d('58990'), venueTimeMs: NOW_MS - 5_200 }),
    ]
    const memory = simMemoryOf(sources([held], { ledger, fillsOf: () => fills, trueUpTimesOf: () => new Map([['x-whole', NOW_MS - 7_000]]) }))
    expect(memory.ended.map((ended) => ended.venueOrderId)).toEqual(['sim-o1'])
    expect(memory.trades.map((trade) => [trade.execId, trade.qty, trade.price, trade.fee, trade.venueTimeMs])).toEqual([
      ['x-whole', d('0.005'), d('58990'), d('0.1'), NOW_MS - 7_000],
      ['x-part', d('0.01'), d('58990'), d('0.1'), NOW_MS - 5_200],
      // No true-up fill to time it (a query model upgraded in place): the order's latest fill time.
      ['x-untimed', d('0.005'), d('58990'), d('0.1'), NOW_MS - 5_200],
    ])
    expect(memory.trades.every((trade) => trade.venueOrderId === 'sim-o1' && trade.liquidity === 'maker')).toBe(true)
  })
})

describe('simMemoryOf and the venue facts of the ledger', () => {
  test('an order that ended and then went Unknown is held ended as the ledger says it had ended; without that, not held', () => {
    const ended = (orderId: string) => order(orderId, { status: 'Unknown', cumQty: d('0.01'), reservation: { asset: 'USD', total: d('1200'), remaining: 0n } })
    const ledger = initialLedger()
    ledger.orders.set('u-expired', { endedAs: { status: 'Expired', atMs: NOW_MS - 7_000 } } as unknown as TrackedOrder)
    ledger.orders.set('u-canceled-long-ago', { endedAs: { status: 'Canceled', atMs: NOW_MS - HISTORY_MS - 1 } } as unknown as TrackedOrder)
    const fills = new Map([['u-expired', [fill('u-expired', 'x-expired', { venueTimeMs: NOW_MS - 8_000 })]]])
    const memory = simMemoryOf(sources([ended('u-expired'), ended('u-canceled-long-ago'), ended('u-unsaid')], { ledger, fillsOf: (orderId) => fills.get(orderId) ?? [] }))
    expect(memory.orders).toEqual([])
    expect(memory.ended.map((held) => [held.venueOrderId, held.status, held.endedAtMs, held.cumQty])).toEqual([['sim-u-expired', 'expired', NOW_MS - 7_000, d('0.01')]])
    expect(memory.trades.map((trade) => trade.execId)).toEqual(['x-expired'])
  })

  test('an order is created when the venue took it (its new report), else at its last send, else at its acceptance', () => {
    const ledger = initialLedger()
    ledger.orders.set('o-reported', { venueAcceptedAtMs: NOW_MS - 9_990 } as unknown as TrackedOrder)
    const memory = simMemoryOf(sources([
      order('o-reported', { tif: 'DAY', lastSendAtMs: NOW_MS - 9_995 }),
      order('o-sent', { tif: 'DAY', lastSendAtMs: NOW_MS - 9_995 }),
      order('o-never-sent', { tif: 'DAY', lastSendAtMs: null }),
    ], { ledger }))
    expect(memory.orders.map((held) => [held.venueOrderId, held.createdAtMs])).toEqual([
      ['sim-o-reported', NOW_MS - 9_990],
      ['sim-o-sent', NOW_MS - 9_995],
      ['sim-o-never-sent', NOW_MS - 10_000],
    ])
  })

  test('a trade carries the client id the venue executed it under: before the amend the order’s own, after it the amend’s', () => {
    const held = order('o1', { status: 'Partial', cumQty: d('0.015'), clientIdChain: ['eg-o1', 'eg-o1.a1'], amendCount: 1 })
    const ledger = initialLedger()
    ledger.orders.set('o1', { renamedReports: [{ execId: 'x-replaced', clientOrderId: 'eg-o1.a1', venueTimeMs: NOW_MS - 6_000 }, { execId: 'x-after', clientOrderId: 'eg-o1.a1', venueTimeMs: NOW_MS - 5_000 }] } as unknown as TrackedOrder)
    const fills = [
      fill('o1', 'x-before', { qty: d('0.005'), venueTimeMs: NOW_MS - 7_000 }),
      fill('o1', 'x-after', { qty: d('0.005'), venueTimeMs: NOW_MS - 5_000 }),
      // Read back from the venue's trade list, no report of its own: the id in force at its time.
      fill('o1', 'x-read-back', { qty: d('0.005'), venueTimeMs: NOW_MS - 4_000 }),
    ]
    const memory = simMemoryOf(sources([held], { ledger, fillsOf: () => fills }))
    expect(memory.trades.map((trade) => [trade.execId, trade.clientOrderId])).toEqual([
      ['x-before', 'eg-o1'],
      ['x-after', 'eg-o1.a1'],
      ['x-read-back', 'eg-o1.a1'],
    ])
  })

  test('the synthetic quantity pending is given as unreported trades, the latest synthetic fills’ share, at their figures', () => {
    // Two synthetic fills (0.01 at 59000, then 0.005 at 59050); a real fill covered 0.007 of them: 0.008 is pending.
    const held = order('o1', { status: 'Filled', cumQty: d('0.02'), qty: d('0.02'), syntheticPendingQty: d('0.008') })
    const ledger = initialLedger()
    ledger.endedOrders.set('o1', NOW_MS - 1_000)
    const fills = [
      fill('o1', 'reconcile:o1:0.01', { lsn: 10, synthetic: true, qty: d('0.01'), venueTimeMs: NOW_MS - 3_000, liquidity: null }),
      fill('o1', 'reconcile:o1:0.015', { lsn: 20, synthetic: true, qty: d('0.005'), price: d('59050'), venueTimeMs: NOW_MS - 2_000, liquidity: null }),
      fill('o1', 'x-real', { lsn: 30, qty: d('0.005'), venueTimeMs: NOW_MS - 2_500 }),
    ]
    const memory = simMemoryOf(sources([held], { ledger, fillsOf: () => fills }))
    expect(memory.trades.map((trade) => trade.execId)).toEqual(['x-real'])
    expect(memory.unreported.map((trade) => [trade.venueOrderId, trade.clientOrderId, trade.qty, trade.price, trade.fee, trade.venueTimeMs])).toEqual([
      ['sim-o1', 'eg-o1', d('0.003'), d('59000'), 0n, NOW_MS - 3_000],
      ['sim-o1', 'eg-o1', d('0.005'), d('59050'), 0n, NOW_MS - 2_000],
    ])
  })
})
