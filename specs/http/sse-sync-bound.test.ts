/**
 * Under synchronous replication (fail_closed) the SSE streams show only what the node may acknowledge: what the
 * standby holds durably (src/http/sse/hub.ts StreamBound, src/runtime/ha/sync.ts acknowledgeableLsn). They showed every
 * record once durable on the leader's own disk: a place answered 503 REPLICATION_UNCONFIRMED with the standby gone was
 * already on the streams (`order.accepted`, `order.send_requested`), and after a failover the new leader wrote other
 * records at those LSNs — a client resuming with the streamed id skipped the new leader's own, and the streamed order
 * did not exist. Held back, the events come once the standby acknowledges them: once each, in order, by their LSN.
 */

import { join } from 'node:path'
import { afterEach, expect, test } from 'bun:test'
import { Wal } from '../../wal/index.ts'
import { domainEventOf } from '../../src/runtime/records.ts'
import { createVerifier } from '../../src/http/auth/index.ts'
import { createHttpService } from '../../src/http/index.ts'
import { leaderSync } from '../../src/runtime/ha/index.ts'
import { auth, errorCode, json, LIMIT_BUY, post, SECRET, startTestGateway } from './fixture.ts'
import { SseReader, type SseFrame } from './sse-client.ts'
import { haHttp, replicator, waitFor } from '../runtime/ha/support.ts'
import { removeTempDirs, tempDir } from '../wal/support.ts'

const TIMEOUT_MS = 300
const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  removeTempDirs()
})

/** A fail_closed leader's HTTP service on loopback (heartbeats every 100 ms), and a standby replicating from it. */
async function startPair() {
  const leader = await startTestGateway({ config: { sse: { heartbeatMs: 100 } } })
  cleanups.push(() => leader.stop())
  const sync = leaderSync(leader.gateway.engine, { policy: 'fail_closed', timeoutMs: TIMEOUT_MS, waitersMax: 64, log: () => {}, isCurrent: () => true })
  const verifier = createVerifier({ issuer: 'egress', audience: 'egress-api', clockToleranceSec: 5, hs256Secret: SECRET, jwksReloadMs: 60_000, tokenCacheEntriesMax: 100 })
  const http = createHttpService({
    gateway: leader.gateway, verifier, configDigest: 'spec', backpressure: leader.config.backpressure, sse: leader.config.sse, log: () => {},
    ha: haHttp({ sync }),
  })
  const server = Bun.serve({ hostname: '127.0.0.1', port: 0, idleTimeout: 30, fetch: (request) => http.app.fetch(request) })
  const url = `http://127.0.0.1:${server.port}`
  cleanups.push(() => {
    sync.close()
    void server.stop(true)
    http.close()
    verifier.close()
  })
  // The standby's data dir, its log where a gateway started on the dir finds it (a failover: the second test).
  const standbyDir = tempDir()
  const replica = Wal.openReplica(join(standbyDir, 'log'), { durability: 'fsync', preallocateBytes: 0 })
  const standby = replicator(replica, () => url)
  cleanups.push(async () => {
    await standby.stop()
    await replica.close()
  })
  const trader = await leader.token({})
  const ops = await leader.token({ sub: 'ops', roles: ['ops'], accounts: [] })
  const stream = async (path: string, lastEventId: number | null = null): Promise<SseReader> => {
    const response = await fetch(`${url}${path}`, { headers: auth(path === '/v1/stream' ? ops : trader, lastEventId === null ? {} : { 'Last-Event-ID': String(lastEventId) }) })
    expect(response.status).toBe(200)
    const reader = new SseReader(response)
    cleanups.push(() => reader.cancel())
    return reader
  }
  return { leader, sync, url, replica, standbyDir, standby, trader, stream }
}

const heartbeats = (frames: SseFrame[]): number => frames.filter((frame) => frame.comment === 'heartbeat').length
const ids = (reader: SseReader): number[] => reader.events().map((frame) => frame.id as number)

/** The log's domain events in (afterLsn, toLsn], only those of `orderIds` when given: LSN, type and order. */
function logEvents(wal: Wal, afterLsn: number, toLsn: number, orderIds?: Set<string>): { lsn: number; type: string; orderId: string | undefined }[] {
  const events: { lsn: number; type: string; orderId: string | undefined }[] = []
  for (const frame of wal.read(afterLsn + 1, { toLsn })) {
    const event = domainEventOf(frame)
    if (event === null) continue
    const orderId = (event as { orderId?: string }).orderId
    if (orderIds === undefined || (orderId !== undefined && orderIds.has(orderId))) events.push({ lsn: frame.lsn, type: event.type, orderId })
  }
  return events
}

test('fail_closed: what the standby does not hold is not streamed; once it acknowledges, it is, once and in order, and resumes neither miss nor repeat it', async () => {
  const pair = await startPair()
  const wal = pair.leader.gateway.engine.wal
  pair.standby.start()
  await waitFor(() => pair.sync.state === 'sync', 5_000, 'standby caught up')
  const confirmed = await fetch(`${pair.url}/v1/orders`, post(pair.trader, LIMIT_BUY, { 'Idempotency-Key': 'ok-1' }))
  expect(confirmed.status).toBe(202)
  const confirmedId = String((await json(confirmed)).order_id)
  // Its venue call ended (the sim's report and the call's end written), so nothing of it is written after beforeLsn.
  await waitFor(() => logEvents(wal, 0, wal.lastLsn, new Set([confirmedId])).some((event) => event.type === 'order.call_completed'), 5_000, 'the confirmed order\'s call completed')
  await waitFor(() => pair.sync.standbyDurableLsn === wal.lastLsn, 5_000, 'the standby holds the whole log')
  const beforeLsn = wal.lastLsn

  const global = await pair.stream('/v1/stream')
  const account = await pair.stream('/v1/accounts/demo-1/stream')
  await pair.standby.stop()
  const unconfirmed = await fetch(`${pair.url}/v1/orders`, post(pair.trader, LIMIT_BUY, { 'Idempotency-Key': 'while-gone-1' }))
  expect(unconfirmed.status).toBe(503)
  const body = await json(unconfirmed)
  expect(errorCode(body)).toBe('REPLICATION_UNCONFIRMED')
  const heldId = (body.error as { details: { answer: { order_id: string } } }).details.answer.order_id
  expect(wal.lastLsn).toBeGreaterThan(beforeLsn)
  // A resume from before it, while it is held: the replay stops where the standby's acknowledgement does.
  const resumed = await pair.stream('/v1/accounts/demo-1/stream', beforeLsn)
  // Two heartbeats on every stream (sent only with nothing queued): nothing of the unconfirmed order came.
  for (const reader of [global, account, resumed]) {
    const seen = heartbeats(await reader.until(() => true, 0))
    await reader.until((frames) => heartbeats(frames) >= seen + 2)
    expect(reader.events()).toEqual([])
  }

  pair.standby.start()
  await waitFor(() => pair.sync.state === 'sync' && pair.sync.standbyDurableLsn === wal.lastLsn, 5_000, 'standby back')
  const releasedLsn = pair.sync.standbyDurableLsn
  const orders = new Set([confirmedId, heldId])
  const held = logEvents(wal, beforeLsn, releasedLsn, orders)
  const expected = held.map((event) => event.lsn)
  // What the earlier review saw streamed: the unconfirmed order's acceptance and its (held) send.
  const accepted = held.find((event) => event.type === 'order.accepted' && event.orderId === heldId)?.lsn
  expect(accepted).toBeGreaterThan(beforeLsn)
  for (const reader of [account, resumed]) {
    await reader.until(() => ids(reader).at(-1) !== undefined && (ids(reader).at(-1) as number) >= (expected.at(-1) as number))
    expect(ids(reader).filter((id) => id <= releasedLsn)).toEqual(expected)
  }
  await global.until(() => (ids(global).at(-1) ?? 0) >= (expected.at(-1) as number))
  expect(ids(global).filter((id) => id <= releasedLsn)).toEqual(logEvents(wal, beforeLsn, releasedLsn).map((event) => event.lsn))
  expect(account.events().find((frame) => frame.id === accepted)?.event).toBe('order.accepted')

  // A resume after the released point's first event: the rest, none twice.
  const first = expected[0] as number
  const again = await pair.stream('/v1/accounts/demo-1/stream', first)
  await again.until(() => (ids(again).at(-1) ?? 0) >= (expected.at(-1) as number))
  expect(ids(again).filter((id) => id <= releasedLsn)).toEqual(expected.slice(1))
})

test('fail_closed, then a failover: a client resuming on the new leader from the last id it was streamed misses none of the new leader\'s records', async () => {
  const pair = await startPair()
  const wal = pair.leader.gateway.engine.wal
  pair.standby.start()
  await waitFor(() => pair.sync.state === 'sync', 5_000, 'standby caught up')
  expect((await fetch(`${pair.url}/v1/orders`, post(pair.trader, LIMIT_BUY, { 'Idempotency-Key': 'ok-1' }))).status).toBe(202)
  await waitFor(() => pair.sync.standbyDurableLsn === wal.lastLsn, 5_000, 'the standby holds the whole log')
  const account = await pair.stream('/v1/accounts/demo-1/stream', 0)
  await account.until(() => account.events().length > 0)
  await pair.standby.stop()
  const unconfirmed = await fetch(`${pair.url}/v1/orders`, post(pair.trader, LIMIT_BUY, { 'Idempotency-Key': 'while-gone-1' }))
  expect(errorCode(await json(unconfirmed))).toBe('REPLICATION_UNCONFIRMED')
  // The held send is retried meanwhile (a record per sync timeout), all of it on the leader's log alone.
  const seen = heartbeats(await account.until(() => true, 0))
  await account.until((frames) => heartbeats(frames) >= seen + 8)
  const lastSeen = ids(account).at(-1) as number
  expect(lastSeen).toBeLessThanOrEqual(pair.replica.lastLsn)

  // The leader is gone; the standby's log leads (a gateway started on it), and writes its own records after its end.
  await pair.standby.stop()
  await pair.replica.close()
  const next = await startTestGateway({ config: { dataDir: pair.standbyDir, sse: { heartbeatMs: 100 }, kernel: { reconcileGraceMs: 100 } } })
  cleanups.push(() => next.stop())
  const trader = await next.token({})
  const placed = await next.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': 'after-failover' }))
  expect(placed.status).toBe(202)
  const placedId = String((await json(placed)).order_id)
  const nextWal = next.gateway.engine.wal
  const own = logEvents(nextWal, lastSeen, nextWal.lastLsn).filter((event) => event.orderId === placedId)
  expect(own.length).toBeGreaterThan(0)
  // The resume on the new leader: every event of its log after the last id streamed, the new order's acceptance with them.
  const response = await next.request('/v1/accounts/demo-1/stream', { headers: auth(trader, { 'Last-Event-ID': String(lastSeen) }) })
  const resumed = new SseReader(response)
  cleanups.push(() => resumed.cancel())
  await resumed.until(() => ids(resumed).includes((own.at(-1) as { lsn: number }).lsn))
  expect(resumed.events().find((frame) => frame.event === 'order.accepted')?.id).toBe(own.find((event) => event.type === 'order.accepted')?.lsn as number)
})
