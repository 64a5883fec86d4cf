/**
 * The API's idempotency contract: a repeat (same Idempotency-Key, same body) answers the first answer byte for byte.
 * A flatten's 202 (`account`, `flatten_id`, `lsn`, `not_closed`) is built when answering: a repeat of the flatten is
 * decided again (a new `account.flatten_requested`, so a new `lsn`), and `not_closed` is read from the state then.
 * This spec shows the repeat answering differently. KNOWN DEFECT (s41-flatrepeat report): the sound fix needs the
 * flatten's first answer kept across restarts (kernel state: a snapshot format change; or in its record: a payload
 * version bump), neither assigned, so it is marked failing until that is decided.
 */

import { afterEach, expect, test } from 'bun:test'
import { post, startTestGateway, type TestGateway } from './fixture.ts'

/** The sim trading BTC-USD only: demo-1's ETH is a holding no instrument trades (not_closed). */
const SIM_BTC_ONLY = {
  venues: [{ type: 'sim', instruments: [{ symbol: 'BTC-USD', baseAsset: 'BTC', quoteAsset: 'USD', tickSize: '0.01', lotSize: '0.0001', minQty: '0.0001', maxQty: '100', minNotional: '10', openingPrice: '60000' }] }],
}

const started: TestGateway[] = []
afterEach(async () => {
  for (const t of started.splice(0)) await t.stop()
})

async function flatten(t: TestGateway, key: string): Promise<{ status: number; text: string }> {
  const ops = await t.token({ sub: 'olga', roles: ['ops'], accounts: [] })
  const res = await t.request('/v1/accounts/demo-1/flatten', post(ops, '', { 'Idempotency-Key': key }))
  return { status: res.status, text: await res.text() }
}

test.failing('a repeat of a flatten (same key) answers the first answer byte for byte', async () => {
  const t = await startTestGateway({ config: SIM_BTC_ONLY })
  started.push(t)
  const first = await flatten(t, 'f-repeat')
  expect(first.status).toBe(202)
  expect(JSON.parse(first.text).not_closed).toEqual([{ asset: 'ETH', qty: '100', reason: 'INSTRUMENT_UNKNOWN' }])
  const repeat = await flatten(t, 'f-repeat')
  expect(repeat).toEqual(first)
})
