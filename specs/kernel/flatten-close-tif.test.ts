/**
 * A flatten's close goes out with a time in force its instrument takes: IOC, else GTC, else DAY, else FOK. It was IOC
 * else GTC whatever the instrument listed, so on an instrument configured `timeInForce: ["DAY"]` (a venue that takes
 * day orders only) every close was sent GTC, which the venue refuses, and the position the flatten was for stayed open.
 */

import { describe, expect, test } from 'bun:test'
import type { EventOf } from '../../src/domain/events/index.ts'
import type { TimeInForce } from '../../src/domain/orders.ts'
import { ACCOUNT, config, Harness, market, ops, T0 } from './fixtures.ts'

function closeTif(timeInForce: TimeInForce[]): TimeInForce | undefined {
  const base = config()
  const harness = Harness.funded({ config: { ...base, instruments: base.instruments.map((instrument) => ({ ...instrument, timeInForce })) } })
  const decision = harness.run({ kind: 'flatten', nowMs: T0, principal: ops, accountId: ACCOUNT, flattenId: 'f-1', markets: { 'sim:BTC-USD': market('50000') } })
  const close = decision.events.find((event): event is EventOf<'order.accepted'> => event.type === 'order.accepted' && event.symbol === 'BTC-USD')
  return close?.tif
}

describe("a flatten close's time in force", () => {
  const cases: [TimeInForce[], TimeInForce][] = [
    [['GTC', 'IOC', 'FOK', 'DAY'], 'IOC'],
    [['GTC', 'DAY'], 'GTC'],
    [['DAY'], 'DAY'],
    [['FOK', 'DAY'], 'DAY'],
    [['FOK'], 'FOK'],
  ]
  for (const [listed, expected] of cases) {
    test(`is ${expected} on an instrument taking ${listed.join(', ')}`, () => {
      expect(closeTif(listed)).toBe(expected)
    })
  }
})
