/**
 * Paging the ledger as a reader scoped to some accounts (GET /v1/ledger): rows of the accounts it may not see are
 * skipped, and a page is read on, at most 64 reads, until it is full. When the reads run out first the answer used to
 * say `next_cursor: null`, so the reader took the ledger for ended with its own later postings unread. It now says
 * where to read on: a page may come back short, even empty, with more to come.
 */

import { afterAll, beforeAll, expect, test } from 'bun:test'
import { backOfficeOf } from '../../src/backoffice/index.ts'
import { auth, eventually, json, post, startTestGateway, type TestGateway } from '../http/fixture.ts'

let gw: TestGateway
let trader1: string
let trader2: string
let auditor: string
/** Orders of demo-1 placed between demo-2's: with 1 posting a page (2 rows a read), 64 reads cover 128 rows. */
const HIDING_ORDERS = 80

beforeAll(async () => {
  gw = await startTestGateway()
  trader1 = await gw.token({ sub: 'alice', roles: ['trader'], accounts: ['demo-1'] })
  trader2 = await gw.token({ sub: 'bob', roles: ['trader'], accounts: ['demo-2'] })
  auditor = await gw.token({ sub: 'audrey', roles: ['auditor'], accounts: [] })
  const place = async (token: string, key: string, account: string): Promise<void> => {
    const body = { account, symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.001', price: '61000' }
    expect((await gw.request('/v1/orders', post(token, body, { 'Idempotency-Key': key }))).status).toBe(202)
  }
  for (let index = 0; index < HIDING_ORDERS; index++) await place(trader1, `hide-${index}`, 'demo-1')
  await place(trader2, 'seen-1', 'demo-2')
  await eventually(() => backOfficeOf(gw.gateway).projector.ledger.counters.fills >= HIDING_ORDERS + 1, 20_000)
})

afterAll(async () => {
  await gw.stop()
})

async function ledgerPage(query: string, token: string): Promise<{ postings: Record<string, unknown>[]; next_cursor: string | null }> {
  const response = await gw.request(`/v1/ledger?${query}`, { headers: auth(token) })
  expect(response.status).toBe(200)
  return (await json(response)) as { postings: Record<string, unknown>[]; next_cursor: string | null }
}

test('a reader scoped to its account pages through the whole ledger: every posting of its account, none missed behind others', async () => {
  const asOfLsn = gw.gateway.engine.wal.lastLsn
  const everyPosting = (await ledgerPage(`limit=1000&to_lsn=${asOfLsn}`, auditor)).postings
  const mine = everyPosting.filter((posting) => posting.account === 'demo-2')
  // demo-2's postings stand on both sides of more than 128 of demo-1's.
  const firstOfMine = everyPosting.indexOf(mine[0] as Record<string, unknown>)
  const lastOfMine = everyPosting.indexOf(mine.at(-1) as Record<string, unknown>)
  expect(everyPosting.slice(firstOfMine, lastOfMine).filter((posting) => posting.account === 'demo-1').length).toBeGreaterThan(128)

  const listed: Record<string, unknown>[] = []
  let cursor: string | null = null
  let pages = 0
  do {
    const page = await ledgerPage(`limit=1&to_lsn=${asOfLsn}${cursor === null ? '' : `&cursor=${cursor}`}`, trader2)
    listed.push(...page.postings)
    cursor = page.next_cursor
    pages++
  } while (cursor !== null && pages < 1_000)
  expect(cursor).toBeNull()
  expect(listed).toEqual(mine)
})
