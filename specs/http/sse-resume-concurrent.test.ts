/**
 * Resuming while the log is being written: the replay reads the log at the client's pace and hands over to the live
 * feed while new orders keep landing (on both accounts, so the account stream's filter is exercised too). Whatever the
 * interleaving of that handover with the durable-listener callbacks, each stream must deliver exactly the log's
 * matching events after its resume point, in LSN order, none missing and none twice. With a buffer of 4, log batches
 * hold more events than the buffer: a client that keeps up must not be cut off by one (sse-live-batch.test.ts).
 * The step-by-step handover, with the replay held behind a slow client, is sse-resume-interleaved.test.ts.
 */

import { afterAll, beforeAll, expect, test } from 'bun:test'
import { matches, type StreamScope } from '../../src/http/sse/index.ts'
import { domainEventOf } from '../../src/runtime/records.ts'
import { auth, LIMIT_BUY, post, startTestGateway, type TestGateway } from './fixture.ts'
import { SseReader, type SseFrame } from './sse-client.ts'

let t: TestGateway
let server: ReturnType<typeof Bun.serve>
let base: string

beforeAll(async () => {
  // A buffer smaller than a log batch under this load; both accounts funded for a few hundred orders.
  t = await startTestGateway({
    config: {
      sse: { heartbeatMs: 1_000, subscriberBufferEventsMax: 4 },
      accounts: [{ id: 'demo-1', balances: { USD: '1000000' } }, { id: 'demo-2', balances: { USD: '1000000' } }],
    },
  })
  server = Bun.serve({ hostname: '127.0.0.1', port: 0, idleTimeout: 30, fetch: (request) => t.http.app.fetch(request) })
  base = `http://127.0.0.1:${server.port}`
})
afterAll(async () => {
  await server.stop(true)
  await t.stop()
})

function logLsns(afterLsn: number, toLsn: number, scope: StreamScope): number[] {
  const lsns: number[] = []
  for (const frame of t.gateway.engine.wal.read(afterLsn + 1, { toLsn })) {
    const event = domainEventOf(frame)
    if (event !== null && matches(t.gateway.engine, scope, event)) lsns.push(frame.lsn)
  }
  return lsns
}

const eventIds = (frames: SseFrame[]): number[] => frames.filter((frame) => frame.id !== null && frame.event !== null && frame.event.includes('.')).map((frame) => frame.id as number)

test('streams resumed while orders keep landing deliver every matching event once, in order', async () => {
  const demo1 = await t.token({ accounts: ['demo-1', 'demo-2'] })
  const ops = await t.token({ sub: 'olga', roles: ['ops'], accounts: [] })
  // `shedOk`: the background writers only keep batches coming; on a busy machine the gateway may shed some of their
  // orders (429, rate or lane bounds), which is backpressure doing its job, not what this spec is about.
  const placeOne = async (index: number, shedOk = false): Promise<void> => {
    const account = index % 3 === 0 ? 'demo-2' : 'demo-1'
    const res = await fetch(`${base}/v1/orders`, post(demo1, { ...LIMIT_BUY, account, qty: '0.001' }, { 'Idempotency-Key': `conc-${index}` }))
    if (shedOk && res.status === 429) {
      await res.body?.cancel()
      return void (await Bun.sleep(20))
    }
    expect(res.status).toBe(202)
    await res.body?.cancel()
  }
  for (let index = 0; index < 20; index++) await placeOne(index)

  // Writers run in the background: two concurrent placers, so batches hold several commands.
  let writing = true
  const writers = [0, 1].map(async (lane) => {
    for (let index = 100 + lane; writing; index += 2) await placeOne(index, true)
  })
  const streams: { scope: StreamScope; fromLsn: number; reader: SseReader }[] = []
  try {
    for (let round = 0; round < 6; round++) {
      await Bun.sleep(15)
      const fromLsn = Math.max(0, t.gateway.engine.wal.lastLsn - 40 - round * 7)
      const scope: StreamScope = round % 2 === 0 ? { kind: 'global' } : { kind: 'account', accountId: 'demo-1' }
      const path = scope.kind === 'global' ? '/v1/stream' : '/v1/accounts/demo-1/stream'
      const res = await fetch(`${base}${path}`, { headers: auth(scope.kind === 'global' ? ops : demo1, { 'Last-Event-ID': String(fromLsn) }) })
      expect(res.status).toBe(200)
      streams.push({ scope, fromLsn, reader: new SseReader(res) })
    }
    await Bun.sleep(100)
  } finally {
    writing = false
    await Promise.all(writers)
  }
  await t.gateway.engine.settled()
  await Bun.sleep(100) // the sim venue's acks and fills land too
  const endLsn = t.gateway.engine.wal.lastLsn
  for (const { scope, fromLsn, reader } of streams) {
    const want = logLsns(fromLsn, endLsn, scope)
    expect(want.length).toBeGreaterThan(20)
    const frames = await reader.until((all) => all.some((frame) => frame.event === 'disconnect') || eventIds(all).filter((lsn) => lsn <= endLsn).length >= want.length, 5_000)
    await reader.cancel()
    expect(frames.find((frame) => frame.event === 'disconnect')?.data ?? null).toBeNull()
    const got = eventIds(frames)
    expect(got.filter((lsn) => lsn <= endLsn)).toEqual(want)
    expect(new Set(got).size).toBe(got.length)
  }
}, 30_000)
