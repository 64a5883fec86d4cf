/**
 * An order reserves what it is sent as: the quantity rounded down to the lot and the price rounded to the tick. Before
 * the fix guard 5 reserved from the unrounded body (an upper bound, documented), so an order held slightly more than
 * it could ever cost until it ended, and an order whose rounded cost fit the account but whose unrounded one did not
 * was refused INSUFFICIENT_FUNDS. An amend reserves its rounded values the same way.
 */

import { describe, expect, test } from 'bun:test'
import type { EventOf } from '../../src/domain/events/index.ts'
import { ceilDiv, remainingAfterFill } from '../../src/kernel/reservations.ts'
import { d, Harness } from './fixtures.ts'

describe('reservations of rounded orders', () => {
  test('a buy off the lot and tick reserves its rounded qty × rounded price plus the fee allowance', () => {
    const harness = Harness.funded()
    const decision = harness.place({ qty: '0.10005', price: '50000.005' })
    const accepted = decision.events[0] as EventOf<'order.accepted'>
    expect(accepted).toMatchObject({ qty: d('0.1'), price: d('50000'), reservationAmount: d('5005') })
    expect(harness.reserved('USD')).toBe(d('5005'))
  })

  test('a sell off the lot reserves its rounded quantity', () => {
    const harness = Harness.funded()
    harness.place({ side: 'sell', qty: '0.10005' })
    expect(harness.reserved('BTC')).toBe(d('0.1'))
  })

  test('a buy whose rounded cost fits the account is accepted even though its unrounded cost does not', () => {
    const harness = Harness.funded()
    // Rounded: 1.998 × 50 000 = 99 900 + 99.9 fee = 99 999.9 ≤ 100 000. Unrounded 1.99805: 100 002.4025.
    const decision = harness.place({ qty: '1.99805' })
    expect(decision.reply.kind).toBe('accepted')
    expect(harness.reserved('USD')).toBe(d('99999.9'))
  })

  test('an amend off the lot and tick reserves its rounded values', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder({ price: '49000' })
    const decision = harness.amend(orderId, { qty: '0.20005', price: '49000.005' })
    const requested = decision.events[0] as EventOf<'order.amend_requested'>
    // 0.2 × 49 000 = 9 800, plus 9.8 fee allowance.
    expect(requested).toMatchObject({ qty: d('0.2'), price: d('49000'), reservationTotal: d('9809.8') })
  })
})

describe('reservation arithmetic', () => {
  test('ceilDiv and remainingAfterFill round up exactly as (n + d − 1) / d does', () => {
    const values = [0n, 1n, 2n, 9n, 10n, 11n, 99_999_999n, 100_000_000n, 100_000_001n, 5_900_000_000_000n, 5_900_000_000_001n]
    for (const n of values) for (const den of [1n, 3n, 10n, 10_000n, 100_000_000n]) expect(ceilDiv(n, den)).toBe((n + den - 1n) / den)
    for (const cumQty of [0n, 1n, 7n, 10n]) expect(remainingAfterFill(1_000_003n, 10n, cumQty)).toBe((1_000_003n * (10n - cumQty) + 9n) / 10n)
  })

  test('a negative total is refused by remainingAfterFill with nothing filled as with some (the shortcut keeps the assertion)', () => {
    expect(() => remainingAfterFill(-1n, 10n, 3n)).toThrow('ceilDiv takes a non-negative numerator')
    expect(() => remainingAfterFill(-1n, 10n, 0n)).toThrow('ceilDiv takes a non-negative numerator')
    expect(remainingAfterFill(0n, 10n, 0n)).toBe(0n)
  })
})
