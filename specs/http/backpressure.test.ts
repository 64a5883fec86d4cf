import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { LoadShedder, TokenBucket } from '../../src/http/backpressure/index.ts'
import { commandError } from '../../src/http/routes/support.ts'
import { ApiError } from '../../src/http/errors.ts'
import { EngineOverloadedError } from '../../src/runtime/engine.ts'
import { auth, errorCode, eventually, json, LIMIT_BUY, post, startTestGateway, type TestGateway } from './fixture.ts'
import { parseExposition } from './metrics/exposition.ts'

describe('TokenBucket', () => {
  test('gives burst tokens, then refuses with the time until the next one, then refills at the rate', () => {
    const bucket = new TokenBucket({ ratePerSec: 10, burst: 2 }, 0)
    expect(bucket.take(0).ok).toBe(true)
    expect(bucket.take(0).ok).toBe(true)
    expect(bucket.take(0)).toEqual({ ok: false, retryAfterMs: 100 })
    expect(bucket.take(100).ok).toBe(true)
    expect(bucket.full(10_000)).toBe(true)
  })
})

describe('LoadShedder', () => {
  const limits = { account: { ratePerSec: 1, burst: 1 }, bot: { ratePerSec: 1, burst: 1 }, bucketsMax: 4 }

  test('the global in-flight bound sheds until a slot is released', () => {
    const shedder = new LoadShedder({ ...limits, account: { ratePerSec: 1000, burst: 1000 }, inFlightMax: 2, nowMs: () => 0 })
    const first = shedder.admit('a', null)
    const second = shedder.admit('a', null)
    expect(shedder.admit('a', null)).toEqual({ ok: false, scope: 'global', retryAfterSec: 1 })
    if (!first.ok || !second.ok) throw new Error('expected admissions')
    first.release()
    first.release() // releasing twice frees one slot only
    expect(shedder.inFlight).toBe(1)
    expect(shedder.admit('a', null).ok).toBe(true)
    expect(shedder.admit('a', null).ok).toBe(false)
  })

  test('per-account and per-bot buckets; a bot refusal refunds the account token', () => {
    let now = 0
    const shedder = new LoadShedder({ ...limits, inFlightMax: 100, nowMs: () => now })
    expect(shedder.admit('a', 'bot-1').ok).toBe(true)
    expect(shedder.admit('a', 'bot-1')).toMatchObject({ ok: false, scope: 'account' })
    expect(shedder.admit('b', 'bot-1')).toMatchObject({ ok: false, scope: 'bot' })
    expect(shedder.admit('b', null).ok).toBe(true) // b's token came back when the bot bucket refused
    now = 1000
    expect(shedder.admit('a', 'bot-1').ok).toBe(true)
  })

  test('the bucket map is bounded: many distinct keys do not grow it past bucketsMax', () => {
    const shedder = new LoadShedder({ ...limits, inFlightMax: 1_000_000, nowMs: () => 0 })
    for (let index = 0; index < 100; index++) shedder.admit(`acct-${index}`, null)
    expect((shedder as unknown as { accounts: Map<string, unknown> }).accounts.size).toBeLessThanOrEqual(4)
  })
})

describe('runtime overload', () => {
  test('a full log queue is 429 with Retry-After', () => {
    const mapped = commandError(new EngineOverloadedError('log queue full'))
    expect(mapped).toBeInstanceOf(ApiError)
    expect((mapped as ApiError).status).toBe(429)
    expect((mapped as ApiError).headers['Retry-After']).toBe('1')
  })
})

describe('shedding through the app', () => {
  let t: TestGateway
  beforeAll(async () => {
    t = await startTestGateway({ config: { backpressure: { account: { ratePerSec: 1, burst: 2 }, bot: { ratePerSec: 1, burst: 1 }, inFlightMax: 100 } } })
  })
  afterAll(async () => t.stop())

  test('over the account rate new orders get 429 with Retry-After, while cancels still pass', async () => {
    const trader = await t.token({ accounts: ['demo-1'] })
    const first = await json(await t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': 'bp-1' })))
    expect((await t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': 'bp-2' }))).status).toBe(202)
    const shed = await t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': 'bp-3' }))
    expect(shed.status).toBe(429)
    expect(Number(shed.headers.get('Retry-After'))).toBeGreaterThanOrEqual(1)
    expect(errorCode(await json(shed))).toBe('RATE_LIMITED')
    const orderId = first.order_id as string
    await eventually(() => t.gateway.engine.state.orders.get(orderId)?.status === 'AckedOpen')
    expect((await t.request(`/v1/orders/${orderId}/cancel`, post(trader, ''))).status).toBe(202)
    expect(await (await t.request('/metrics')).text()).toContain('egress_orders_shed_total{action="place",scope="account"} 1')
  })

  test('a bot is held to its own bucket too', async () => {
    const bot = await t.token({ sub: 'bot-7', roles: ['bot'], accounts: ['demo-2'] })
    const body = { ...LIMIT_BUY, account: 'demo-2', qty: '0.001', price: '59000' }
    expect((await t.request('/v1/orders', post(bot, body, { 'Idempotency-Key': 'bot-1' }))).status).toBe(202)
    const shed = await t.request('/v1/orders', post(bot, body, { 'Idempotency-Key': 'bot-2' }))
    expect(shed.status).toBe(429)
    expect(((await json(shed)).error as { details: { scope: string } }).details.scope).toBe('bot')
  })

  test('an order list shed at the rate limit is counted with the shed places', async () => {
    // Was: POST /v1/order-lists answered 429 but left egress_orders_shed_total as it was (its own copy of the refusals).
    const placeSheds = async (): Promise<number> => {
      const text = await (await t.request('/metrics')).text()
      return [...text.matchAll(/^egress_orders_shed_total\{action="place",[^}]*\} (\d+)$/gm)].reduce((sum, match) => sum + Number(match[1]), 0)
    }
    const bot = await t.token({ sub: 'bot-8', roles: ['bot'], accounts: ['demo-2'] })
    const leg = { ...LIMIT_BUY, account: 'demo-2', qty: '0.001', price: '59000' }
    expect((await t.request('/v1/orders', post(bot, leg, { 'Idempotency-Key': 'bot-8-1' }))).status).toBe(202)
    const before = await placeSheds()
    const list = { type: 'oco', account: 'demo-2', client_list_id: 'bot-8-list', orders: [leg, { ...leg, price: '58000' }] }
    const shed = await t.request('/v1/order-lists', post(bot, list))
    expect(shed.status).toBe(429)
    expect(errorCode(await json(shed))).toBe('RATE_LIMITED')
    expect(await placeSheds()).toBe(before + 1)
  })

  test('while draining, requests get 503 and /health says not ready', async () => {
    const trader = await t.token({ accounts: ['demo-1'] })
    t.http.drain()
    const res = await t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': 'drain-1' }))
    expect(res.status).toBe(503)
    expect(errorCode(await json(res))).toBe('UNAVAILABLE')
    const health = await t.request('/health')
    expect(health.status).toBe(503)
    expect((await json(health)).draining).toBe(true)
  })

  test('requests refused while draining are counted in egress_http_requests_total, by the route they were for', async () => {
    const trader = await t.token({ accounts: ['demo-1'] })
    t.http.drain()
    const requests = (route: string): number =>
      parseExposition(t.http.services.metrics.render()).families.get('egress_http_requests_total')?.samples.find((sample) => sample.labels.route === route && sample.labels.status === '5xx')?.value ?? 0
    const before = requests('/v1/orders')
    expect((await t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': 'drain-2' }))).status).toBe(503)
    expect((await t.request('/v1/orders', { headers: auth(trader) })).status).toBe(503)
    expect(requests('/v1/orders') - before).toBe(2)
    // A path no route serves is counted too (under the middleware it last matched, as a 404 would be).
    const refused = (): number => (parseExposition(t.http.services.metrics.render()).families.get('egress_http_requests_total')?.samples ?? []).filter((sample) => sample.labels.status === '5xx').reduce((sum, sample) => sum + sample.value, 0)
    const unrouted = refused()
    expect((await t.request('/no/such/path')).status).toBe(503)
    expect(refused() - unrouted).toBe(1)
  })
})

describe('repeats at the rate limit', () => {
  let t: TestGateway
  beforeAll(async () => {
    t = await startTestGateway({ config: { backpressure: { account: { ratePerSec: 1, burst: 2 }, bot: { ratePerSec: 1, burst: 1 }, inFlightMax: 100 } } })
  })
  afterAll(async () => t.stop())

  test('a repeat of a decided key is answered with its first 202 and spends no token, even at the limit', async () => {
    const trader = await t.token({ accounts: ['demo-1'] })
    const body = LIMIT_BUY
    const first = await t.request('/v1/orders', post(trader, body, { 'Idempotency-Key': 'rp-1' }))
    expect(first.status).toBe(202)
    const firstBody = await first.text()
    // Three repeats with a burst of 2: each would have taken a token, and the second would have been shed.
    for (let attempt = 0; attempt < 3; attempt++) {
      const repeat = await t.request('/v1/orders', post(trader, body, { 'Idempotency-Key': 'rp-1' }))
      expect(repeat.status).toBe(202)
      expect(repeat.headers.get('Idempotent-Replayed')).toBe('true')
      expect(await repeat.text()).toBe(firstBody)
    }
    // The bucket still holds its second token for a new order; the one after it is shed.
    expect((await t.request('/v1/orders', post(trader, body, { 'Idempotency-Key': 'rp-2' }))).status).toBe(202)
    expect((await t.request('/v1/orders', post(trader, body, { 'Idempotency-Key': 'rp-3' }))).status).toBe(429)
  })
})

describe("the kernel's load bounds", () => {
  let t: TestGateway
  beforeAll(async () => {
    // One call per instrument and one queued order per account: a third order placed at once is shed by the kernel.
    t = await startTestGateway({ config: { kernel: { accountQueuedMax: 1, callsPerInstrumentMax: 1 } } })
  })
  afterAll(async () => t.stop())

  test('an order the kernel sheds (OVERLOADED) is 429 with Retry-After, like the transport sheds, and a retry of its key can succeed', async () => {
    const trader = await t.token({ accounts: ['demo-1'] })
    const answers = await Promise.all([0, 1, 2].map((index) => t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': `kernel-shed-${index}` }))))
    const shed = answers.filter((answer) => answer.status === 429)
    expect(shed.length).toBeGreaterThan(0)
    for (const answer of shed) {
      expect(errorCode(await json(answer))).toBe('OVERLOADED')
      expect(answer.headers.get('Retry-After')).toMatch(/^[1-9]\d*$/)
    }
    const shedKey = `kernel-shed-${answers.indexOf(shed[0] as Response)}`
    await eventually(() => t.gateway.engine.state.queues[1].size === 0 && t.gateway.engine.state.queues[2].size === 0)
    expect((await t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': shedKey }))).status).toBe(202)
  })
})

describe('the global in-flight bound through the app', () => {
  let t: TestGateway
  beforeAll(async () => {
    t = await startTestGateway({ config: { backpressure: { inFlightMax: 1 } } })
  })
  afterAll(async () => t.stop())

  test('orders beyond the in-flight bound get 429 global with Retry-After 1, a cancel in the same moment passes, and the shed key can be placed later', async () => {
    const trader = await t.token({ accounts: ['demo-1'] })
    const first = await json(await t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': 'inflight-0' })))
    const orderId = first.order_id as string
    await eventually(() => t.gateway.engine.state.orders.get(orderId)?.status === 'AckedOpen')
    const keys = ['inflight-1', 'inflight-2']
    const [placedA, placedB, cancel] = await Promise.all([
      ...keys.map((key) => t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': key }))),
      t.request(`/v1/orders/${orderId}/cancel`, post(trader, '')),
    ])
    const answers = [placedA as Response, placedB as Response]
    expect(answers.map((answer) => answer.status).sort()).toEqual([202, 429])
    const shed = answers.find((answer) => answer.status === 429) as Response
    expect(shed.headers.get('Retry-After')).toBe('1')
    expect(((await json(shed)).error as { details: { scope: string } }).details.scope).toBe('global')
    expect(cancel?.status).toBe(202)
    expect(t.http.services.shedder.inFlight).toBe(0)
    expect((await t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': keys[answers.indexOf(shed)] as string }))).status).toBe(202)
  })
})

describe('a refusal for load after the rate limiter spends no rate token', () => {
  let t: TestGateway
  beforeAll(async () => {
    // One call per instrument and one queued order per account: of three orders placed at once, the kernel sheds one.
    t = await startTestGateway({ config: { kernel: { accountQueuedMax: 1, callsPerInstrumentMax: 1 } } })
  })
  afterAll(async () => t.stop())

  /** The account's bucket on a clock that never moves: only refunds give tokens back. */
  function frozenShedder(burst: number): void {
    t.http.services.shedder = new LoadShedder({
      account: { ratePerSec: 1, burst }, bot: { ratePerSec: 1, burst }, inFlightMax: 100, bucketsMax: 16, nowMs: () => 0,
    })
  }

  test('an order the kernel sheds (its lanes full) takes no token and writes nothing; its key is placed later on the token it kept', async () => {
    // Was: the shedder's token went first, then the kernel refused and recorded order.rejected OVERLOADED. A client
    // pushed back by the lanes lost its place at the rate limit too, and its retry of the shed key got 429 RATE_LIMITED.
    frozenShedder(3)
    const trader = await t.token({ accounts: ['demo-1'] })
    const keys = [0, 1, 2].map((index) => `lanes-full-${index}`)
    const answers = await Promise.all(keys.map((key) => t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': key }))))
    const shedKeys = keys.filter((_, index) => answers[index]?.status === 429)
    expect(shedKeys.length).toBeGreaterThan(0)
    const shedOrderIds: string[] = []
    for (const answer of answers.filter((item) => item.status === 429)) {
      const body = await json(answer)
      expect(errorCode(body)).toBe('OVERLOADED')
      expect(answer.headers.get('Retry-After')).toBe('1')
      shedOrderIds.push((body.error as { details: { order_id: string; guard: string } }).details.order_id)
    }
    for (const orderId of shedOrderIds) expect(t.http.services.logIndex.events(orderId)).toEqual([])
    expect(await (await t.request('/metrics')).text()).toContain('egress_orders_shed_total{action="place",scope="kernel_account"}')
    for (const key of shedKeys) {
      await eventually(() => t.gateway.engine.state.queues[1].size === 0 && t.gateway.engine.state.queues[2].size === 0)
      const retry = await t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': key }))
      expect(retry.status).toBe(202)
      const orderId = (await json(retry)).order_id as string
      expect(t.http.services.logIndex.events(orderId)[0]?.event.type).toBe('order.accepted')
    }
    // Every token went to an accepted order: the next new one is shed by the rate limiter.
    await eventually(() => t.gateway.engine.state.queues[2].size === 0)
    expect(errorCode(await json(await t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': 'lanes-full-next' }))))).toBe('RATE_LIMITED')
  })

  test('an order refused because the log queue is full gets its account and bot tokens back', async () => {
    frozenShedder(1)
    const bot = await t.token({ sub: 'bot-9', roles: ['bot'], accounts: ['demo-2'] })
    const body = { ...LIMIT_BUY, account: 'demo-2', qty: '0.001' }
    const place = t.gateway.place.bind(t.gateway)
    t.gateway.place = () => Promise.reject(new EngineOverloadedError('log queue full; retry later'))
    try {
      const full = await t.request('/v1/orders', post(bot, body, { 'Idempotency-Key': 'log-full-1' }))
      expect(full.status).toBe(429)
      expect(((await json(full)).error as { details: { scope: string } }).details.scope).toBe('log')
    } finally {
      t.gateway.place = place
    }
    expect((await t.request('/v1/orders', post(bot, body, { 'Idempotency-Key': 'log-full-1' }))).status).toBe(202)
    expect(t.http.services.shedder.inFlight).toBe(0)
  })
})

describe('LoadShedder refunds', () => {
  test('refund gives back the account and the bot token once, however often it is called', () => {
    const shedder = new LoadShedder({ account: { ratePerSec: 1, burst: 1 }, bot: { ratePerSec: 1, burst: 1 }, inFlightMax: 100, bucketsMax: 4, nowMs: () => 0 })
    const first = shedder.admit('a', 'bot-1')
    if (!first.ok) throw new Error('expected an admission')
    first.refund()
    first.refund()
    const second = shedder.admit('a', 'bot-1')
    expect(second.ok).toBe(true)
    expect(shedder.admit('a', 'bot-1')).toMatchObject({ ok: false, scope: 'account' })
  })
})
