/**
 * Client order ids (src/domain/orders.ts): isVenueClientOrderIdOf answers exactly whether a string equals
 * venueClientOrderId(orderId), which apply asserts for every acceptance without building the string.
 */

import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { amendClientOrderId, cancelClientOrderId, isVenueClientOrderIdOf, venueClientOrderId } from '../../src/domain/orders.ts'

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
