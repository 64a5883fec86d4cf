// GET /v1/reconcile listed every open break in one answer. Open breaks are not bounded: a venue holding thousands of
// orders egress does not hold opens one break each, and a venue_trades break whose trade left the compared window
// stays open. With 2,500 open, the answer held all 2,500 (~1 MB here; a break's texts may be 1,024 characters each),
// past the page bound every other list keeps (listPageMax, 1,000). Now the breaks are paged like the other lists:
// `limit` (default 100), `cursor` = the opened LSN of the last break of the page, oldest opened first; `ok` and
// `open_break_count` are still over every break the caller may see.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { backOfficeOf } from '../../src/backoffice/index.ts'
import { auth, json, startTestGateway, type TestGateway } from '../http/fixture.ts'

const OPEN = 2_500

let gw: TestGateway
let auditor: string
let trader: string

beforeAll(async () => {
  gw = await startTestGateway()
  auditor = await gw.token({ sub: 'audrey', roles: ['auditor'], accounts: [] })
  trader = await gw.token({ sub: 'alice', roles: ['trader'], accounts: ['demo-1'] })
  const breaks = backOfficeOf(gw.gateway).projector.breaks
  // Every fifth is demo-1's, the rest demo-2's: foreign orders at the venue, one break each.
  for (let index = 0; index < OPEN; index++) {
    const account = index % 5 === 0 ? 'demo-1' : 'demo-2'
    const key = `venue_open_orders:sim:foreign:${account}:c${index}`
    breaks.apply({ kind: 'break_opened', value: { key, check: 'venue_open_orders', what: 'an order open at the venue that egress does not hold', expected: 'absent', actual: 'open', firstSeenMs: 1, asOfLsn: 1, runId: 'spec', accountId: account } }, breaks.lastLsn + 1)
  }
})

afterAll(async () => {
  await gw.stop()
})

async function reconcile(token: string, query = ''): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await gw.request(`/v1/reconcile${query}`, { headers: auth(token) })
  return { status: response.status, body: await json(response) }
}

/** Every page from the first, following next_cursor: the keys in order, and how many pages it took. */
async function allPages(token: string, limit: number): Promise<{ keys: string[]; pages: number; counts: unknown[] }> {
  const keys: string[] = []
  const counts: unknown[] = []
  let cursor: string | null = null
  let pages = 0
  do {
    const { status, body } = await reconcile(token, `?limit=${limit}${cursor === null ? '' : `&cursor=${cursor}`}`)
    expect(status).toBe(200)
    const page = body.open_breaks as { key: string; opened_lsn: number }[]
    expect(page.length).toBeLessThanOrEqual(limit)
    keys.push(...page.map((item) => item.key))
    counts.push(body.open_break_count)
    cursor = body.next_cursor as string | null
    if (cursor !== null) expect(cursor).toBe(String(page.at(-1)?.opened_lsn))
    pages += 1
  } while (cursor !== null && pages < 1_000)
  return { keys, pages, counts }
}

describe('GET /v1/reconcile pages its open breaks', () => {
  test('an answer lists one page (100 by default, at most the page bound), and says how many are open in all', async () => {
    const { status, body } = await reconcile(auditor)
    expect(status).toBe(200)
    expect((body.open_breaks as unknown[]).length).toBe(100)
    expect(body.open_break_count).toBe(OPEN)
    expect(body.ok).toBe(false)
    expect(typeof body.next_cursor).toBe('string')
    const largest = await reconcile(auditor, '?limit=1000')
    expect((largest.body.open_breaks as unknown[]).length).toBe(1_000)
  })

  test('following next_cursor lists every open break once, oldest opened first', async () => {
    const { keys, pages, counts } = await allPages(auditor, 700)
    expect(pages).toBe(4)
    expect(keys).toEqual(Array.from({ length: OPEN }, (_, index) => `venue_open_orders:sim:foreign:${index % 5 === 0 ? 'demo-1' : 'demo-2'}:c${index}`))
    expect(new Set(counts)).toEqual(new Set([OPEN]))
  })

  test("a trader's pages hold its account's breaks only, all of them", async () => {
    const { keys, counts } = await allPages(trader, 64)
    expect(keys.length).toBe(OPEN / 5)
    expect(keys.every((key) => key.includes(':demo-1:'))).toBe(true)
    expect(new Set(counts)).toEqual(new Set([OPEN / 5]))
  })

  test('a limit or cursor that is not one is refused with VALIDATION_FAILED', async () => {
    for (const query of ['?limit=0', '?limit=1001', '?cursor=abc', '?cursor=1.2']) {
      const { status, body } = await reconcile(auditor, query)
      expect({ query, status, code: (body.error as { code: string }).code }).toEqual({ query, status: 400, code: 'VALIDATION_FAILED' })
    }
  })
})
