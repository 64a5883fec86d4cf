import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { backOfficeOf } from '../../src/backoffice/index.ts'
import { auth, errorCode, eventually, json, post, startTestGateway, type TestGateway } from '../http/fixture.ts'

let gw: TestGateway
let trader: string
let other: string
let auditor: string
let ops: string

beforeAll(async () => {
  gw = await startTestGateway()
  trader = await gw.token({ sub: 'alice', roles: ['trader'], accounts: ['demo-1'] })
  other = await gw.token({ sub: 'bob', roles: ['trader'], accounts: ['demo-2'] })
  auditor = await gw.token({ sub: 'audrey', roles: ['auditor'], accounts: [] })
  ops = await gw.token({ sub: 'olga', roles: ['ops'], accounts: [] })
  // Two marketable orders that fill at once, one that rests.
  for (const [key, body] of [
    ['bo-1', { account: 'demo-1', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.1', price: '61000' }],
    ['bo-2', { account: 'demo-1', symbol: 'ETH-USD', side: 'sell', type: 'limit', qty: '2', price: '2900' }],
    ['bo-3', { account: 'demo-1', symbol: 'ETH-USD', side: 'buy', type: 'limit', qty: '1', price: '2890' }],
  ] as const) {
    const response = await gw.request('/v1/orders', post(trader, body, { 'Idempotency-Key': key }))
    expect(response.status).toBe(202)
  }
  await eventually(() => backOfficeOf(gw.gateway).projector.ledger.counters.fills >= 2)
})

afterAll(async () => {
  await gw.stop()
})

async function get(path: string, token: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await gw.request(path, { headers: auth(token) })
  return { status: response.status, body: await json(response) }
}

describe('back office routes', () => {
  test('positions show net quantity, average cost and PnL marked to the venue price', async () => {
    const { status, body } = await get('/v1/positions?account=demo-1', trader)
    expect(status).toBe(200)
    const positions = body.positions as Record<string, unknown>[]
    const btc = positions.find((row) => row.symbol === 'BTC-USD')
    expect(btc?.net_qty).toBe('0.1')
    expect(typeof btc?.avg_cost).toBe('string')
    expect(typeof btc?.unrealized_pnl).toBe('string')
    expect(positions.find((row) => row.symbol === 'ETH-USD')?.net_qty).toBe('-2')
    expect(body.as_of_lsn).toBeGreaterThan(0)
  })

  test('balances show total, reserved (the resting order) and available', async () => {
    const { body } = await get('/v1/balances?account=demo-1', trader)
    const usd = (body.balances as Record<string, string>[]).find((row) => row.asset === 'USD')
    expect(usd?.reserved).not.toBe('0')
    expect(Number(usd?.total) - Number(usd?.reserved)).toBeCloseTo(Number(usd?.available), 6)
  })

  test('fills list every fill with its execution id, order, price, fee, liquidity and LSN, paged by cursor', async () => {
    const all = await get('/v1/fills?account=demo-1', auditor)
    const fills = all.body.fills as Record<string, unknown>[]
    expect(fills.length).toBeGreaterThanOrEqual(2)
    for (const fill of fills) {
      expect(Object.keys(fill)).toEqual(expect.arrayContaining(['exec_id', 'order_id', 'price', 'qty', 'fee', 'liquidity', 'lsn']))
    }
    const first = await get('/v1/fills?account=demo-1&limit=1', auditor)
    expect((first.body.fills as unknown[]).length).toBe(1)
    expect(first.body.next_cursor).toBe(String(fills[0]?.lsn))
    const second = await get(`/v1/fills?account=demo-1&limit=1&cursor=${first.body.next_cursor}`, auditor)
    expect((second.body.fills as Record<string, unknown>[])[0]?.lsn).toBe(fills[1]?.lsn)
  })

  test('the ledger pages through postings by cursor and filters by asset; every entry sums to zero', async () => {
    const pages: Record<string, unknown>[][] = []
    let cursor: string | null = null
    do {
      const { body } = await get(`/v1/ledger?limit=3${cursor === null ? '' : `&cursor=${cursor}`}`, auditor)
      pages.push(body.postings as Record<string, unknown>[])
      cursor = body.next_cursor as string | null
    } while (cursor !== null && pages.length < 100)
    const postings = pages.flat()
    const whole = await get('/v1/ledger?limit=1000', auditor)
    expect(postings).toEqual(whole.body.postings as Record<string, unknown>[])
    const sums = new Map<string, number>()
    for (const row of postings) {
      const key = `${row.lsn}/${row.asset}`
      sums.set(key, (sums.get(key) ?? 0) + Math.round(Number(row.amount) * 1e8))
    }
    for (const [key, sum] of sums) expect(`${key} ${sum}`).toBe(`${key} 0`)
    const usdOnly = await get('/v1/ledger?asset=USD&limit=1000', auditor)
    expect((usdOnly.body.postings as Record<string, string>[]).every((row) => row.asset === 'USD')).toBe(true)
    const range = await get('/v1/ledger?from_lsn=1&to_lsn=3&limit=1000', auditor)
    expect((range.body.postings as { lsn: number }[]).every((row) => row.lsn >= 1 && row.lsn <= 3)).toBe(true)
  })

  test('pnl sums realized, unrealized and fees per account and quote asset', async () => {
    const { body } = await get('/v1/pnl?account=demo-1', trader)
    const usd = (body.pnl as Record<string, unknown>[]).find((row) => row.asset === 'USD')
    expect(Object.keys(usd ?? {})).toEqual(['account', 'asset', 'realized_pnl', 'unrealized_pnl', 'fees', 'net_pnl', 'unmarked'])
  })

  test('stats say how far the projection got and how far the query model trails the log', async () => {
    const { status, body } = await get('/v1/stats', ops)
    expect(status).toBe(200)
    expect(body.applied_lsn).toBeGreaterThan(0)
    expect(body.ledger_complete).toBe(true)
    // A first start: no snapshot section to begin from, nothing refused.
    expect(body).toMatchObject({ section_lsn: null, store_restored_from_section: false, section_problem: null })
    expect(body.log_last_lsn).toBeGreaterThanOrEqual(body.stored_lsn as number)
    expect((body.store as Record<string, number>).fills).toBeGreaterThanOrEqual(2)
  })

  test('reconcile shows the open breaks and the last run', async () => {
    await backOfficeOf(gw.gateway).reconcile()
    const { status, body } = await get('/v1/reconcile', auditor)
    expect(status).toBe(200)
    expect(body.open_breaks).toEqual([])
    expect((body.last_run as Record<string, unknown>).checks).toContain('venue_trades')
  })

  test('a trader reads only its own accounts; nobody writes', async () => {
    expect((await get('/v1/positions?account=demo-1', other)).status).toBe(403)
    expect(errorCode((await get('/v1/balances?account=demo-1', other)).body)).toBe('FORBIDDEN')
    const mine = await get('/v1/fills', other)
    expect(mine.body.fills).toEqual([])
    const unscoped = await get('/v1/balances', other)
    expect((unscoped.body.balances as Record<string, string>[]).every((row) => row.account === 'demo-2')).toBe(true)
    for (const path of ['/v1/positions', '/v1/balances', '/v1/reconcile', '/v1/ledger']) {
      const response = await gw.request(path, post(ops, {}))
      // Read-only: the path is served, for GET only.
      expect(response.status).toBe(405)
      expect(response.headers.get('Allow')).toBe('GET, HEAD')
    }
    expect((await gw.request('/v1/positions')).status).toBe(401)
  })

  test('an accounts claim naming the internal every-account probe does not read every account', async () => {
    // "Reads every account" was asked as canRead(principal, '\u0000every-account'), which a token whose accounts
    // claim holds that string answered true: a plain trader got the whole store's counts (and every open break).
    // Such a claim is no account id at all (printable ASCII only): the token is refused.
    const odd = await gw.token({ sub: 'mallory', roles: ['trader'], accounts: ['\u0000every-account'] })
    const stats = await get('/v1/stats', odd)
    expect(stats.status).toBe(401)
    expect(stats.body.store).toBeUndefined()
    expect((await get('/v1/stats', ops)).body.store).not.toBeNull()
  })

  test('bad query parameters are refused with the field that is wrong', async () => {
    const { status, body } = await get('/v1/ledger?cursor=nope', auditor)
    expect(status).toBe(400)
    expect(errorCode(body)).toBe('VALIDATION_FAILED')
    expect((await get('/v1/fills?limit=0', auditor)).status).toBe(400)
    expect((await get('/v1/positions?colour=red', auditor)).status).toBe(400)
  })

  test('the open break count and query-model lag are metrics', async () => {
    const text = await (await gw.request('/metrics')).text()
    expect(text).toContain('egress_backoffice_breaks_open 0')
    expect(text).toMatch(/egress_backoffice_lag_records \d+/)
  })
})
