/**
 * Synchronous replication (src/runtime/ha/sync.ts, leader-sync.ts, the write guard and /replication/ack in
 * src/http/routes/replication.ts): a leader gateway's HTTP service on loopback, a standby replica pulling from it with
 * a Replicator (which acknowledges its durable LSN), and writes placed over HTTP.
 */

import { afterEach, describe, expect, test } from 'bun:test'
import { Wal } from '../../../wal/index.ts'
import { EVENT_CODES } from '../../../src/domain/events/index.ts'
import { domainEventOf } from '../../../src/runtime/records.ts'
import { createVerifier } from '../../../src/http/auth/index.ts'
import { createHttpService, type HttpService } from '../../../src/http/index.ts'
import { HA_REPLICATION_DEGRADED, HA_REPLICATION_RESTORED, leaderSync, type SyncPolicy, type SyncReplication } from '../../../src/runtime/ha/index.ts'
import { LIMIT_BUY, SECRET, errorCode, json, post, startTestGateway, type TestGateway } from '../../http/fixture.ts'
import { removeTempDirs, tempDir, text } from '../../wal/support.ts'
import { TOKEN, haHttp, replicationApp, replicator, waitFor } from './support.ts'

const TIMEOUT_MS = 300
const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  removeTempDirs()
})

interface Pair {
  leader: TestGateway
  sync: SyncReplication
  url: string
  replica: Wal
  standby: ReturnType<typeof replicator>
  place: (key: string) => Promise<{ status: number; body: Record<string, unknown>; elapsedMs: number }>
}

async function startPair(policy: SyncPolicy, waitersMax = 64): Promise<Pair> {
  const leader = await startTestGateway()
  cleanups.push(() => leader.stop())
  const logLines: string[] = []
  const sync = leaderSync(leader.gateway.engine, { policy, timeoutMs: TIMEOUT_MS, waitersMax, log: (line) => void logLines.push(line), isCurrent: () => true })
  const verifier = createVerifier({ issuer: 'egress', audience: 'egress-api', clockToleranceSec: 5, hs256Secret: SECRET, jwksReloadMs: 60_000, tokenCacheEntriesMax: 100 })
  const http: HttpService = createHttpService({
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
  const replica = Wal.openReplica(tempDir(), { durability: 'fsync', preallocateBytes: 0 })
  const standby = replicator(replica, () => url)
  cleanups.push(async () => {
    await standby.stop()
    await replica.close()
  })
  const token = await leader.token({})
  const place = async (key: string): Promise<{ status: number; body: Record<string, unknown>; elapsedMs: number }> => {
    const started = Date.now()
    const response = await fetch(`${url}/v1/orders`, post(token, LIMIT_BUY, { 'Idempotency-Key': key }))
    return { status: response.status, body: await json(response), elapsedMs: Date.now() - started }
  }
  return { leader, sync, url, replica, standby, place }
}

/** Does the log hold a record whose payload mentions `needle` (or of `type`)? */
function logHolds(wal: Wal, match: { needle?: string; type?: number }): boolean {
  for (const frame of wal.read(wal.firstLsn)) {
    if (match.type !== undefined && frame.type === match.type) return true
    if (match.needle !== undefined && text(frame.payload).includes(match.needle)) return true
  }
  return false
}

describe('synchronous replication', () => {
  test('a 202 is sent only once the standby holds the order durably', async () => {
    const pair = await startPair('fail_closed')
    // No standby yet: fail_closed refuses new orders before writing anything.
    const lastLsn = pair.leader.gateway.engine.wal.lastLsn
    const early = await pair.place('before-standby')
    expect(early.status).toBe(503)
    expect(errorCode(early.body)).toBe('STANDBY_UNAVAILABLE')
    expect(pair.leader.gateway.engine.wal.lastLsn).toBe(lastLsn)
    // An order list too (review: its legs were written, held by the send gate, and answered REPLICATION_UNCONFIRMED).
    const list = { type: 'oco', account: 'demo-1', client_list_id: 'list-before-standby', orders: [{ ...LIMIT_BUY, price: '59000' }, { ...LIMIT_BUY, price: '58000' }] }
    const listed = await fetch(`${pair.url}/v1/order-lists`, post(await pair.leader.token({}), list))
    expect(listed.status).toBe(503)
    expect(errorCode(await json(listed))).toBe('STANDBY_UNAVAILABLE')
    expect(pair.leader.gateway.engine.wal.lastLsn).toBe(lastLsn)
    pair.standby.start()
    await waitFor(() => pair.sync.state === 'sync', 5_000, 'standby caught up')
    for (let index = 0; index < 5; index++) {
      const placed = await pair.place(`sync-${index}`)
      expect(placed.status).toBe(202)
      // At the moment the 202 arrives, the standby's own log already holds the order.
      expect(logHolds(pair.replica, { needle: String(placed.body.order_id) })).toBe(true)
    }
    expect(pair.sync.standbyDurableLsn).toBeGreaterThan(lastLsn)
  })

  test('fail_closed: with the standby gone, a written order is answered REPLICATION_UNCONFIRMED, then new orders STANDBY_UNAVAILABLE until it is back', async () => {
    const pair = await startPair('fail_closed')
    pair.standby.start()
    await waitFor(() => pair.sync.state === 'sync', 5_000, 'standby caught up')
    expect((await pair.place('ok-1')).status).toBe(202)
    const listToken = await pair.leader.token({})
    const list = (legKeys: [string, string]) => ({ type: 'oco', account: 'demo-1', client_list_id: 'list-ok', orders: [{ ...LIMIT_BUY, price: '59000', client_order_id: legKeys[0] }, { ...LIMIT_BUY, price: '58000', client_order_id: legKeys[1] }] })
    expect((await fetch(`${pair.url}/v1/order-lists`, post(listToken, list(['a0', 'a1'])))).status).toBe(202)
    await pair.standby.stop()

    const unconfirmed = await pair.place('while-gone-1')
    expect(unconfirmed.status).toBe(503)
    expect(errorCode(unconfirmed.body)).toBe('REPLICATION_UNCONFIRMED')
    // At most the sync timeout (and slack): sooner when the leader's periodic check finds the standby silent for the
    // timeout, counted from its last acknowledgement, before this order's own wait ends (seen at 259 ms under load).
    expect(unconfirmed.elapsedMs).toBeLessThan(TIMEOUT_MS + 2_000)
    const answer = (unconfirmed.body.error as { details: { answer: { order_id: string } } }).details.answer
    // It is in the leader's log (a retry with the same key finds it), not on the standby.
    expect(logHolds(pair.leader.gateway.engine.wal, { needle: answer.order_id })).toBe(true)
    expect(logHolds(pair.replica, { needle: answer.order_id })).toBe(false)
    expect(pair.sync.state).toBe('down')

    // (The log still grows meanwhile: the accepted order's venue call is held and retried, see the next test.)
    expect(logHolds(pair.leader.gateway.engine.wal, { needle: 'while-gone-1' })).toBe(true)
    const refused = await pair.place('while-gone-2')
    expect(refused.status).toBe(503)
    expect(errorCode(refused.body)).toBe('STANDBY_UNAVAILABLE')
    expect(refused.elapsedMs).toBeLessThan(TIMEOUT_MS)
    expect(logHolds(pair.leader.gateway.engine.wal, { needle: 'while-gone-2' })).toBe(false)
    // A repeat of the written order is told apart before the refusal: answered as the first was, still unconfirmed —
    // never STANDBY_UNAVAILABLE ("nothing was written"), which sent a client retrying under a new key to two orders.
    const repeated = await pair.place('while-gone-1')
    expect(repeated.status).toBe(503)
    expect(errorCode(repeated.body)).toBe('REPLICATION_UNCONFIRMED')
    expect((repeated.body.error as { details: { answer: { order_id: string } } }).details.answer.order_id).toBe(answer.order_id)
    // An amend adds risk as an order does: refused up front, nothing written (it was taken and its send held).
    const token = await pair.leader.token({})
    const okOrder = [...pair.leader.gateway.engine.state.orders.values()].find((order) => order.idempotencyKey === 'ok-1')
    const lsnBeforeAmend = pair.leader.gateway.engine.wal.lastLsn
    const amended = await fetch(`${pair.url}/v1/orders/${okOrder?.orderId}/amend`, post(token, { qty: '0.02' }))
    expect(amended.status).toBe(503)
    expect(errorCode(await json(amended))).toBe('STANDBY_UNAVAILABLE')
    expect(pair.leader.gateway.engine.wal.lastLsn).toBe(lsnBeforeAmend)
    // A cut adds no risk: taken (its send held for the standby like any place).
    const cut = await fetch(`${pair.url}/v1/orders/${okOrder?.orderId}/amend`, post(token, { qty: '0.005' }))
    expect(cut.status === 503 ? errorCode(await json(cut)) : cut.status).not.toBe('STANDBY_UNAVAILABLE')
    // A list whose key is in the log, asked again with other leg keys: told apart as the kernel tells it (a conflict),
    // never "nothing was written".
    const relisted = await fetch(`${pair.url}/v1/order-lists`, post(listToken, list(['b0', 'b1'])))
    const relistedBody = await json(relisted)
    expect(relisted.status === 503 ? errorCode(relistedBody) : relisted.status).not.toBe('STANDBY_UNAVAILABLE')

    pair.standby.start()
    await waitFor(() => pair.sync.state === 'sync', 5_000, 'standby back')
    const retried = await pair.place('while-gone-1')
    expect(retried.status).toBe(202)
    expect(retried.body.order_id).toBe(answer.order_id)
    expect((await pair.place('after-1')).status).toBe(202)
  })

  test('fail_closed: a logged rejection is held for the standby like a 202, so a new leader could not answer its key differently', async () => {
    const pair = await startPair('fail_closed')
    const token = await pair.leader.token({})
    const reject = async (key: string): Promise<{ status: number; body: Record<string, unknown> }> => {
      // Far below the price band: the kernel rejects it and logs the rejection under its key.
      const response = await fetch(`${pair.url}/v1/orders`, post(token, { ...LIMIT_BUY, price: '1000' }, { 'Idempotency-Key': key }))
      return { status: response.status, body: await json(response) }
    }
    pair.standby.start()
    await waitFor(() => pair.sync.state === 'sync', 5_000, 'standby caught up')
    const held = await reject('band-1')
    expect(held.status).toBe(422)
    expect(errorCode(held.body)).toBe('PRICE_BAND')
    // When the 422 arrives, the standby already holds the rejection.
    expect(logHolds(pair.replica, { needle: 'band-1' })).toBe(true)

    // The standby stops acknowledging (still counted in sync for the timeout): the rejection is written on the
    // leader but not confirmed, so it is not answered as final.
    await pair.standby.stop()
    // Answers no command decided wrote nothing and are not held: bad input is answered at once.
    const startedMs = Date.now()
    const invalid = await fetch(`${pair.url}/v1/orders`, post(token, { ...LIMIT_BUY, qty: 'many' }, { 'Idempotency-Key': 'bad-1' }))
    expect(invalid.status).toBe(400)
    expect(Date.now() - startedMs).toBeLessThan(TIMEOUT_MS)
    const unconfirmed = await reject('band-2')
    expect(unconfirmed.status).toBe(503)
    expect(errorCode(unconfirmed.body)).toBe('REPLICATION_UNCONFIRMED')
    const answer = (unconfirmed.body.error as { details: { answer: { error: { code: string } } } }).details.answer
    expect(answer.error.code).toBe('PRICE_BAND')
    expect(logHolds(pair.leader.gateway.engine.wal, { needle: 'band-2' })).toBe(true)
    expect(logHolds(pair.replica, { needle: 'band-2' })).toBe(false)

    pair.standby.start()
    await waitFor(() => pair.sync.state === 'sync', 5_000, 'standby back')
    const retried = await reject('band-2')
    expect(retried.status).toBe(422)
    expect(retried.body).toEqual(answer)
  })

  test('degrade_async: with the standby gone, orders are acknowledged without waiting and the gap is recorded in the log', async () => {
    const pair = await startPair('degrade_async')
    pair.standby.start()
    await waitFor(() => pair.sync.state === 'sync', 5_000, 'standby caught up')
    expect((await pair.place('ok-1')).status).toBe(202)
    await pair.standby.stop()
    const wal = pair.leader.gateway.engine.wal

    const degraded = await pair.place('while-gone-1')
    expect(degraded.status).toBe(202)
    expect(degraded.elapsedMs).toBeLessThan(TIMEOUT_MS + 2_000)
    await waitFor(() => logHolds(wal, { type: HA_REPLICATION_DEGRADED.type }), 2_000, 'degraded alert record')
    const fast = await pair.place('while-gone-2')
    expect(fast.status).toBe(202)
    expect(fast.elapsedMs).toBeLessThan(TIMEOUT_MS)

    pair.standby.start()
    await waitFor(() => pair.sync.state === 'sync', 5_000, 'standby back')
    await waitFor(() => logHolds(wal, { type: HA_REPLICATION_RESTORED.type }), 2_000, 'restored alert record')
    // The standby receives the alert records like any other (they are part of the one history).
    await waitFor(() => pair.replica.lastLsn === wal.lastLsn, 5_000, 'standby caught up again')
    expect(logHolds(pair.replica, { type: HA_REPLICATION_DEGRADED.type })).toBe(true)
    expect((await pair.place('after-1')).status).toBe(202)
  })

  test('fail_closed: the venue is called for a place only once the standby holds its send record; with the standby gone the call is held and retried, not made', async () => {
    const pair = await startPair('fail_closed')
    const wal = pair.leader.gateway.engine.wal
    // Every place call the venue receives: did the standby's log hold the order's latest send record at that moment?
    const calls: { clientOrderId: string; standbyHeldSend: boolean }[] = []
    const venue = pair.leader.venue
    const place = venue.place.bind(venue)
    venue.place = (request) => {
      const sendLsns = sendRecordLsns(wal, request.clientOrderId)
      calls.push({ clientOrderId: request.clientOrderId, standbyHeldSend: sendLsns.length > 0 && pair.replica.lastLsn >= Math.max(...sendLsns) })
      return place(request)
    }
    pair.standby.start()
    await waitFor(() => pair.sync.state === 'sync', 5_000, 'standby caught up')
    for (let index = 0; index < 3; index++) expect((await pair.place(`gated-${index}`)).status).toBe(202)
    await waitFor(() => calls.length === 3, 5_000, 'three venue calls')
    expect(calls.every((call) => call.standbyHeldSend)).toBe(true)

    // The standby goes away. An order already accepted (here placed past the HTTP guard, as one accepted just
    // before) gets its send record on the leader; the call waits for the standby up to the sync timeout, then is
    // held: recorded as a send retry, never made while the standby does not hold a send record for it.
    await pair.standby.stop()
    const principal = { id: 'alice', roles: ['trader' as const], accounts: ['demo-1'], liveAllowed: false }
    const accepted = await pair.leader.gateway.place(principal, { ...LIMIT_BUY, client_order_id: 'held-back' }, null)
    expect(accepted.reply.kind).toBe('accepted')
    await waitFor(() => logHolds(wal, { needle: 'HA_STANDBY_UNCONFIRMED' }), TIMEOUT_MS * 5, 'the held send recorded as a retry')
    expect(pair.sync.state).toBe('down')
    await Bun.sleep(TIMEOUT_MS * 2)
    expect(calls).toHaveLength(3)
    expect(pair.leader.gateway.executor.stats.gateHolds).toBeGreaterThanOrEqual(1)
    // Once the standby is back and caught up, the retry goes out — after the standby holds its send record.
    pair.standby.start()
    await waitFor(() => pair.sync.state === 'sync', 5_000, 'standby back')
    await waitFor(() => calls.length === 4, TIMEOUT_MS * 10, 'the held order placed after the standby returned')
    expect(calls[3]?.standbyHeldSend).toBe(true)
    expect((await pair.place('after-return')).status).toBe(202)
    await waitFor(() => calls.length === 5, 5_000, 'fifth venue call')
    expect(calls.every((call) => call.standbyHeldSend)).toBe(true)
    expect(new Set(calls.map((call) => call.clientOrderId)).size).toBe(5)
  })

  test('with the 202 waiter table full and a healthy standby, a place still waits for the standby to hold its send record', async () => {
    const pair = await startPair('fail_closed', 4)
    const wal = pair.leader.gateway.engine.wal
    const calls: { clientOrderId: string; standbyHeldSend: boolean; sendsWaiting: number }[] = []
    const venue = pair.leader.venue
    const place = venue.place.bind(venue)
    venue.place = (request) => {
      const sendLsns = sendRecordLsns(wal, request.clientOrderId)
      calls.push({ clientOrderId: request.clientOrderId, standbyHeldSend: sendLsns.length > 0 && pair.replica.lastLsn >= Math.max(...sendLsns), sendsWaiting: pair.sync.sendsWaiting })
      return place(request)
    }
    pair.standby.start()
    await waitFor(() => pair.sync.state === 'sync', 5_000, 'standby caught up')
    // Four 202s wait for LSNs the log has not reached: the 202 table is full (they time out after TIMEOUT_MS).
    const saturating = Array.from({ length: 4 }, () => pair.sync.wait(wal.lastLsn + 1_000))
    expect(await pair.sync.wait(wal.lastLsn + 1_000)).toBe('timeout')
    const principal = { id: 'alice', roles: ['trader' as const], accounts: ['demo-1'], liveAllowed: false }
    for (let index = 0; index < 3; index++) {
      expect((await pair.leader.gateway.place(principal, { ...LIMIT_BUY, client_order_id: `saturated-${index}` }, null)).reply.kind).toBe('accepted')
    }
    await Promise.all(saturating)
    // Whether a call went out while the table was full or was held and retried after the timeouts: each is made
    // once, and only with the standby holding its send record.
    await waitFor(() => calls.length >= 3, TIMEOUT_MS * 20, 'three venue calls')
    await Bun.sleep(TIMEOUT_MS)
    expect(calls).toHaveLength(3)
    expect(calls.every((call) => call.standbyHeldSend)).toBe(true)
  })

  test('a send waiting for the standby is not made once this node stops leading', async () => {
    const pair = await startPair('fail_closed')
    pair.standby.start()
    await waitFor(() => pair.sync.state === 'sync', 5_000, 'standby caught up')
    await pair.standby.stop()
    const calls: string[] = []
    const venue = pair.leader.venue
    const place = venue.place.bind(venue)
    venue.place = (request) => {
      calls.push(request.clientOrderId)
      return place(request)
    }
    const principal = { id: 'alice', roles: ['trader' as const], accounts: ['demo-1'], liveAllowed: false }
    const accepted = await pair.leader.gateway.place(principal, { ...LIMIT_BUY, client_order_id: 'deposed-before-send' }, null)
    expect(accepted.reply.kind).toBe('accepted')
    await Bun.sleep(TIMEOUT_MS / 3)
    pair.sync.close()
    await Bun.sleep(TIMEOUT_MS * 2)
    expect(calls).toEqual([])
  })

  test('a wait begun after this node stopped leading is answered unconfirmed at once, under degrade_async too', async () => {
    const pair = await startPair('degrade_async')
    pair.standby.start()
    await waitFor(() => pair.sync.state === 'sync', 5_000, 'standby caught up')
    await pair.standby.stop()
    pair.sync.close()
    const started = Date.now()
    const outcome = await pair.sync.wait(pair.leader.gateway.engine.wal.lastLsn + 1)
    expect(outcome).toBe('timeout')
    expect(Date.now() - started).toBeLessThan(TIMEOUT_MS / 2)
  })

  test('the acknowledgement route checks the token and the body', async () => {
    const pair = await startPair('fail_closed')
    const ack = (body: string, token = 'test-replication-token'): Promise<Response> =>
      fetch(`${pair.url}/replication/ack`, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body })
    const epoch = pair.leader.gateway.engine.wal.epoch
    expect((await ack(JSON.stringify({ lsn: 1, epoch }), 'wrong-token-wrong-token')).status).toBe(401)
    expect((await ack(JSON.stringify({ lsn: -1, epoch }))).status).toBe(400)
    expect((await ack(JSON.stringify({ lsn: 1, epoch: 0 }))).status).toBe(400)
    expect((await ack('nope')).status).toBe(400)
    // Past the log's end: refused, and not counted (it would confirm writes the standby does not hold yet).
    const lastLsn = pair.leader.gateway.engine.wal.lastLsn
    const durableBefore = pair.sync.standbyDurableLsn
    const ahead = await ack(JSON.stringify({ lsn: lastLsn + 1_000, epoch }))
    expect(ahead.status).toBe(400)
    expect(((await ahead.json()) as { error: { details: unknown } }).error.details).toEqual({ lsn: lastLsn + 1_000, last_lsn: lastLsn })
    expect(pair.sync.standbyDurableLsn).toBe(durableBefore)
    expect((await ack(JSON.stringify({ lsn: lastLsn, epoch }))).status).toBe(204)
    expect(pair.sync.state).toBe('sync')
  })

  test('an acknowledgement names its node (node_id, checked); the leader counts its in-sync set by name, an unnamed one as one member', async () => {
    const pair = await startPair('fail_closed')
    await pair.standby.stop()
    const ack = (body: unknown): Promise<Response> =>
      fetch(`${pair.url}/replication/ack`, { method: 'POST', headers: { Authorization: 'Bearer test-replication-token', 'Content-Type': 'application/json' }, body: JSON.stringify(body) })
    const epoch = pair.leader.gateway.engine.wal.epoch
    const lsn = pair.leader.gateway.engine.wal.lastLsn
    for (const nodeId of ['', 'a\nb', 'x'.repeat(129), 7, null]) {
      const refused = await ack({ lsn, epoch, node_id: nodeId })
      expect(refused.status).toBe(400)
      expect(errorCode((await refused.json()) as Record<string, unknown>)).toBe('VALIDATION_FAILED')
    }
    expect((await ack({ lsn, epoch, node_id: 'node-b' })).status).toBe(204)
    expect((await ack({ lsn, epoch })).status).toBe(204)
    const members = pair.sync.status().in_sync?.map((member) => member.node_id).sort()
    expect(members).toContain('node-b')
    expect(members).toContain(null)
  })

  test("an acknowledgement naming the leader's own node id is refused, not counted (two nodes on one --node-id); another id is taken", async () => {
    const wal = Wal.openReplica(tempDir('ack-own-id'), { durability: 'none' })
    const app = replicationApp(() => wal, haHttp({ nodeId: 'host-a:8080' }))
    const ack = (nodeId: string): Promise<Response> =>
      Promise.resolve(app.request('/replication/ack', { method: 'POST', headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ lsn: 0, epoch: wal.epoch, node_id: nodeId }) }))
    const own = await ack('host-a:8080')
    expect(own.status).toBe(409)
    expect(JSON.stringify(await own.json())).toContain("this leader's own node id")
    expect((await ack('host-b:8080')).status).toBe(204)
    wal.close()
  })

  /**
   * An acknowledgement said only `{lsn}`: one a standby meant for the leader of another term — an old leader's, sent
   * late or to a URL that now serves a new term; or a deposed leader's successor's, reaching the zombie — was counted
   * as if it were about this log, whose records at those LSNs may be others (a node that led, stepped down, cut its
   * log back to the shared prefix and leads again at the same URL). Counted, it confirmed 202s and venue calls the
   * standby does not hold. An acknowledgement now names the epoch of the stream it came from (the stream's
   * x-egress-leader-epoch header), and only this term's is counted.
   */
  test("an acknowledgement is counted only when it names this leader's epoch (none: STANDBY_TOO_OLD; another: CONFLICT)", async () => {
    const pair = await startPair('fail_closed')
    const ack = (body: unknown): Promise<Response> =>
      fetch(`${pair.url}/replication/ack`, { method: 'POST', headers: { Authorization: 'Bearer test-replication-token', 'Content-Type': 'application/json' }, body: JSON.stringify(body) })
    const wal = pair.leader.gateway.engine.wal
    const lastLsn = wal.lastLsn
    const codes: [number, string | null][] = []
    for (const body of [{ lsn: lastLsn }, { lsn: lastLsn, epoch: wal.epoch + 1 }]) {
      const response = await ack(body)
      codes.push([response.status, response.status === 204 ? null : errorCode(await json(response))])
    }
    expect(codes).toEqual([[409, 'STANDBY_TOO_OLD'], [409, 'CONFLICT']])
    expect({ state: pair.sync.state, durable: pair.sync.standbyDurableLsn, acked: pair.sync.lastAckAtMs }).toEqual({ state: 'down', durable: 0, acked: null })
    // The replicator names the epoch of its stream: its acknowledgements count.
    pair.standby.start()
    await waitFor(() => pair.sync.state === 'sync', 3_000, 'the standby in sync')
    // The term's SyncReplication itself counts no other epoch's (a route of another term handing one over).
    pair.sync.acknowledge(lastLsn + 1, wal.epoch + 1)
    expect(pair.sync.standbyDurableLsn).toBe(lastLsn)
  })
})

/** The LSNs of the send records (send_requested) of the order the venue knows as `clientOrderId`. */
function sendRecordLsns(wal: Wal, clientOrderId: string): number[] {
  const lsns: number[] = []
  for (const frame of wal.read(wal.firstLsn)) {
    if (frame.type !== EVENT_CODES['order.send_requested']) continue
    const event = domainEventOf(frame)
    if (event?.type === 'order.send_requested' && event.venueClientOrderId === clientOrderId) lsns.push(frame.lsn)
  }
  return lsns
}
