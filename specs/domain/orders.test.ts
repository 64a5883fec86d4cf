/**
 * Client order ids (src/domain/orders.ts): isVenueClientOrderIdOf answers exactly whether a string equals
 * venueClientOrderId(orderId), which apply asserts for every acceptance without building the string. And
 * safeParsePlaceBody: a body that passed is parsed once (the HTTP route's parse serves the kernel's syntax guard).
 */

import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import * as v from 'valibot'
import { amendClientOrderId, cancelClientOrderId, isVenueClientOrderIdOf, placeBodySchema, safeParsePlaceBody, venueClientOrderId } from '../../src/domain/orders.ts'

describe('venue client order ids', () => {
  test('the id derived from the order id is recognised; near misses are not', () => {
    expect(isVenueClientOrderIdOf(venueClientOrderId('ae0664ec2a961f5430bb'), 'ae0664ec2a961f5430bb')).toBe(true)
    for (const candidate of ['ae0664ec2a961f5430bb', 'eg-ae0664ec2a961f5430b', 'eg-ae0664ec2a961f5430bbx', 'xg-ae0664ec2a961f5430bb', 'eg--ae0664ec2a961f5430b', cancelClientOrderId('ae0664ec2a961f5430bb', 1), amendClientOrderId('ae0664ec2a961f5430bb', 1)]) {
      expect(isVenueClientOrderIdOf(candidate, 'ae0664ec2a961f5430bb')).toBe(false)
    }
  })

  test('agrees with comparing against venueClientOrderId for any strings', () => {
    const text = fc.string({ unit: fc.constantFrom('e', 'g', '-', 'a', '1', '.') })
    fc.assert(
      fc.property(text, text, (candidate, orderId) => {
        expect(isVenueClientOrderIdOf(candidate, orderId)).toBe(candidate === venueClientOrderId(orderId))
        expect(isVenueClientOrderIdOf(venueClientOrderId(orderId), orderId)).toBe(true)
      }),
      { numRuns: 2_000, seed: 11 },
    )
  })
})

describe('safeParsePlaceBody', () => {
  const body = (): Record<string, unknown> => ({ account: 'demo-1', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.5', price: '60000' })

  test('a body that passes is frozen and parsed once: the second answer is the first output', () => {
    const raw = body()
    const first = safeParsePlaceBody(raw)
    expect(first.success).toBe(true)
    expect(first.output).toEqual(v.parse(placeBodySchema, body()))
    expect(Object.isFrozen(raw)).toBe(true)
    const second = safeParsePlaceBody(raw)
    expect(second.success).toBe(true)
    expect(second.output).toBe(first.output)
    // Frozen: the object the output was parsed from cannot change under it.
    expect(() => {
      raw.qty = '-1'
    }).toThrow(TypeError)
    expect(raw.qty).toBe('0.5')
  })

  test('a body that fails is neither frozen nor remembered: fixed, it parses', () => {
    const raw: Record<string, unknown> = { ...body(), qty: 5 }
    const first = safeParsePlaceBody(raw)
    expect(first.success).toBe(false)
    expect(first.issues?.map((issue) => v.getDotPath(issue))).toEqual(['qty'])
    expect(Object.isFrozen(raw)).toBe(false)
    raw.qty = '5'
    const second = safeParsePlaceBody(raw)
    expect(second.success).toBe(true)
    expect(second.success && second.output.qty).toBe(500_000_000n)
  })

  test('a body that is not an object is refused as by the schema', () => {
    for (const raw of [null, 'order', 7, []]) expect(safeParsePlaceBody(raw).success).toBe(v.safeParse(placeBodySchema, raw).success)
  })
})
