/**
 * A key the kernel rejected for a retryable reason (OVERLOADED here; stale data, a full lane, the open-order limit
 * alike) is not remembered, so a retry with the same key is decided again — under the same order id, which derives
 * from account and key. The log then holds the order's `order.rejected` before its `order.accepted`. The reads that
 * go to the log (a retired order, a rejected one) took the order's first record as the one that decided it: once the
 * accepted order retired, `GET /v1/orders/:id` answered it Rejected (OVERLOADED) though it had been accepted, sent and
 * canceled, and a repeat of its key answered 409 ANSWER_NOT_RETAINED instead of its first 202, with every record
 * still in the log. A key never accepted answers with its latest rejection, the one a repeat of the key gets.
 *
 * Over HTTP a place the lanes cannot take is now shed before the kernel (src/http/routes/place-admission.ts: 429, no
 * record), so the logged OVERLOADED rejection below is made by calling the gateway itself, as any other way into the
 * kernel still can (and logs written before the shed moved to the route hold such rejections).
 */

import { afterAll, expect, test } from 'bun:test'
import { parseConfig } from '../../src/config/index.ts'
import { createVerifier, mintHs256Token } from '../../src/http/auth/index.ts'
import { createHttpService, type HttpService } from '../../src/http/index.ts'
import { crashWorld, removeDir, run, startWorld, traderA, type World } from '../runtime/harness.ts'

const SECRET = 'retried-key-spec-secret-retried-key-spec-secret'
/** One order of an account may wait in the lanes, one call per instrument: the second resting order fills the lane. */
const PARAMS = { accountQueuedMax: 1, callsPerInstrumentMax: 1, terminalOrdersKeptMax: 1, terminalOrderRetireAfterMs: 0 }
const RESTING = { account: 'acct-a', symbol: 'ETH-USD', side: 'buy', type: 'limit', qty: '0.1', price: '2900' }

const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) removeDir(dir)
})

interface Client {
  http: HttpService
  close: () => void
  place: (body: unknown, key: string) => Promise<{ status: number; text: string }>
  get: (orderId: string) => Promise<{ status: number; body: Record<string, unknown> }>
}

async function client(world: World, account: string): Promise<Client> {
  const config = parseConfig({ dataDir: world.dir, auth: { hs256Secret: SECRET } })
  const verifier = createVerifier({ issuer: 'egress', audience: 'egress-api', clockToleranceSec: 5, hs256Secret: SECRET, jwksReloadMs: 60_000, tokenCacheEntriesMax: 100 })
  const http = createHttpService({ gateway: world.gateway, verifier, configDigest: 'sim-config', backpressure: config.backpressure, sse: config.sse, log: () => {} })
  const token = await mintHs256Token(SECRET, { sub: 'alice', roles: ['trader'], accounts: [account], issuer: 'egress', audience: 'egress-api', ttlSec: 600 })
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
  return {
    http,
    close: () => {
      http.close()
      verifier.close()
    },
    place: async (body, key) => {
      const response = await http.app.request('/v1/orders', { method: 'POST', headers: { ...headers, 'Idempotency-Key': key }, body: JSON.stringify(body) })
      return { status: response.status, text: await response.text() }
    },
    get: async (orderId) => {
      const response = await http.app.request(`/v1/orders/${orderId}`, { headers })
      return { status: response.status, body: (await response.json()) as Record<string, unknown> }
    },
  }
}

/** Two resting orders of `account`: one in its venue call, one waiting behind it (the account's lane share is full). */
async function fillLane(api: Client, body: Record<string, unknown>, tag: string): Promise<void> {
  for (const key of [`${tag}-1`, `${tag}-2`]) expect((await api.place(body, key)).status).toBe(202)
}

test('an order accepted on a retry after a retryable rejection is read back accepted once retired, and its key repeats its 202', async () => {
  const world = await startWorld({ seed: 41, params: PARAMS })
  dirs.push(world.dir)
  const api = await client(world, 'acct-a')
  await fillLane(api, RESTING, 'fill')
  const shed = await api.place(RESTING, 'retried')
  expect(shed.status).toBe(429)
  expect(JSON.parse(shed.text).error.code).toBe('OVERLOADED')
  await run(world, 200)
  const accepted = await api.place(RESTING, 'retried')
  expect(accepted.status).toBe(202)
  const orderId = JSON.parse(accepted.text).order_id as string
  expect(JSON.parse(shed.text).error.details.order_id).toBe(orderId)
  await run(world, 200)
  await world.gateway.cancel(traderA, orderId)
  await run(world, 200)
  // An ended order is retired by a later order event (terminalOrdersKeptMax 1, no grace): IOC orders that end at once.
  for (let index = 0; index < 3 && world.gateway.engine.state.orders.has(orderId); index++) {
    expect((await api.place({ ...RESTING, tif: 'IOC' }, `nudge-${index}`)).status).toBe(202)
    await run(world, 100)
  }
  expect(world.gateway.engine.state.orders.has(orderId)).toBe(false)

  const read = await api.get(orderId)
  expect(read.status).toBe(200)
  expect({ state: read.body.state, reason: read.body.reason }).toEqual({ state: 'Canceled', reason: undefined })
  const lsn = world.gateway.engine.wal.lastLsn
  const repeat = await api.place(RESTING, 'retried')
  expect(repeat).toEqual(accepted)
  expect(world.gateway.engine.wal.lastLsn).toBe(lsn)
  api.close()
  await crashWorld(world)
}, 60_000)

test('a key rejected for a retryable reason and then for a definite one is read back with the definite rejection its repeats answer', async () => {
  const world = await startWorld({ seed: 42, params: PARAMS })
  dirs.push(world.dir)
  const api = await client(world, 'acct-b')
  // acct-b holds 500,000 USD: the big order fits alone, not beside the other one.
  const big = { ...RESTING, account: 'acct-b', qty: '150' }
  await fillLane(api, { ...RESTING, account: 'acct-b' }, 'fill')
  const shed = await api.place(big, 'twice-rejected')
  expect(JSON.parse(shed.text).error.code).toBe('OVERLOADED')
  await run(world, 200)
  expect((await api.place({ ...big, qty: '100' }, 'funds-taker')).status).toBe(202)
  await run(world, 200)
  const refused = await api.place(big, 'twice-rejected')
  expect(JSON.parse(refused.text).error.code).toBe('INSUFFICIENT_FUNDS')
  expect(await api.place(big, 'twice-rejected')).toEqual(refused)

  const orderId = JSON.parse(refused.text).error.details.order_id as string
  const read = await api.get(orderId)
  expect(read.status).toBe(200)
  expect({ state: read.body.state, reason: read.body.reason, guard: read.body.guard }).toEqual({ state: 'Rejected', reason: 'INSUFFICIENT_FUNDS', guard: 'reservation' })
  api.close()
  await crashWorld(world)
}, 60_000)
