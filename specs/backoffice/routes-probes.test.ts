import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { backOfficeOf } from '../../src/backoffice/index.ts'
import { auth, errorCode, eventually, json, post, startTestGateway, type TestGateway } from '../http/fixture.ts'

// Adversarial probes of the back office read routes: scoping with other accounts' cursors and filters, malformed
// cursors and limits, and paging the fills while more land between pages.

let gw: TestGateway
let alice: string
let bob: string
let auditor: string
let placed = 0

async function place(token: string, account: string, side: 'buy' | 'sell'): Promise<void> {
  const body = { account, symbol: 'BTC-USD', side, type: 'limit', qty: '0.01', price: side === 'buy' ? '61000' : '59000' }
  const response = await gw.request('/v1/orders', post(token, body, { 'Idempotency-Key': `probe-${placed}` }))
  expect(response.status).toBe(202)
  placed++
  await eventually(() => backOfficeOf(gw.gateway).projector.ledger.counters.fills >= placed)
}

beforeAll(async () => {
  gw = await startTestGateway({ config: { accounts: [{ id: 'demo-1', balances: { USD: '1000000', BTC: '10' } }, { id: 'demo-2', balances: { USD: '1000000', BTC: '10' } }] } })
  alice = await gw.token({ sub: 'alice', roles: ['trader'], accounts: ['demo-1'] })
  bob = await gw.token({ sub: 'bob', roles: ['bot'], accounts: ['demo-2'] })
  auditor = await gw.token({ sub: 'audrey', roles: ['auditor'], accounts: [] })
  for (let index = 0; index < 3; index++) {
    await place(alice, 'demo-1', 'buy')
    await place(bob, 'demo-2', 'sell')
  }
})

afterAll(async () => {
  await gw.stop()
})

async function get(path: string, token: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await gw.request(path, { headers: auth(token) })
  return { status: response.status, body: await json(response) }
}

describe('back office route probes', () => {
  test('another account by name, in any filter combination, is refused; a cursor from another reader shows only own rows', async () => {
    for (const path of ['/v1/fills?account=demo-2', '/v1/ledger?account=demo-2&asset=USD', '/v1/pnl?account=demo-2', '/v1/fills?account=demo-2&cursor=1&limit=1']) {
      const { status, body } = await get(path, alice)
      expect(`${path} ${status} ${errorCode(body)}`).toBe(`${path} 403 FORBIDDEN`)
    }
    const auditorPage = await get('/v1/fills?limit=1', auditor)
    const fromAuditorCursor = await get(`/v1/fills?cursor=${String(auditorPage.body.next_cursor)}&limit=1000`, alice)
    expect((fromAuditorCursor.body.fills as { account: string }[]).every((row) => row.account === 'demo-1')).toBe(true)
    const ledger = await get('/v1/ledger?book=venue:sim&limit=1000', alice)
    expect((ledger.body.postings as { account: string }[]).every((row) => row.account === 'demo-1')).toBe(true)
    const order = (await get('/v1/fills?account=demo-2&limit=1', auditor)).body.fills as { order_id: string }[]
    const byOrder = await get(`/v1/fills?order_id=${order[0]?.order_id}`, alice)
    expect(byOrder.body.fills).toEqual([])
  })

  test('malformed cursors and limits are typed 400s', async () => {
    for (const path of ['/v1/fills?cursor=1.2', '/v1/fills?cursor=-1', '/v1/ledger?cursor=5', '/v1/ledger?cursor=1.2.3', '/v1/fills?limit=1001', '/v1/ledger?limit=0', '/v1/fills?cursor=', '/v1/ledger?from_lsn=x']) {
      const { status, body } = await get(path, auditor)
      expect(`${path} ${status} ${errorCode(body)}`).toBe(`${path} 400 VALIDATION_FAILED`)
    }
  })

  test('paging the fills one at a time while more land lists each fill once, in log order', async () => {
    const seen: number[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const { body } = await get(`/v1/fills?limit=1${cursor === null ? '' : `&cursor=${cursor}`}`, alice)
      for (const row of body.fills as { lsn: number }[]) seen.push(row.lsn)
      cursor = body.next_cursor as string | null
      if (pages++ < 3) await place(bob, 'demo-2', 'sell')
      if (pages === 2) await place(alice, 'demo-1', 'buy')
    } while (cursor !== null && pages < 50)
    const all = ((await get('/v1/fills?limit=1000', alice)).body.fills as { lsn: number }[]).map((row) => row.lsn)
    expect(seen).toEqual(all)
    expect(all.length).toBe(4)
  })
})
