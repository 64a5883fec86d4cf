/**
 * A heartbeat takes no room from events. It was queued whenever the buffer had room, and counted there as an event:
 * a replay that went live with room for one more (it goes live only with room, specs/http/sse-replay-live-room) lost
 * it to the next heartbeat, and the first live batch found the buffer full and cut the stream off (`slow_consumer`)
 * before its client could read once more. A heartbeat now goes out only when nothing is queued: behind queued bytes
 * it keeps nothing alive that they do not (they leave as soon as the socket takes them).
 */

import { expect, test } from 'bun:test'
import { eventually, LIMIT_BUY, post } from './fixture.ts'
import { answeredOrders } from './sse-answered-orders.ts'
import { SseReader } from './sse-client.ts'

const BUFFER_EVENTS_MAX = 8

const orders = answeredOrders({ config: { sse: { heartbeatMs: 9_999, subscriberBufferEventsMax: BUFFER_EVENTS_MAX } } })
const { placeAnswered, eventsAfter } = orders

test('a heartbeat does not take the room a replay went live with', async () => {
  for (let index = 0; index < 3; index++) await placeAnswered(`beat-${index}`)
  // Resumed so that the events left leave room for one more (the opening pieces take none: sse-opening-room).
  const lastEventId = orders.t.gateway.engine.wal.lastLsn - (BUFFER_EVENTS_MAX - 1)
  expect(eventsAfter(lastEventId)).toHaveLength(BUFFER_EVENTS_MAX - 1)
  const opened = orders.t.http.services.hub.open({ kind: 'global' }, lastEventId)
  if (!opened.ok) throw new Error('not opened')
  await Bun.sleep(50) // the replay reads to the log's end and goes live with room for one; the client reads nothing yet
  orders.t.http.services.hub.heartbeat()
  // The order's first batch is durable before its 202; the client reads from then on.
  expect((await orders.t.request('/v1/orders', post(orders.token, LIMIT_BUY, { 'Idempotency-Key': 'beat-live' }))).status).toBe(202)
  const stream = new SseReader(new Response(opened.stream))
  let wanted = Number.POSITIVE_INFINITY
  const reading = stream.until((all) => all.some((frame) => frame.event === 'disconnect') || all.filter((frame) => frame.id !== null).length >= wanted, 3_000)
  await eventually(() => [...orders.t.gateway.engine.state.orders.values()].every((order) => !['Validated', 'Enqueued', 'Sent'].includes(order.status)))
  await orders.t.gateway.engine.settled()
  const want = eventsAfter(lastEventId)
  wanted = want.length
  orders.t.http.services.hub.heartbeat() // a chunk for the reader to look at the frames again, now that it knows how many
  const frames = await reading
  await stream.cancel()
  expect(frames.find((frame) => frame.event === 'disconnect') ?? null).toBeNull()
  expect(frames.filter((frame) => frame.id !== null).map((frame) => frame.id)).toEqual(want)
})
