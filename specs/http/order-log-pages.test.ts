import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { LogIndex } from '../../src/http/log-index.ts'
import { EVENTS_PAGE_DEFAULT } from '../../src/http/routes/events-page.ts'
import { DECISIONS_RECENT_MAX, STORY_RECENT_MAX } from '../../src/http/routes/explain-excerpt.ts'
import { auth, errorCode, eventually, json, LIMIT_BUY, post, startTestGateway, type TestGateway } from './fixture.ts'

/**
 * `GET /v1/orders/:id/events` and `/explain` answered an order's whole history in one body: a trader amending one
 * resting order at the allowed rate made both grow without bound (memory and latency in the gateway, a huge body for
 * the client). /events now pages (limit, cursor, next_cursor); /explain keeps the first and the most recent decisions
 * and story entries and says how many it left out.
 */

let t: TestGateway
let trader: string
/** An order with more records than a default page: its intake, its sends and reports, and many refused amends. */
let longOrderId: string
const REFUSED_AMENDS = EVENTS_PAGE_DEFAULT + 20

interface LoggedView { lsn: number; type: string }

beforeAll(async () => {
  // A rate high enough that the amends below are never shed.
  const bucket = { ratePerSec: 1_000_000, burst: 1_000_000 }
  t = await startTestGateway({ config: { backpressure: { account: bucket, bot: bucket, inFlightMax: 100 } } })
  trader = await t.token({ accounts: ['demo-1'] })
  longOrderId = await restingOrder('pages-long')
  for (let index = 0; index < REFUSED_AMENDS; index++) {
    // Far outside the price band: refused by a guard, and recorded as an order.amend_rejected decision.
    const res = await t.request(`/v1/orders/${longOrderId}/amend`, post(trader, { price: '90000' }))
    expect(errorCode(await json(res))).toBe('PRICE_BAND')
  }
})
afterAll(async () => t.stop())

/** Places a resting order and waits until its place has run its course in the log (acked, the call returned). */
async function restingOrder(clientOrderId: string): Promise<string> {
  const orderId = (await json(await t.request('/v1/orders', post(trader, { ...LIMIT_BUY, client_order_id: clientOrderId })))).order_id as string
  await eventually(() => t.gateway.engine.state.orders.get(orderId)?.status === 'AckedOpen')
  await eventually(() => t.http.services.logIndex.events(orderId).some(({ event }) => event.type === 'order.call_completed' && event.action === 'place'))
  return orderId
}

async function eventsPage(orderId: string, query: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await t.request(`/v1/orders/${orderId}/events${query}`, { headers: auth(trader) })
  return { status: res.status, body: await json(res) }
}

function loggedLsns(orderId: string): number[] {
  return t.http.services.logIndex.events(orderId).map(({ lsn }) => lsn)
}

describe('GET /v1/orders/:id/events pages', () => {
  test('an order with fewer records than the default page answers them all, as before, with next_cursor null', async () => {
    const orderId = await restingOrder('pages-short')
    const { status, body } = await eventsPage(orderId, '')
    expect(status).toBe(200)
    expect((body.events as LoggedView[]).map((event) => event.lsn)).toEqual(loggedLsns(orderId))
    expect(body.next_cursor).toBeNull()
  })

  test('a long history answers the default page size and a cursor; the cursors reach every record once, in log order', async () => {
    const all = loggedLsns(longOrderId)
    expect(all.length).toBeGreaterThan(EVENTS_PAGE_DEFAULT)
    const first = await eventsPage(longOrderId, '')
    expect((first.body.events as LoggedView[]).map((event) => event.lsn)).toEqual(all.slice(0, EVENTS_PAGE_DEFAULT))
    expect(first.body.next_cursor).toEqual(expect.any(String))
    const second = await eventsPage(longOrderId, `?cursor=${first.body.next_cursor as string}`)
    expect((second.body.events as LoggedView[]).map((event) => event.lsn)).toEqual(all.slice(EVENTS_PAGE_DEFAULT))
    expect(second.body.next_cursor).toBeNull()
  })

  test('records logged while a client pages come in a later page, each once, in log order', async () => {
    const orderId = await restingOrder('pages-growing')
    const seen: LoggedView[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const { status, body } = await eventsPage(orderId, `?limit=2${cursor === null ? '' : `&cursor=${cursor}`}`)
      expect(status).toBe(200)
      const events = body.events as LoggedView[]
      expect(events.length).toBeLessThanOrEqual(2)
      seen.push(...events)
      cursor = body.next_cursor as string | null
      // Between the first pages, while a next page is still to come, the order grows: refused amends, then a cancel
      // and what follows it (the venue's answer, the call's completion).
      if (pages === 0) {
        for (let index = 0; index < 2; index++) {
          expect(errorCode(await json(await t.request(`/v1/orders/${orderId}/amend`, post(trader, { price: '90000' }))))).toBe('PRICE_BAND')
        }
      }
      if (pages === 1) {
        expect(cursor).not.toBeNull()
        expect((await t.request(`/v1/orders/${orderId}/cancel`, post(trader, ''))).status).toBe(202)
        await eventually(() => t.gateway.engine.state.orders.get(orderId)?.status === 'Canceled')
        await eventually(() => t.http.services.logIndex.events(orderId).some(({ event }) => event.type === 'order.call_completed' && event.action === 'cancel'))
      }
      pages++
    } while (cursor !== null)
    expect(pages).toBeGreaterThan(4)
    expect(seen.map((event) => event.lsn)).toEqual(loggedLsns(orderId))
    expect(seen.filter((event) => event.type === 'order.amend_rejected')).toHaveLength(2)
    expect(seen.map((event) => event.type)).toContain('order.canceled')
  })

  test('after the last page (next_cursor null), the LSN of the last event as cursor reads on from there: later records only', async () => {
    const orderId = await restingOrder('pages-resume')
    const first = await eventsPage(orderId, '?limit=1000')
    expect(first.body.next_cursor).toBeNull()
    const lastLsn = (first.body.events as LoggedView[]).at(-1)?.lsn as number
    expect(errorCode(await json(await t.request(`/v1/orders/${orderId}/amend`, post(trader, { price: '90000' }))))).toBe('PRICE_BAND')
    const later = await eventsPage(orderId, `?cursor=${lastLsn}`)
    expect((later.body.events as LoggedView[]).map((event) => event.type)).toEqual(['order.amend_rejected'])
    expect(later.body.next_cursor).toBeNull()
  })

  test("a page reads only its own records from the log and its order's first record, not the history before its cursor", async () => {
    const all = loggedLsns(longOrderId)
    const cursor = all.at(-4) as number
    const wal = t.gateway.engine.wal
    const reads: number[] = []
    const read = wal.read.bind(wal)
    wal.read = ((fromLsn: number, options?: Parameters<typeof wal.read>[1]) => {
      // The order's first record, alone, is read for history_compacted (its type: is the order's start still logged?).
      if (fromLsn !== all[0] || options?.toLsn !== fromLsn) reads.push(fromLsn)
      return read(fromLsn, options)
    }) as typeof wal.read
    try {
      const { body } = await eventsPage(longOrderId, `?cursor=${cursor}&limit=2`)
      expect((body.events as LoggedView[]).map((event) => event.lsn)).toEqual(all.slice(-3, -1))
      expect(body.next_cursor).toBe(String(all.at(-2)))
      expect(body.history_compacted).toBe(false)
    } finally {
      wal.read = read
    }
    expect(reads.length).toBeGreaterThan(0)
    for (const fromLsn of reads) expect(fromLsn).toBeGreaterThan(cursor)
  })

  test('a limit out of 1–1000 or a cursor next_cursor could not have been is 400 VALIDATION_FAILED, and records nothing', async () => {
    const lastLsn = t.gateway.engine.wal.lastLsn
    for (const query of ['?limit=0', '?limit=1001', '?limit=ten', '?limit=1.5', '?limit=-1', '?cursor=abc', '?cursor=0', '?cursor=-3', `?cursor=${lastLsn + 1_000}`, '?limit=2&limit=3', '?after=5']) {
      const { status, body } = await eventsPage(longOrderId, query)
      expect({ query, status, code: errorCode(body) }).toEqual({ query, status: 400, code: 'VALIDATION_FAILED' })
    }
    expect(t.gateway.engine.wal.lastLsn).toBe(lastLsn)
    // The bounds themselves are taken: the refusals above are of the values, not of the parameters.
    const firstLsn = loggedLsns(longOrderId)[0] as number
    const orderLastLsn = loggedLsns(longOrderId).at(-1) as number
    for (const query of ['?limit=1', '?limit=1000', `?cursor=${firstLsn}`, `?cursor=${orderLastLsn}&limit=3`]) {
      expect({ query, status: (await eventsPage(longOrderId, query)).status }).toEqual({ query, status: 200 })
    }
  })
})

describe('an /events cursor belongs to its order', () => {
  test("another order's next_cursor, or any LSN not of this order's records, is 400 VALIDATION_FAILED, not a page that skips records", async () => {
    // Two orders whose records interleave in the log: each one's records lie between the other's.
    const a = await restingOrder('cursor-owner-a')
    const b = await restingOrder('cursor-owner-b')
    await t.request(`/v1/orders/${a}/cancel`, post(trader, {}))
    await t.request(`/v1/orders/${b}/cancel`, post(trader, {}))
    await eventually(() => t.gateway.engine.state.orders.get(a)?.status === 'Canceled' && t.gateway.engine.state.orders.get(b)?.status === 'Canceled')
    // Until each cancel's venue call has completed, the orders still get records.
    const cancelDone = (orderId: string): boolean => t.http.services.logIndex.events(orderId).some(({ event }) => event.type === 'order.call_completed' && event.action === 'cancel')
    await eventually(() => cancelDone(a) && cancelDone(b))
    const aLsns = loggedLsns(a)
    const bLsns = loggedLsns(b)
    // b's first page's next_cursor is one of b's LSNs, above some of a's records: used on a, it skipped those.
    const bPage = await eventsPage(b, '?limit=1')
    const bCursor = Number(bPage.body.next_cursor)
    expect(bLsns).toContain(bCursor)
    expect(aLsns.some((lsn) => lsn > bCursor)).toBe(true)
    const foreign = await eventsPage(a, `?cursor=${bCursor}`)
    expect(foreign.status).toBe(400)
    expect(foreign.body).toEqual({
      error: { code: 'VALIDATION_FAILED', message: expect.stringContaining("not a position in this order's records"), details: { issues: [{ path: 'query.cursor', message: expect.stringContaining('unknown cursor') }] } },
    })
    // Every LSN of the log that is not one of a's records is refused; each of a's is taken and reads on after it.
    const lastLsn = t.gateway.engine.wal.lastLsn
    for (let lsn = (aLsns[0] as number) - 1; lsn <= lastLsn; lsn++) {
      const { status, body } = await eventsPage(a, `?cursor=${lsn}`)
      // a's records only grow: one logged after aLsns was read (none is expected) is a's too.
      if (!loggedLsns(a).includes(lsn)) {
        expect({ lsn, status }).toEqual({ lsn, status: 400 })
        continue
      }
      expect({ lsn, status }).toEqual({ lsn, status: 200 })
      // Every one of a's records after it (a's late records, such as its cancel's call completion, may follow).
      const got = (body.events as LoggedView[]).map((event) => event.lsn)
      const expected = aLsns.filter((other) => other > lsn)
      expect(got.slice(0, expected.length)).toEqual(expected)
      expect(got).toEqual(loggedLsns(a).filter((other) => other > lsn).slice(0, got.length))
    }
  })
})

describe('GET /v1/orders/:id/explain is bounded', () => {
  interface Decision { lsn: number; outcome: string }
  interface Entry { lsn: number; type: string }

  test('an order amended many times: the first decision and the latest ones, the first record and the latest ones, and how many were left out', async () => {
    const res = await t.request(`/v1/orders/${longOrderId}/explain`, { headers: auth(trader) })
    expect(res.status).toBe(200)
    const body = await json(res)
    const logged = t.http.services.logIndex.events(longOrderId)
    const decisionTypes = new Set(['order.accepted', 'order.rejected', 'order.amend_requested', 'order.amend_rejected', 'order.resend_requested', 'order.resend_refused'])
    const allDecisions = logged.filter(({ event }) => decisionTypes.has(event.type)).map(({ lsn }) => lsn)
    expect(allDecisions.length).toBe(1 + REFUSED_AMENDS)

    const decisions = body.decisions as Decision[]
    expect(decisions).toHaveLength(1 + DECISIONS_RECENT_MAX)
    expect(decisions[0]?.outcome).toBe('accepted')
    expect(decisions.map((decision) => decision.lsn)).toEqual([allDecisions[0] as number, ...allDecisions.slice(-DECISIONS_RECENT_MAX)])
    expect(decisions.slice(1).every((decision) => decision.outcome === 'amend_rejected')).toBe(true)
    expect(body.decisions_omitted).toBe(allDecisions.length - decisions.length)

    const story = body.story as Entry[]
    expect(story).toHaveLength(1 + STORY_RECENT_MAX)
    expect(story.map((entry) => entry.lsn)).toEqual([logged[0]?.lsn as number, ...logged.slice(-STORY_RECENT_MAX).map(({ lsn }) => lsn)])
    expect(story[0]?.type).toBe('order.accepted')
    expect(body.story_omitted).toBe(logged.length - story.length)
    expect(body.full_history).toBe(`/v1/orders/${longOrderId}/events`)
  })

  test('the index finds the decisions without reading the history: as the records say, live, and after a start that scans in the background', async () => {
    const live = t.http.services.logIndex
    const logged = live.events(longOrderId)
    const laterTypes = new Set(['order.amend_requested', 'order.amend_rejected', 'order.resend_requested', 'order.resend_refused'])
    const expected = {
      intake: [logged[0]?.lsn as number],
      acceptedLsn: logged[0]?.lsn as number,
      later: logged.filter(({ event }) => laterTypes.has(event.type)).map(({ lsn }) => lsn),
    }
    expect(expected.later).toHaveLength(REFUSED_AMENDS)
    expect(live.decisionPositionsOf(longOrderId)).toEqual(expected)
    const restarted = LogIndex.build(t.gateway.engine, { syncFramesMax: 50, backgroundFramesPerSlice: 64 })
    try {
      await restarted.whenComplete()
      expect(restarted.decisionPositionsOf(longOrderId)).toEqual(expected)
      expect(restarted.positionsOf(longOrderId)).toEqual(live.positionsOf(longOrderId))
    } finally {
      restarted.close()
    }
  })
})
