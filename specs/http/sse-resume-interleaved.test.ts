/**
 * The replay-to-live handover, step by step: a resumed stream whose client reads one chunk at a time while orders are
 * placed between its reads, so live batches are published while the replay waits for room (and must be ignored by it,
 * then read from the log), and the switch to live happens with writes still coming. The stream must deliver exactly
 * the log's events after the resume point, in LSN order, none missing and none twice.
 *
 * Every byte the client reads goes through one reader and one parser, and a `disconnect` anywhere fails the spec: a
 * stream cut off while the client read chunk by chunk ended the loop quietly (its final event went unparsed), which
 * read as events lost from the cut to the log's end. The client keeps reading while the last orders settle, in one
 * loop on the one reader, as a client does; left unread then, a stream that had gone live was rightly cut off.
 * Under load it was still cut off now and then as it went live: the replay had left up to 15 of 16 events queued, they
 * counted against the live bound, and an order's second live batch before the client's next read found no room. What a
 * replay leaves queued now takes no room from the live events (Subscriber.wentLive, sse-replay-live-leftover).
 */

import { afterAll, beforeAll, expect, test } from 'bun:test'
import { domainEventOf } from '../../src/runtime/records.ts'
import { LIMIT_BUY, post, startTestGateway, type TestGateway } from './fixture.ts'

const BUFFER_EVENTS_MAX = 16

let t: TestGateway
beforeAll(async () => {
  t = await startTestGateway({ config: { sse: { heartbeatMs: 5_000, subscriberBufferEventsMax: BUFFER_EVENTS_MAX } } })
})
afterAll(async () => {
  await t.stop()
})

const ids = (text: string): number[] => [...text.matchAll(/^id: (\d+)$/gm)].map((match) => Number(match[1]))

test('orders placed between the reads of a resuming client are all delivered once, in order', async () => {
  const token = await t.token({ accounts: ['demo-1'] })
  let key = 0
  const placeOne = async (): Promise<void> => {
    const res = await t.request('/v1/orders', post(token, LIMIT_BUY, { 'Idempotency-Key': `step-${key++}` }))
    expect(res.status).toBe(202)
  }
  for (let index = 0; index < 10; index++) await placeOne()
  const fromLsn = 2
  const openedAtLsn = t.gateway.engine.wal.lastLsn
  const opened = t.http.services.hub.open({ kind: 'global' }, fromLsn)
  if (!opened.ok) throw new Error('not opened')
  const reader = opened.stream.getReader()
  const decoder = new TextDecoder()
  let text = ''
  let ended = false
  const readOne = async (): Promise<void> => {
    const chunk = await reader.read()
    if (chunk.done) ended = true
    else text += decoder.decode(chunk.value, { stream: true })
  }
  // 40 reads with an order placed after each: the replay waits for room between them, writes coming all along.
  let readsToCatchUp = 0
  for (let step = 0; step < 40 && !ended; step++) {
    await readOne()
    if (Math.max(0, ...ids(text)) < openedAtLsn) readsToCatchUp = step + 2
    await placeOne()
  }
  // Reading on while the last orders settle (the sim venue's acks land too), until the log's end is in.
  let lastWanted = Number.POSITIVE_INFINITY
  const rest = (async () => {
    while (!ended && !text.includes('event: disconnect') && Math.max(0, ...ids(text)) < lastWanted) await readOne()
  })()
  await t.gateway.engine.settled()
  await Bun.sleep(50)
  const endLsn = t.gateway.engine.wal.lastLsn
  const want: number[] = []
  for (const frame of t.gateway.engine.wal.read(fromLsn + 1, { toLsn: endLsn })) if (domainEventOf(frame) !== null) want.push(frame.lsn)
  lastWanted = want.at(-1) ?? 0
  // The read under way waits for an event that may never come: canceled once the log's end is in, or after 3 s.
  const deadline = setTimeout(() => void reader.cancel(), Math.max(0, ...ids(text)) >= lastWanted ? 0 : 3_000)
  await rest
  clearTimeout(deadline)
  await reader.cancel()
  expect(/^event: disconnect\ndata: .*$/m.exec(text)?.[0] ?? null).toBeNull()
  const got = ids(text)
  expect(got.filter((lsn) => lsn <= endLsn)).toEqual(want)
  expect(new Set(got).size).toBe(got.length)
  // The log at the open took several reads: the replay waited for the client with orders written in between.
  expect(readsToCatchUp).toBeGreaterThan(1)
})
