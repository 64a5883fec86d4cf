import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { domainEventOf } from '../../src/runtime/records.ts'
import { auth, errorCode, eventually, json, LIMIT_BUY, post, startTestGateway, type TestGateway } from './fixture.ts'

let t: TestGateway
let trader: string
let other: string
let ops: string
let auditor: string
let admin: string

beforeAll(async () => {
  t = await startTestGateway()
  trader = await t.token({ sub: 'alice', roles: ['trader'], accounts: ['demo-1'] })
  other = await t.token({ sub: 'bob', roles: ['trader'], accounts: ['demo-2'] })
  ops = await t.token({ sub: 'olga', roles: ['ops'], accounts: [] })
  auditor = await t.token({ sub: 'audrey', roles: ['auditor'], accounts: [] })
  admin = await t.token({ sub: 'adam', roles: ['admin'], accounts: [] })
})
afterAll(async () => t.stop())

async function place(key: string, body: Record<string, unknown> = LIMIT_BUY, token = trader): Promise<Response> {
  return t.request('/v1/orders', post(token, body, { 'Idempotency-Key': key }))
}

describe('POST /v1/orders', () => {
  test('an accepted order is 202 once durable, with its id, state and links', async () => {
    const lsnBefore = t.gateway.engine.wal.lastLsn
    const res = await place('place-1')
    expect(res.status).toBe(202)
    const body = await json(res)
    expect(body.state).toBe('Enqueued')
    expect(body.account).toBe('demo-1')
    expect(body.idempotency_key).toBe('place-1')
    expect(typeof body.order_id).toBe('string')
    expect(t.gateway.engine.wal.lastLsn).toBeGreaterThan(lsnBefore)
    expect(t.gateway.engine.state.orders.has(body.order_id as string)).toBe(true)
  })

  test('a repeat returns the first answer byte for byte, even after the order moved on', async () => {
    const first = await place('repeat-1')
    const firstText = await first.text()
    const orderId = (JSON.parse(firstText) as { order_id: string }).order_id
    await eventually(() => t.gateway.engine.state.orders.get(orderId)?.status === 'AckedOpen')
    const again = await place('repeat-1')
    expect(again.status).toBe(first.status)
    expect(await again.text()).toBe(firstText)
    expect(again.headers.get('Idempotent-Replayed')).toBe('true')
  })

  test('client_order_id serves as the key when there is no header', async () => {
    const body = { ...LIMIT_BUY, client_order_id: 'coid-1' }
    const first = await t.request('/v1/orders', post(trader, body))
    expect(first.status).toBe(202)
    const again = await t.request('/v1/orders', post(trader, body))
    expect(await again.text()).toBe(await first.text())
  })

  test('the same key with a different body is 409 IDEMPOTENCY_CONFLICT and changes nothing', async () => {
    const orderId = (await json(await place('conflict-1'))).order_id
    const lsn = t.gateway.engine.wal.lastLsn
    const res = await place('conflict-1', { ...LIMIT_BUY, qty: '0.02' })
    expect(res.status).toBe(409)
    expect(errorCode(await json(res))).toBe('IDEMPOTENCY_CONFLICT')
    // The conflict is answered once the log holds everything queued before it (the first order's send record, say),
    // and writes nothing itself: whatever the log gained since is about the first order.
    const since = Array.from(t.gateway.engine.wal.read(lsn + 1), (frame) => domainEventOf(frame)).filter((event) => event !== null)
    expect(since.filter((event) => !('orderId' in event) || event.orderId !== orderId)).toEqual([])
  })

  test('the same body is the same JSON value: member order and whitespace do not count, a value spelled otherwise does (README)', async () => {
    const first = await place('digest-1')
    const firstText = await first.text()
    const lsn = t.gateway.engine.wal.lastLsn
    const reordered = `{\n  ${Object.entries(LIMIT_BUY).reverse().map(([name, value]) => `"${name}" : "${value}"`).join(' ,\n  ')}\n}`
    const again = await t.request('/v1/orders', post(trader, reordered, { 'Idempotency-Key': 'digest-1' }))
    expect([again.status, await again.text(), again.headers.get('Idempotent-Replayed')]).toEqual([202, firstText, 'true'])
    const respelled = await place('digest-1', { ...LIMIT_BUY, qty: '0.010' })
    expect([respelled.status, errorCode(await json(respelled))]).toEqual([409, 'IDEMPOTENCY_CONFLICT'])
    // Neither wrote an intake record (the log gains only the first order's own progress).
    const since = Array.from(t.gateway.engine.wal.read(lsn + 1), (frame) => domainEventOf(frame)?.type)
    expect(since.filter((type) => type === 'order.accepted' || type === 'order.rejected')).toEqual([])
  })

  test('a definite rejection holds its key: the corrected order under it is 409, under a new key it is placed', async () => {
    const rejected = await json(await place('fix-1', { ...LIMIT_BUY, qty: '100', price: '60000' }))
    expect(errorCode(rejected)).toBe('ORDER_NOTIONAL_LIMIT')
    const corrected = await place('fix-1')
    expect([corrected.status, await json(corrected)]).toEqual([409, { error: { code: 'IDEMPOTENCY_CONFLICT', message: expect.any(String), details: { reason: 'IDEMPOTENCY_CONFLICT', order_id: (rejected.error as { details: { order_id: string } }).details.order_id } } }])
    expect((await place('fix-2')).status).toBe(202)
  })

  test('no key at all is 400 IDEMPOTENCY_KEY_MISSING', async () => {
    const res = await t.request('/v1/orders', post(trader, LIMIT_BUY))
    expect(res.status).toBe(400)
    expect(errorCode(await json(res))).toBe('IDEMPOTENCY_KEY_MISSING')
  })

  test('an Idempotency-Key and a client_order_id that differ are 400 IDEMPOTENCY_KEY_MISMATCH, and nothing reaches the log', async () => {
    const lsn = t.gateway.engine.wal.lastLsn
    const res = await place('mismatch-header', { ...LIMIT_BUY, client_order_id: 'mismatch-body' })
    expect(res.status).toBe(400)
    const body = await json(res)
    expect(errorCode(body)).toBe('IDEMPOTENCY_KEY_MISMATCH')
    expect((body.error as { details: unknown }).details).toEqual({ idempotency_key: 'mismatch-header', client_order_id: 'mismatch-body' })
    expect(t.gateway.engine.wal.lastLsn).toBe(lsn)
    // The refused request placed nothing: the order sent with only its client_order_id is placed now, for the first time.
    const retry = await t.request('/v1/orders', post(trader, { ...LIMIT_BUY, client_order_id: 'mismatch-body' }))
    expect(retry.status).toBe(202)
    // Both given and equal is one identity: the repeat is the first answer.
    const same = await place('same-id', { ...LIMIT_BUY, client_order_id: 'same-id' })
    expect(same.status).toBe(202)
    const again = await t.request('/v1/orders', post(trader, { ...LIMIT_BUY, client_order_id: 'same-id' }))
    expect(again.status).toBe(202)
    expect((await json(again)).order_id).toBe((await json(same)).order_id)
  })

  test('an invalid body lists every issue with its path, and nothing reaches the log', async () => {
    const lsn = t.gateway.engine.wal.lastLsn
    const res = await place('invalid-1', { account: 'demo-1', symbol: 'BTC-USD', side: 'hold', type: 'limit', qty: 1, price: '60000' })
    expect(res.status).toBe(400)
    const body = await json(res)
    expect(errorCode(body)).toBe('VALIDATION_FAILED')
    const paths = ((body.error as { details: { issues: { path: string }[] } }).details.issues).map((issue) => issue.path)
    expect(paths).toContain('side')
    expect(paths).toContain('qty')
    expect(t.gateway.engine.wal.lastLsn).toBe(lsn)
  })

  test('an amount with a leading zero is 400 VALIDATION_FAILED naming the rule, and nothing reaches the log', async () => {
    // qty "007.5" and price "00100" were taken as 7.5 and 100; "0.01" stays an amount.
    const lsn = t.gateway.engine.wal.lastLsn
    for (const [field, text] of [['qty', '00.01'], ['price', '059000']] as const) {
      const res = await place(`leading-zero-${field}`, { ...LIMIT_BUY, [field]: text })
      expect(res.status).toBe(400)
      const body = await json(res)
      expect(errorCode(body)).toBe('VALIDATION_FAILED')
      expect((body.error as { message: string }).message).toBe(`${field}: expected a decimal string with at most 20 whole digits and 8 places, without a leading zero`)
    }
    expect(t.gateway.engine.wal.lastLsn).toBe(lsn)
  })

  test('a retry of an order an older build accepted with a leading zero is answered its first answer, not 400', async () => {
    // A leader before the rule took qty "00.01" under the key (the kernel still does: a standby re-decides with it). A 400
    // to the retry could be read as "not placed", and the order placed again under a new key.
    const principal = { id: 'alice', roles: ['trader' as const], accounts: ['demo-1'], liveAllowed: false }
    const body = { ...LIMIT_BUY, qty: '00.01', client_order_id: 'leading-zero-held' }
    const first = await t.gateway.place(principal, body, 'leading-zero-held')
    expect(first.reply.kind).toBe('accepted')
    const retry = await place('leading-zero-held', body)
    expect(retry.status).toBe(202)
    expect(retry.headers.get('Idempotent-Replayed')).toBe('true')
    expect((await json(retry)).order_id).toBe((first.reply as { orderId: string }).orderId)
    expect([...t.gateway.engine.state.orders.values()].filter((order) => order.idempotencyKey === 'leading-zero-held')).toHaveLength(1)
  })

  test('malformed JSON is 400 MALFORMED_REQUEST; an oversized body is 413', async () => {
    const bad = await t.request('/v1/orders', post(trader, '{"account":', { 'Idempotency-Key': 'bad-json' }))
    expect(bad.status).toBe(400)
    expect(errorCode(await json(bad))).toBe('MALFORMED_REQUEST')
    const big = await t.request('/v1/orders', post(trader, JSON.stringify({ ...LIMIT_BUY, pad: 'x'.repeat(40_000) }), { 'Idempotency-Key': 'big' }))
    expect(big.status).toBe(413)
    expect(errorCode(await json(big))).toBe('PAYLOAD_TOO_LARGE')
  })

  test('a bad Idempotency-Key header is 400', async () => {
    const res = await place('has space')
    expect(res.status).toBe(400)
    expect(errorCode(await json(res))).toBe('VALIDATION_FAILED')
  })

  test('without a token 401; another account, ops, auditor or admin 403', async () => {
    const none = await t.request('/v1/orders', { method: 'POST', body: JSON.stringify(LIMIT_BUY) })
    expect(none.status).toBe(401)
    for (const token of [other, ops, auditor, admin]) {
      const res = await place('forbidden-1', LIMIT_BUY, token)
      expect(res.status).toBe(403)
      expect(errorCode(await json(res))).toBe('FORBIDDEN')
    }
  })

  test('a kernel reject carries the reason code and guard, is recorded, and repeats byte for byte', async () => {
    const body = { ...LIMIT_BUY, qty: '100', price: '60000' }
    const res = await place('poor-1', body)
    expect(res.status).toBe(422)
    const text = await res.text()
    const parsed = JSON.parse(text) as { error: { code: string; details: { guard: string; order_id: string } } }
    expect(parsed.error.code).toBe('ORDER_NOTIONAL_LIMIT')
    expect(parsed.error.details.guard).toBe('policy')
    const again = await place('poor-1', body)
    expect(again.status).toBe(422)
    expect(await again.text()).toBe(text)
    const got = await t.request(`/v1/orders/${parsed.error.details.order_id}`, { headers: auth(trader) })
    expect(got.status).toBe(200)
    expect((await json(got)).state).toBe('Rejected')
  })

  test('insufficient funds is 422 INSUFFICIENT_FUNDS', async () => {
    const poor = await t.token({ sub: 'bob', accounts: ['demo-2'] })
    const res = await place('funds-1', { ...LIMIT_BUY, account: 'demo-2', qty: '1', price: '59000' }, poor)
    expect(res.status).toBe(422)
    expect(errorCode(await json(res))).toBe('INSUFFICIENT_FUNDS')
  })
})

describe('GET /v1/orders/:id and GET /v1/orders', () => {
  test('the owner, ops, auditor and admin read an order; another trader gets 404', async () => {
    const orderId = (await json(await place('get-1'))).order_id as string
    for (const token of [trader, ops, auditor, admin]) {
      const res = await t.request(`/v1/orders/${orderId}`, { headers: auth(token) })
      expect(res.status).toBe(200)
      const view = await json(res)
      expect(view.order_id).toBe(orderId)
      expect(view.qty).toBe('0.01')
    }
    expect((await t.request(`/v1/orders/${orderId}`, { headers: auth(other) })).status).toBe(404)
    expect((await t.request('/v1/orders/nope', { headers: auth(trader) })).status).toBe(404)
  })

  test('list filters by account, state and symbol and pages with a cursor', async () => {
    for (let index = 0; index < 5; index++) await place(`list-${index}`, { ...LIMIT_BUY, symbol: 'ETH-USD', price: '2900' })
    const seen: string[] = []
    let cursor: string | null = null
    do {
      const query: string = `/v1/orders?account=demo-1&symbol=ETH-USD&limit=2${cursor === null ? '' : `&cursor=${cursor}`}`
      const page = await json(await t.request(query, { headers: auth(trader) }))
      const orders = page.orders as { order_id: string; symbol: string }[]
      expect(orders.length).toBeLessThanOrEqual(2)
      for (const order of orders) expect(order.symbol).toBe('ETH-USD')
      seen.push(...orders.map((order) => order.order_id))
      cursor = page.next_cursor as string | null
    } while (cursor !== null)
    expect(seen.length).toBe(5)
    expect(new Set(seen).size).toBe(5)
    const rejected = await json(await t.request('/v1/orders?state=Canceled', { headers: auth(trader) }))
    for (const order of rejected.orders as { state: string }[]) expect(order.state).toBe('Canceled')
  })

  test('list refuses another account, a bad state and an unknown cursor', async () => {
    expect((await t.request('/v1/orders?account=demo-1', { headers: auth(other) })).status).toBe(403)
    expect((await json(await t.request('/v1/orders', { headers: auth(other) }))).orders).toEqual([])
    expect((await t.request('/v1/orders?state=Bogus', { headers: auth(trader) })).status).toBe(400)
    expect((await t.request('/v1/orders?cursor=zzz', { headers: auth(trader) })).status).toBe(400)
    expect((await t.request('/v1/orders?limit=0', { headers: auth(trader) })).status).toBe(400)
    expect((await t.request('/v1/orders?unknown=1', { headers: auth(trader) })).status).toBe(400)
  })
})

describe('cancel', () => {
  test('the owner cancels: 202, and the order ends Canceled', async () => {
    const orderId = (await json(await place('cancel-1'))).order_id as string
    await eventually(() => t.gateway.engine.state.orders.get(orderId)?.status === 'AckedOpen')
    const res = await t.request(`/v1/orders/${orderId}/cancel`, post(trader, ''))
    expect(res.status).toBe(202)
    expect((await json(res)).cancel_requested).toBe(true)
    await eventually(() => t.gateway.engine.state.orders.get(orderId)?.status === 'Canceled')
    const again = await t.request(`/v1/orders/${orderId}/cancel`, post(trader, ''))
    expect(again.status).toBe(409)
    expect(errorCode(await json(again))).toBe('ORDER_NOT_CANCELABLE')
  })

  test('ops may cancel any order; another trader gets 404; an auditor gets 403', async () => {
    const orderId = (await json(await place('cancel-2'))).order_id as string
    expect((await t.request(`/v1/orders/${orderId}/cancel`, post(other, ''))).status).toBe(404)
    expect((await t.request(`/v1/orders/${orderId}/cancel`, post(auditor, ''))).status).toBe(403)
    expect((await t.request(`/v1/orders/${orderId}/cancel`, post(ops, ''))).status).toBe(202)
    expect((await t.request('/v1/orders/missing/cancel', post(trader, ''))).status).toBe(404)
  })

  test('acting on a rejected order: the action\'s own 409 for those who may act, 403 first for those who may not', async () => {
    // An amend of a rejected order answered ORDER_NOT_CANCELABLE ("cannot be canceled"), and an auditor (or ops, for
    // an amend) got that 409 where every other order gives it 403.
    const rejected = await json(await t.request('/v1/orders', post(other, { ...LIMIT_BUY, account: 'demo-2', qty: '1' }, { 'Idempotency-Key': 'act-on-rejected' })))
    expect(errorCode(rejected)).toBe('INSUFFICIENT_FUNDS')
    const id = (rejected.error as { details: { order_id: string } }).details.order_id
    const lsn = t.gateway.engine.wal.lastLsn
    const answers: [string, string, unknown, number, string][] = [
      ['amend', other, { qty: '0.5' }, 409, 'ORDER_NOT_AMENDABLE'],
      ['cancel', other, {}, 409, 'ORDER_NOT_CANCELABLE'],
      ['cancel', ops, {}, 409, 'ORDER_NOT_CANCELABLE'],
      ['amend', ops, { qty: '0.5' }, 403, 'FORBIDDEN'],
      ['amend', auditor, { qty: '0.5' }, 403, 'FORBIDDEN'],
      ['cancel', auditor, {}, 403, 'FORBIDDEN'],
      ['cancel', trader, {}, 404, 'NOT_FOUND'],
    ]
    for (const [action, token, body, status, code] of answers) {
      const who = token === ops ? 'ops' : token === auditor ? 'auditor' : token === other ? 'owner' : 'stranger'
      const res = await t.request(`/v1/orders/${id}/${action}`, post(token, body))
      expect([action, who, res.status, errorCode(await json(res))]).toEqual([action, who, status, code])
    }
    expect(t.gateway.engine.wal.lastLsn).toBe(lsn)
  })

  test('a cancel takes no body or {}; any other body is refused and the order stays open', async () => {
    // A cancel with {"qty":"0.005"} (a client hoping to reduce the order) or a body of no JSON at all was 202 and
    // canceled the whole order.
    const orderId = (await json(await place('cancel-body'))).order_id as string
    await eventually(() => t.gateway.engine.state.orders.get(orderId)?.status === 'AckedOpen')
    const lsn = t.gateway.engine.wal.lastLsn
    const refused: [RequestInit, number, string][] = [
      [post(trader, { qty: '0.005' }), 400, 'VALIDATION_FAILED'],
      [post(trader, '[[['), 400, 'MALFORMED_REQUEST'],
      [post(trader, []), 400, 'VALIDATION_FAILED'],
      [{ method: 'POST', headers: auth(trader, { 'Content-Type': 'text/plain' }), body: 'cancel please' }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ]
    for (const [init, status, code] of refused) {
      const res = await t.request(`/v1/orders/${orderId}/cancel`, init)
      expect([String(init.body), res.status, errorCode(await json(res))]).toEqual([String(init.body), status, code])
    }
    expect(t.gateway.engine.wal.lastLsn).toBe(lsn)
    expect(t.gateway.engine.state.orders.get(orderId)?.cancelWanted).toBe(false)
    expect((await t.request(`/v1/orders/${orderId}/cancel`, post(trader, {}))).status).toBe(202)
    expect((await t.request(`/v1/orders/${orderId}/cancel`, { method: 'POST', headers: auth(trader) })).status).toBe(202)
  })
})

describe('events and explain', () => {
  test('events come from the log with LSNs in order; explain shows every guard of the decision', async () => {
    const orderId = (await json(await place('explain-1'))).order_id as string
    await eventually(() => t.gateway.engine.state.orders.get(orderId)?.status === 'AckedOpen')
    await eventually(() => t.http.services.logIndex.events(orderId).length >= 3)
    const events = await json(await t.request(`/v1/orders/${orderId}/events`, { headers: auth(trader) }))
    const list = events.events as { lsn: number; type: string; qty?: string }[]
    expect(list[0]?.type).toBe('order.accepted')
    expect(list[0]?.qty).toBe('0.01')
    expect(list.map((event) => event.type)).toContain('order.send_requested')
    for (let index = 1; index < list.length; index++) expect(list[index]!.lsn).toBeGreaterThan(list[index - 1]!.lsn)
    const explain = await json(await t.request(`/v1/orders/${orderId}/explain`, { headers: auth(auditor) }))
    const [decision] = explain.decisions as { outcome: string; config_digest: string; guards: { guard: string }[] }[]
    expect(decision?.outcome).toBe('accepted')
    expect(decision?.config_digest).toBe(t.http.services.configDigest)
    expect(decision?.guards.map((guard) => guard.guard)).toEqual(['syntax', 'policy', 'mode', 'data_health', 'reservation', 'capability', 'lane'])
    expect((await t.request(`/v1/orders/${orderId}/events`, { headers: auth(other) })).status).toBe(404)
    expect((await t.request(`/v1/orders/${orderId}/explain`, { headers: auth(other) })).status).toBe(404)
  })
})

describe('amend', () => {
  test('the owner amends a resting order: 202 with the amend id, recorded in the log', async () => {
    const orderId = (await json(await place('amend-1'))).order_id as string
    await eventually(() => t.gateway.engine.state.orders.get(orderId)?.status === 'AckedOpen')
    const res = await t.request(`/v1/orders/${orderId}/amend`, post(trader, { price: '59100' }))
    expect(res.status).toBe(202)
    const body = await json(res)
    expect(body.amend_id).toBe(1)
    await eventually(() => t.http.services.logIndex.events(orderId).some(({ event }) => event.type === 'order.amend_requested'))
    const explain = await json(await t.request(`/v1/orders/${orderId}/explain`, { headers: auth(trader) }))
    expect((explain.decisions as { outcome: string }[]).map((decision) => decision.outcome)).toContain('amend_accepted')
  })

  test('an amend to the values the order already has is 200 unchanged, recording nothing (it was 500 INTERNAL)', async () => {
    const orderId = (await json(await place('amend-same'))).order_id as string
    await eventually(() => t.gateway.engine.state.orders.get(orderId)?.status === 'AckedOpen')
    // The order's own price, and one that rounds to it at the tick: neither changes anything.
    for (const price of ['59000', '59000.001']) {
      const res = await t.request(`/v1/orders/${orderId}/amend`, post(trader, { price }))
      expect(res.status).toBe(200)
      expect(await json(res)).toEqual({ order_id: orderId, state: 'AckedOpen', amend_stage: null, amend_id: null, unchanged: true })
    }
    const amendRecords = t.http.services.logIndex.events(orderId).filter(({ event }) => event.type.startsWith('order.amend'))
    expect(amendRecords).toEqual([])
  })

  test('an empty amend is 400; another trader 404; ops 403; a canceled order 409', async () => {
    const orderId = (await json(await place('amend-2'))).order_id as string
    await eventually(() => t.gateway.engine.state.orders.get(orderId)?.status === 'AckedOpen')
    expect((await t.request(`/v1/orders/${orderId}/amend`, post(trader, {}))).status).toBe(400)
    expect((await t.request(`/v1/orders/${orderId}/amend`, post(trader, { qty: '00.02' }))).status).toBe(400)
    expect((await t.request(`/v1/orders/${orderId}/amend`, post(other, { qty: '0.02' }))).status).toBe(404)
    expect((await t.request(`/v1/orders/${orderId}/amend`, post(ops, { qty: '0.02' }))).status).toBe(403)
    await t.request(`/v1/orders/${orderId}/cancel`, post(trader, ''))
    await eventually(() => t.gateway.engine.state.orders.get(orderId)?.status === 'Canceled')
    const res = await t.request(`/v1/orders/${orderId}/amend`, post(trader, { qty: '0.02' }))
    expect(res.status).toBe(409)
    expect(errorCode(await json(res))).toBe('ORDER_NOT_AMENDABLE')
  })
})
