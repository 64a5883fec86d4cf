/**
 * The replay-to-live handover, step by step: a resumed stream whose client reads one chunk at a time while orders are
 * placed between its reads, so live batches are published while the replay waits for room (and must be ignored by it,
 * then read from the log), and the switch to live happens with writes still coming. The stream must deliver exactly
 * the log's events after the resume point, in LSN order, none missing and none twice.
 */

import { afterAll, beforeAll, expect, test } from 'bun:test'
import { domainEventOf } from '../../src/runtime/records.ts'
import { LIMIT_BUY, post, startTestGateway, type TestGateway } from './fixture.ts'
import { SseReader } from './sse-client.ts'

let t: TestGateway
beforeAll(async () => {
  t = await startTestGateway({ config: { sse: { heartbeatMs: 5_000, subscriberBufferEventsMax: 4 } } })
})
afterAll(async () => {
  await t.stop()
})

test('orders placed between the reads of a resuming client are all delivered once, in order', async () => {
  const token = await t.token({ accounts: ['demo-1'] })
  let key = 0
  const placeOne = async (): Promise<void> => {
    const res = await t.request('/v1/orders', post(token, LIMIT_BUY, { 'Idempotency-Key': `step-${key++}` }))
    expect(res.status).toBe(202)
  }
  for (let index = 0; index < 10; index++) await placeOne()
  const fromLsn = 2
  const opened = t.http.services.hub.open({ kind: 'global' }, fromLsn)
  if (!opened.ok) throw new Error('not opened')
  const reader = opened.stream.getReader()
  const decoder = new TextDecoder()
  let text = ''
  // 40 reads with an order placed after each: the replay is at most 4 events ahead of the client all along.
  for (let step = 0; step < 40; step++) {
    const chunk = await reader.read()
    if (chunk.done) break
    text += decoder.decode(chunk.value, { stream: true })
    await placeOne()
  }
  await t.gateway.engine.settled()
  await Bun.sleep(50) // the sim venue's acks land too
  const endLsn = t.gateway.engine.wal.lastLsn
  const want: number[] = []
  for (const frame of t.gateway.engine.wal.read(fromLsn + 1, { toLsn: endLsn })) if (domainEventOf(frame) !== null) want.push(frame.lsn)
  const rest = new SseReader(new Response(new ReadableStream({ pull: async (controller) => {
    const chunk = await reader.read()
    if (chunk.done) controller.close()
    else controller.enqueue(chunk.value)
  } })))
  const ids = (): number[] => [...text.matchAll(/^id: (\d+)$/gm)].map((match) => Number(match[1]))
  const frames = await rest.until((all) => all.some((frame) => frame.event === 'disconnect') || ids().length + all.filter((frame) => frame.id !== null).length >= want.length, 3_000)
  await rest.cancel()
  const got = [...ids(), ...frames.filter((frame) => frame.id !== null).map((frame) => frame.id as number)]
  expect(frames.find((frame) => frame.event === 'disconnect') ?? null).toBeNull()
  expect(got.filter((lsn) => lsn <= endLsn)).toEqual(want)
  expect(new Set(got).size).toBe(got.length)
})
