/**
 * Paging the ledger as a reader scoped to some accounts (GET /v1/ledger). Rows of other accounts used to be read and
 * skipped, at most 64 reads a page: a page whose reads ran out first answered with the position of the last row read,
 * another account's posting, as its cursor, and an empty page with a cursor over a from_lsn..to_lsn range told that
 * other accounts had many postings there. Now only the reader's accounts' rows are read
 * (src/backoffice/merged-page.ts): every posting of its account is listed, none missed, and a cursor is always the
 * position of a posting it was given.
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

test("a cursor is always a posting the reader was given, and a range holding none of its postings is empty and ended", async () => {
  const asOfLsn = gw.gateway.engine.wal.lastLsn
  const everyPosting = (await ledgerPage(`limit=1000&to_lsn=${asOfLsn}`, auditor)).postings
  const mine = new Set(everyPosting.filter((posting) => posting.account === 'demo-2').map((posting) => `${String(posting.lsn)}.${String(posting.seq)}`))
  const cursors: string[] = []
  let cursor: string | null = null
  for (let pages = 0; pages < 1_000; pages++) {
    const page = await ledgerPage(`limit=1&to_lsn=${asOfLsn}${cursor === null ? '' : `&cursor=${cursor}`}`, trader2)
    cursor = page.next_cursor
    if (cursor === null) break
    cursors.push(cursor)
  }
  expect(cursor).toBeNull()
  // Before: the cursors of pages whose reads ran out were demo-1's postings.
  expect(cursors.filter((position) => !mine.has(position))).toEqual([])

  // A stretch of demo-1's postings alone (more than 128 of them, past the old 64 reads of 2): to demo-2's trader, nothing.
  const myLsns = [...mine].map((position) => Number(position.split('.')[0]))
  const between = (lsn: number): boolean => lsn > Math.min(...myLsns) && lsn < Math.max(...myLsns) && !myLsns.includes(lsn)
  const stretch = everyPosting.filter((posting) => posting.account === 'demo-1' && between(posting.lsn as number))
  expect(stretch.length).toBeGreaterThan(128)
  const fromLsn = stretch[0]?.lsn as number
  const toLsn = stretch.at(-1)?.lsn as number
  expect(everyPosting.some((posting) => posting.account === 'demo-2' && (posting.lsn as number) >= fromLsn && (posting.lsn as number) <= toLsn)).toBe(false)
  const page = await ledgerPage(`limit=1&from_lsn=${fromLsn}&to_lsn=${toLsn}`, trader2)
  expect(page).toEqual({ as_of_lsn: expect.any(Number), postings: [], next_cursor: null } as unknown as typeof page)
})
