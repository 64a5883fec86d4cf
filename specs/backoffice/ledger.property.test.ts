import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import type { DomainEvent } from '../../src/domain/events/index.ts'
import { accountBook, applyEvent, initialLedger, positionKey, trialBalance, venueBook, type FillRecord } from '../../src/backoffice/index.ts'
import { ACCOUNT, accepted, canceled, fill, funded } from './events.ts'
import { formatDecimal } from '../../src/domain/decimal.ts'

const SYMBOLS = [
  { symbol: 'BTC-USD', base: 'BTC' },
  { symbol: 'ETH-USD', base: 'ETH' },
] as const

/** One order: an instrument, a side, its fills (quantity in lots of 0.001, price in cents, fee in cents). */
const orderArb = fc.record({
  instrument: fc.constantFrom(...SYMBOLS),
  side: fc.constantFrom('buy' as const, 'sell' as const),
  fills: fc.array(fc.record({ lots: fc.integer({ min: 1, max: 5_000 }), cents: fc.integer({ min: 1, max: 10_000_000 }), feeCents: fc.integer({ min: -50, max: 500 }) }), { minLength: 1, maxLength: 4 }),
  extraLots: fc.integer({ min: 0, max: 3 }),
  cancel: fc.boolean(),
})

const lots = (n: number): string => formatDecimal(BigInt(n) * 100_000n)
const cents = (n: number): string => formatDecimal(BigInt(n) * 1_000_000n)

type RandomOrder = typeof orderArb extends fc.Arbitrary<infer T> ? T : never

function eventsFor(orders: RandomOrder[]): DomainEvent[] {
  const events: DomainEvent[] = [funded('USD', '1000000000'), funded('BTC', '1000'), funded('ETH', '1000')]
  orders.forEach((order, index) => {
    const orderId = `o${index}`
    const totalLots = order.fills.reduce((sum, piece) => sum + piece.lots, 0) + order.extraLots
    const maxCents = Math.max(...order.fills.map((piece) => piece.cents))
    const reservation = order.side === 'buy' ? formatDecimal(BigInt(totalLots) * 100_000n * BigInt(maxCents) / 100n * 2n) : lots(totalLots)
    events.push(accepted({ orderId, side: order.side, qty: lots(totalLots), price: cents(maxCents), symbol: order.instrument.symbol, base: order.instrument.base, reservation }))
    let cum = 0
    order.fills.forEach((piece, pieceIndex) => {
      cum += piece.lots
      events.push(fill(orderId, { execId: `${orderId}-x${pieceIndex}`, qty: lots(piece.lots), price: cents(piece.cents), cumQty: lots(cum), fee: cents(piece.feeCents) }))
    })
    if (order.cancel && order.extraLots > 0) events.push(canceled(orderId))
  })
  return events
}

describe('ledger properties over random fill sequences', () => {
  test('every asset balances across the books, and positions equal the sum of their fills', () => {
    // size 'max': fast-check's default size ('small') generates at most about 10 elements, whatever maxLength says.
    fc.assert(
      fc.property(fc.array(orderArb, { minLength: 1, maxLength: 25, size: 'max' }), (orders) => {
        const state = initialLedger()
        const fills: FillRecord[] = []
        eventsFor(orders).forEach((event, index) => {
          const booked = applyEvent(state, event, index + 1)
          if (booked.fill !== null) fills.push(booked.fill)
          for (const [asset, sum] of trialBalance(state)) if (sum !== 0n) throw new Error(`${asset} off by ${sum} at LSN ${index + 1}`)
        })
        for (const { symbol, base } of SYMBOLS) {
          const mine = fills.filter((record) => record.symbol === symbol)
          const position = state.positions.get(positionKey(ACCOUNT, 'sim', symbol))
          const net = mine.reduce((sum, record) => sum + (record.side === 'buy' ? record.qty : -record.qty), 0n)
          const cash = mine.reduce((sum, record) => sum + record.cash, 0n)
          expect(position?.netQty ?? 0n).toBe(net)
          // realized − basis = Σ cash, exactly; flat means no basis left.
          expect((position?.realizedPnl ?? 0n) - (position?.costBasis ?? 0n)).toBe(cash)
          if (net === 0n) expect(position?.costBasis ?? 0n).toBe(0n)
          expect(state.books.get(accountBook(ACCOUNT))?.get(base)).toBe(1000n * 100_000_000n + net)
          expect(state.books.get(venueBook('sim'))?.get(base) ?? 0n).toBe(-net)
        }
        const cash = fills.reduce((sum, record) => sum + record.cash - record.fee, 0n)
        expect(state.books.get(accountBook(ACCOUNT))?.get('USD')).toBe(1_000_000_000n * 100_000_000n + cash)
        for (const assets of state.reserved.values()) for (const held of assets.values()) expect(held >= 0n).toBe(true)
      }),
      { numRuns: 300 },
    )
  })

  test('replaying the same events from scratch gives the same books and positions', () => {
    fc.assert(
      fc.property(fc.array(orderArb, { minLength: 1, maxLength: 10, size: 'max' }), (orders) => {
        const events = eventsFor(orders)
        const once = initialLedger()
        const twice = initialLedger()
        events.forEach((event, index) => applyEvent(once, event, index + 1))
        events.forEach((event, index) => applyEvent(twice, event, index + 1))
        expect(twice.books).toEqual(once.books)
        expect(twice.positions).toEqual(once.positions)
        expect(twice.reserved).toEqual(once.reserved)
      }),
      { numRuns: 50 },
    )
  })
})

