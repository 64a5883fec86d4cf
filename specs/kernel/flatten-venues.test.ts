/**
 * Flatten's contract across venues, as README (Flatten) states it: the kernel's books are per account and asset, not
 * per venue (a funding names no venue), so a flatten closes each base asset the account holds once, with one order for
 * the whole holding, on one instrument: the first by `venue:symbol` key that has a reference price. An account that
 * holds the asset through two venues gets no close on the other one. This pins the documented behaviour (no fix).
 */

import { describe, expect, test } from 'bun:test'
import type { EventOf } from '../../src/domain/events/index.ts'
import { defaultKernelConfig } from '../../src/domain/kernel-config.ts'
import { ACCOUNT, config, d, Harness, market, ops, policy } from './fixtures.ts'

function twoVenueHarness(): Harness {
  const base = config({ policies: [policy({ instruments: ['sim:BTC-USD', 'fix:BTC-USD'] })] })
  const btc = defaultKernelConfig().instruments.find((instrument) => instrument.venue === 'sim' && instrument.symbol === 'BTC-USD')
  if (btc === undefined) throw new Error('no sim BTC-USD instrument')
  return Harness.funded({ config: { ...base, instruments: [...base.instruments, { ...btc, venue: 'fix' }] } })
}

function closesOf(harness: Harness, markets: Record<string, ReturnType<typeof market>>): [string, string, bigint][] {
  const decision = harness.run({ kind: 'flatten', nowMs: harness.nowMs, principal: ops, accountId: ACCOUNT, flattenId: `f-${Object.keys(markets).join()}`, markets })
  return decision.events
    .filter((event): event is EventOf<'order.accepted'> => event.type === 'order.accepted' && event.baseAsset === 'BTC')
    .map((close) => [close.venue, close.symbol, close.qty])
}

describe('flatten of an account trading one asset on two venues', () => {
  test('one close for the whole holding, on the first venue by key with a price', () => {
    const harness = twoVenueHarness()
    expect(closesOf(harness, { 'sim:BTC-USD': market('50000'), 'fix:BTC-USD': market('50000') })).toEqual([['fix', 'BTC-USD', d('2')]])
  })

  test('without a price there, the next venue with one takes the whole holding', () => {
    const harness = twoVenueHarness()
    expect(closesOf(harness, { 'sim:BTC-USD': market('50000') })).toEqual([['sim', 'BTC-USD', d('2')]])
  })
})
