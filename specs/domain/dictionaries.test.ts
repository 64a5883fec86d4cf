import { describe, expect, test } from 'bun:test'
import { ERROR_CLASSES } from '../../src/domain/error-classes.ts'
import { GUARD_NAMES } from '../../src/domain/guards.ts'
import { REASON_CODES, REASONS } from '../../src/domain/reasons.ts'
import { ORDER_STATES } from '../../src/domain/states.ts'
import { defaultSimInstruments } from '../../src/domain/instruments.ts'
import * as v from 'valibot'
import {
  amendBodySchema,
  amendClientOrderId,
  cancelClientOrderId,
  currentClientOrderId,
  orderIdFromClientId,
  parseClientOrderId,
  venueClientOrderId,
} from '../../src/domain/orders.ts'

describe('dictionaries (I-102)', () => {
  test('the order states are exactly those of §7.1', () => {
    expect([...ORDER_STATES]).toEqual(['Draft', 'Validated', 'Enqueued', 'Sent', 'AckedOpen', 'Partial', 'Filled', 'CancelRequested', 'CancelPending', 'Canceled', 'Rejected', 'Expired', 'Failed', 'Unknown'])
  })

  test('every reason code is an upper-snake string with an error class, an HTTP status and a description', () => {
    for (const code of REASON_CODES) {
      const info = REASONS[code]
      expect(code).toMatch(/^[A-Z][A-Z0-9_]+$/)
      expect(ERROR_CLASSES).toContain(info.errorClass)
      expect(info.httpStatus).toBeGreaterThanOrEqual(200)
      expect(info.httpStatus).toBeLessThan(600)
      expect(info.description.length).toBeGreaterThan(10)
    }
  })

  test('the guards are in the fixed §5 order', () => {
    expect([...GUARD_NAMES]).toEqual(['syntax', 'policy', 'mode', 'data_health', 'reservation', 'capability', 'lane'])
  })

  test('the sim venue ships BTC-USD, ETH-USD and an equity traded in whole shares', () => {
    const instruments = defaultSimInstruments()
    expect(instruments.map((i) => i.symbol)).toEqual(['BTC-USD', 'ETH-USD', 'AAPL'])
    expect(instruments[2]?.lotSize).toBe(100_000_000n)
  })

  test('venue client ids derive from the order id and lead back to it', () => {
    expect(venueClientOrderId('abc')).toBe('eg-abc')
    expect(orderIdFromClientId('eg-abc')).toBe('abc')
    expect(orderIdFromClientId(cancelClientOrderId('abc', 2))).toBe('abc')
    expect(orderIdFromClientId('other-abc')).toBeNull()
  })

  test('amend ids are eg-<orderId>.a<n> and parse back to the order, the kind and the number', () => {
    expect(amendClientOrderId('abc', 3)).toBe('eg-abc.a3')
    expect(parseClientOrderId('eg-abc.a3')).toEqual({ orderId: 'abc', kind: 'amend', n: 3 })
    expect(parseClientOrderId('eg-abc.c2')).toEqual({ orderId: 'abc', kind: 'cancel', n: 2 })
    expect(parseClientOrderId('eg-abc')).toEqual({ orderId: 'abc', kind: 'order', n: 0 })
    expect(parseClientOrderId('eg-abc.x1')).toBeNull()
    expect(parseClientOrderId('eg-abc.a0')).toBeNull()
    expect(orderIdFromClientId('eg-abc.a3')).toBe('abc')
  })

  test('after an amend the venue knows the order by the last id in its chain', () => {
    expect(currentClientOrderId({ venueClientOrderId: 'eg-abc', clientIdChain: ['eg-abc'] })).toBe('eg-abc')
    expect(currentClientOrderId({ venueClientOrderId: 'eg-abc', clientIdChain: ['eg-abc', 'eg-abc.a1', 'eg-abc.a2'] })).toBe('eg-abc.a2')
  })

  test('an amend body takes a decimal qty and/or price and nothing else', () => {
    expect(v.parse(amendBodySchema, { qty: '0.2' })).toEqual({ qty: 20_000_000n })
    expect(v.parse(amendBodySchema, { price: '49000', qty: '1' })).toEqual({ price: 4_900_000_000_000n, qty: 100_000_000n })
    expect(v.safeParse(amendBodySchema, {}).success).toBe(false)
    expect(v.safeParse(amendBodySchema, { qty: 0.2 }).success).toBe(false)
    expect(v.safeParse(amendBodySchema, { qty: '0' }).success).toBe(false)
    expect(v.safeParse(amendBodySchema, { qty: '1', side: 'sell' }).success).toBe(false)
  })
})
