/**
 * A flatten cannot close a holding no configured instrument trades (the instrument taken out of the config while the
 * account still holds its asset): decideFlatten closes per base asset over the configured instruments, so such a
 * holding was skipped without a word and the answer read as if the account were flat. The 202 now names it in
 * `not_closed` (asset, quantity, INSTRUMENT_UNKNOWN; src/kernel/flatten-uncovered.ts); the assets an instrument
 * quotes in are cash and never named, and a holding that is closed is not named either. Nothing recorded changes.
 */

import { afterEach, describe, expect, test } from 'bun:test'
import { flattenUncovered } from '../../src/kernel/index.ts'
import { json, post, startTestGateway, type TestGateway } from './fixture.ts'

/** The sim trading BTC-USD only: ETH-USD (whose ETH demo-1 holds) was taken out of the config. */
const SIM_BTC_ONLY = {
  venues: [{ type: 'sim', instruments: [{ symbol: 'BTC-USD', baseAsset: 'BTC', quoteAsset: 'USD', tickSize: '0.01', lotSize: '0.0001', minQty: '0.0001', maxQty: '100', minNotional: '10', openingPrice: '60000' }] }],
}

const started: TestGateway[] = []
afterEach(async () => {
  for (const t of started.splice(0)) await t.stop()
})

async function flatten(t: TestGateway, key: string): Promise<Record<string, unknown>> {
  const ops = await t.token({ sub: 'olga', roles: ['ops'], accounts: [] })
  const res = await t.request('/v1/accounts/demo-1/flatten', post(ops, '', { 'Idempotency-Key': key }))
  expect(res.status).toBe(202)
  return json(res)
}

describe('a flatten of an account holding an asset no configured instrument trades', () => {
  test('the answer names it in not_closed; the asset an instrument trades is closed and not named', async () => {
    const t = await startTestGateway({ config: SIM_BTC_ONLY })
    started.push(t)
    const answer = await flatten(t, 'f-1')
    expect(answer.not_closed).toEqual([{ asset: 'ETH', qty: '100', reason: 'INSTRUMENT_UNKNOWN' }])
    const closes = [...t.gateway.engine.state.orders.values()].filter((order) => order.flattenId === 'f-1').map((order) => order.baseAsset)
    expect(closes).toEqual(['BTC'])
  })

  test('every holding traded by an instrument: not_closed is empty', async () => {
    const t = await startTestGateway()
    started.push(t)
    expect((await flatten(t, 'f-2')).not_closed).toEqual([])
  })
})

describe('flattenUncovered', () => {
  test('positive holdings no instrument has as its base nor quotes in, by asset', () => {
    const instruments = new Map([['sim:BTC-USD', { baseAsset: 'BTC', quoteAsset: 'USD' }]])
    const accounts = new Map([['a', { balances: new Map([['ZZZ', 5n], ['USD', 7n], ['BTC', 1n], ['ETH', 2n], ['DOT', 0n]]) }]])
    const state = { instruments, accounts } as unknown as Parameters<typeof flattenUncovered>[0]
    expect(flattenUncovered(state, 'a')).toEqual([{ asset: 'ETH', qty: 2n }, { asset: 'ZZZ', qty: 5n }])
    expect(flattenUncovered(state, 'nobody')).toEqual([])
  })
})
