/**
 * What README's "Ledger arithmetic" says about a fill split in parts, pinned: each part's cash leg is qty × price
 * rounded against the account (a buy up, a sell down), so N parts of one order pay at most N − 1 units more (a buy)
 * or receive at most N − 1 units less (a sell) than one fill of the whole, never the other way; the fee booked is
 * exactly the sum of the fees reported, whatever their sign; and the position's realized PnL − cost basis is the sum
 * of the booked cash legs, its fees the sum of the fees.
 */

import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { accountBook, applyEvent, initialLedger, positionKey } from '../../src/backoffice/index.ts'
import { formatDecimal, mulUnits } from '../../src/domain/decimal.ts'
import { ACCOUNT, accepted, fill, funded } from './events.ts'

/** An order of `parts` fills: quantities in 1e-8 units, a price with up to 8 decimals, fees in units (some rebates). */
const splitArb = fc.record({
  side: fc.constantFrom('buy' as const, 'sell' as const),
  parts: fc.array(fc.record({ qtyUnits: fc.bigInt({ min: 1n, max: 10_000_000n }), feeUnits: fc.bigInt({ min: -5_000n, max: 50_000n }) }), { minLength: 1, maxLength: 12 }),
  priceUnits: fc.bigInt({ min: 1n, max: 10_000_000_000_000n }),
})

describe('a fill split in parts', () => {
  test('costs at most N − 1 units more in cash than one fill of the whole (never less), and exactly the fees reported', () => {
    fc.assert(
      fc.property(splitArb, ({ side, parts, priceUnits }) => {
        const ledger = initialLedger()
        const qty = parts.reduce((sum, part) => sum + part.qtyUnits, 0n)
        const price = formatDecimal(priceUnits)
        const events = [funded('USD', '100000000000'), funded('BTC', '100000'), accepted({ orderId: 'o1', side, qty: formatDecimal(qty), price, reservation: side === 'buy' ? '100000000000' : formatDecimal(qty) })]
        let cumQty = 0n
        parts.forEach((part, index) => {
          cumQty += part.qtyUnits
          events.push(fill('o1', { execId: `x${index}`, qty: formatDecimal(part.qtyUnits), price, cumQty: formatDecimal(cumQty), fee: formatDecimal(part.feeUnits) }))
        })
        events.forEach((event, index) => applyEvent(ledger, event, index + 1))
        const fees = parts.reduce((sum, part) => sum + part.feeUnits, 0n)
        const usd = ledger.books.get(accountBook(ACCOUNT))?.get('USD') ?? 0n
        const booked = usd - 100_000_000_000n * 100_000_000n + fees
        // One fill of the whole, booked the same way.
        const whole = side === 'buy' ? -mulUnits(qty, priceUnits, 'up') : mulUnits(qty, priceUnits, 'down')
        const extraPaid = whole - booked
        expect(extraPaid >= 0n && extraPaid <= BigInt(parts.length - 1)).toBe(true)
        const position = ledger.positions.get(positionKey(ACCOUNT, 'sim', 'BTC-USD'))
        expect((position?.realizedPnl ?? 0n) - (position?.costBasis ?? 0n)).toBe(booked)
        expect(position?.fees.get('USD') ?? 0n).toBe(fees)
        expect(ledger.books.get('fees:sim')?.get('USD') ?? 0n).toBe(fees)
      }),
      { numRuns: 400 },
    )
  })

  test('the rounding is per part: three parts of a buy that one fill would round once', () => {
    const ledger = initialLedger()
    // 0.00000001 × 0.5 = 0.000000005: one unit, rounded up, per part; the whole 0.00000003 × 0.5 is 0.000000015 → 2.
    const events = [funded('USD', '1000'), funded('BTC', '1'), accepted({ orderId: 'o1', side: 'buy', qty: '0.00000003', price: '0.5', reservation: '1' })]
    for (let index = 1; index <= 3; index++) events.push(fill('o1', { execId: `x${index}`, qty: '0.00000001', price: '0.5', cumQty: formatDecimal(BigInt(index)) }))
    events.forEach((event, index) => applyEvent(ledger, event, index + 1))
    expect(ledger.books.get(accountBook(ACCOUNT))?.get('USD')).toBe(1000n * 100_000_000n - 3n)
    expect(mulUnits(3n, 50_000_000n, 'up')).toBe(2n)
  })
})
