/**
 * GET /v1/orders/{id} read while a venue's refusal is decided but not yet durable: the kernel state already says
 * Rejected, the log (which `venue_reject` is read from) does not hold the refusal yet. The read waits for the log
 * (durableAnswer) and must then show the refusal beside the state: the log part read before the wait answered
 * `state: Rejected` with `venue_reject: null` (seen once in CI by venue-reject/shown); /explain and /events, read in the
 * same window, left the refusal's record out though the order was already Rejected. The spec holds the log's
 * flushes from the moment the order is Rejected in memory (WalOptions.scheduleFlush), so the read lands in that window
 * every time.
 */

import { afterEach, expect, test } from 'bun:test'
import { formatDecimal, parseDecimal } from '../../../src/domain/decimal.ts'
import { auth, eventually, json, LIMIT_BUY, post, startTestGateway, type TestGateway } from '../fixture.ts'

let gw: TestGateway | null = null
let held: (() => void)[] = []
let releasing = false
let orderId: string | null = null

function release(): void {
  releasing = true
  for (const flush of held.splice(0)) flush()
}

afterEach(async () => {
  release()
  await gw?.stop()
  gw = null
  orderId = null
})

test('GET of the order, /explain and /events issued when the refusal is decided, before it is durable, show it once answered', async () => {
  releasing = false
  gw = await startTestGateway({
    wal: {
      // Decided at flush time, not when the flush was scheduled: a batch the refusal joined later is held too.
      scheduleFlush: (flush) =>
        void setImmediate(() => {
          const rejected = orderId !== null && gw?.gateway.engine.state.orders.get(orderId)?.status === 'Rejected'
          if (rejected && !releasing) held.push(flush)
          else flush()
        }),
    },
  })
  const engine = gw.gateway.engine
  const token = await gw.token({})
  // Above the ask however the sim's price has walked, inside the kernel's price band: the venue refuses the post-only.
  const reference = gw.venue.referencePrice('BTC-USD')?.price as bigint
  const tick = parseDecimal('0.01')
  const price = ((reference * 1002n) / 1000n / tick) * tick
  const created = await json(await gw.request('/v1/orders', post(token, { ...LIMIT_BUY, price: formatDecimal(price), post_only: true }, { 'Idempotency-Key': 'vr-early-1' })))
  orderId = created.order_id as string
  const id = orderId
  await eventually(() => engine.state.orders.get(id)?.status === 'Rejected' && held.length > 0)
  // The refusal is in memory only.
  expect(engine.wal.lastLsn).toBeLessThan(engine.appendedLsn)
  const read = gw.request(`/v1/orders/${id}`, { headers: auth(token) })
  const explain = gw.request(`/v1/orders/${id}/explain`, { headers: auth(token) })
  const events = gw.request(`/v1/orders/${id}/events`, { headers: auth(token) })
  await eventually(() => engine.readWaiters.size === 3)
  release()
  const body = await json(await read)
  expect(body.state).toBe('Rejected')
  expect(body.venue_reject).toMatchObject({ action: 'place', code: 'POST_ONLY_WOULD_CROSS', reason: 'post_only_would_cross' })
  // /explain and /events read the log after the wait too: the refusal's record is in them.
  const story = (await json(await explain)).story as { type: string; venue_reject_code: string | null }[]
  expect(story.find((item) => item.type === 'order.venue_rejected')?.venue_reject_code).toBe('POST_ONLY_WOULD_CROSS')
  const logged = (await json(await events)).events as Record<string, unknown>[]
  expect(logged.find((event) => event.type === 'order.venue_rejected')).toMatchObject({ venueRejectCode: 'POST_ONLY_WOULD_CROSS' })
})
