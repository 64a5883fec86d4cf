/**
 * W3C Trace Context on order create, cancel and amend (src/http/trace.ts): the caller's traceparent is joined, or a
 * trace is started (absent or malformed: never an error); egress's span is answered as `traceresponse` and recorded
 * on what the request writes, so the order's GET, /explain, /events and streams show it — after a restart too.
 */

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseTraceparent } from '../../src/domain/trace-context.ts'
import { replayVerify } from '../../src/runtime/snapshot/replay-verify.ts'
import { domainEventOf } from '../../src/runtime/records.ts'
import { errorCode, eventually, json, LIMIT_BUY, post, auth, startTestGateway, type TestGateway } from './fixture.ts'
import { SseReader } from './sse-client.ts'

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736'
const CALLER = `00-${TRACE_ID}-00f067aa0ba902b7-01`
const HEX32 = /^[0-9a-f]{32}$/

let t: TestGateway
let trader: string
const dataDir = mkdtempSync(join(tmpdir(), 'egress-trace-'))

beforeAll(async () => {
  t = await startTestGateway({ config: { dataDir } })
  trader = await t.token({ sub: 'alice', roles: ['trader'], accounts: ['demo-1'] })
})
afterAll(async () => {
  await t.stop()
  rmSync(dataDir, { recursive: true, force: true })
})

async function place(key: string, headers: Record<string, string> = {}): Promise<Response> {
  return t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': key, ...headers }))
}

/** The order's records in the log, of one type. */
function recordsOf(orderId: string, type: string): Record<string, unknown>[] {
  const found: Record<string, unknown>[] = []
  for (const frame of t.gateway.engine.wal.read(1)) {
    const event = domainEventOf(frame) as (Record<string, unknown> & { type: string }) | null
    if (event !== null && event.type === type && event.orderId === orderId) found.push(event)
  }
  return found
}

/** Egress's span: version 00, the expected trace id, a span id of its own (not the caller's), the flags. */
function expectEgressSpan(traceresponse: string | null, traceId: string | RegExp, flags = '01'): string {
  expect(traceresponse).not.toBeNull()
  const context = parseTraceparent(traceresponse)
  expect(context).not.toBeNull()
  expect((traceresponse as string).startsWith('00-')).toBe(true)
  if (typeof traceId === 'string') expect(context?.traceId).toBe(traceId)
  else expect(context?.traceId).toMatch(traceId)
  expect(context?.parentId).not.toBe('00f067aa0ba902b7')
  expect(context?.flags).toBe(flags)
  return traceresponse as string
}

describe('traceparent on POST /v1/orders', () => {
  test("a valid traceparent is joined: traceresponse names the caller's trace and egress's span, which order.accepted records", async () => {
    const res = await place('trace-valid', { traceparent: CALLER })
    expect(res.status).toBe(202)
    const span = expectEgressSpan(res.headers.get('traceresponse'), TRACE_ID)
    const orderId = (await json(res)).order_id as string
    expect(recordsOf(orderId, 'order.accepted').map((event) => event.traceparent)).toEqual([span])
    const view = await json(await t.request(`/v1/orders/${orderId}`, { headers: auth(trader) }))
    expect(view.trace_id).toBe(TRACE_ID)
  })

  test('the sampled flag is kept from the caller; a higher version is read by its version-00 prefix', async () => {
    const unsampled = await place('trace-unsampled', { traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-00` })
    expectEgressSpan(unsampled.headers.get('traceresponse'), TRACE_ID, '00')
    const future = await place('trace-future', { traceparent: `cc-${TRACE_ID}-00f067aa0ba902b7-01-more` })
    expect(future.status).toBe(202)
    expectEgressSpan(future.headers.get('traceresponse'), TRACE_ID)
  })

  test('without a traceparent egress starts a trace: a new trace id, answered and recorded', async () => {
    const res = await place('trace-absent')
    expect(res.status).toBe(202)
    const span = expectEgressSpan(res.headers.get('traceresponse'), HEX32)
    const orderId = (await json(res)).order_id as string
    expect(recordsOf(orderId, 'order.accepted').map((event) => event.traceparent)).toEqual([span])
    const other = await place('trace-absent-2')
    expect(parseTraceparent(other.headers.get('traceresponse'))?.traceId).not.toBe(parseTraceparent(span)?.traceId)
  })

  test('a malformed traceparent is never an error: the order is accepted under a new trace, the malformed one is not recorded', async () => {
    const malformed = [
      CALLER.toUpperCase(),
      `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`,
      `00-${TRACE_ID}-${'0'.repeat(16)}-01`,
      `ff-${TRACE_ID}-00f067aa0ba902b7-01`,
      `00-${TRACE_ID}-00f067aa0ba902b7-01-extra`,
      `${CALLER}, ${CALLER}`,
      'garbage',
    ]
    for (const [index, value] of malformed.entries()) {
      const res = await place(`trace-malformed-${index}`, { traceparent: value })
      expect(res.status).toBe(202)
      const span = expectEgressSpan(res.headers.get('traceresponse'), HEX32)
      expect(parseTraceparent(span)?.traceId).not.toBe(TRACE_ID)
      const orderId = (await json(res)).order_id as string
      expect(recordsOf(orderId, 'order.accepted').map((event) => event.traceparent)).toEqual([span])
    }
  })

  test('a repeat of the key answers the first body byte for byte whatever its traceparent, records nothing, and the order keeps the first trace', async () => {
    const first = await place('trace-repeat', { traceparent: CALLER })
    const firstText = await first.text()
    const orderId = (JSON.parse(firstText) as { order_id: string }).order_id
    const lsn = t.gateway.engine.wal.lastLsn
    const other = `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01`
    for (const headers of [{ traceparent: other }, {}, { traceparent: 'garbage' }]) {
      const again = await place('trace-repeat', headers)
      expect(again.status).toBe(first.status)
      expect(await again.text()).toBe(firstText)
      expect(again.headers.get('Idempotent-Replayed')).toBe('true')
      // The header is about this exchange (egress's span in the repeat's trace); the body is about the order.
      expect(again.headers.get('traceresponse')).not.toBeNull()
    }
    expect(recordsOf(orderId, 'order.accepted')).toHaveLength(1)
    expect(Array.from(t.gateway.engine.wal.read(lsn + 1), domainEventOf).filter((event) => event?.type === 'order.accepted')).toEqual([])
    expect((await json(await t.request(`/v1/orders/${orderId}`, { headers: auth(trader) }))).trace_id).toBe(TRACE_ID)
  })

  test('an error answer carries traceresponse too (400 with no idempotency key)', async () => {
    const res = await t.request('/v1/orders', post(trader, LIMIT_BUY, { traceparent: CALLER }))
    expect(res.status).toBe(400)
    expect(errorCode(await json(res))).toBe('IDEMPOTENCY_KEY_MISSING')
    expectEgressSpan(res.headers.get('traceresponse'), TRACE_ID)
  })
})

describe('traceparent on cancel and amend, and where the trace shows', () => {
  test('amend and cancel record their own trace on what they write; /explain and /events show each', async () => {
    const placed = await place('trace-actions', { traceparent: CALLER })
    const orderId = (await json(placed)).order_id as string
    await eventually(() => t.gateway.engine.state.orders.get(orderId)?.status === 'AckedOpen')
    const amendTrace = `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`
    const amended = await t.request(`/v1/orders/${orderId}/amend`, post(trader, { price: '58900' }, { traceparent: amendTrace }))
    expect(amended.status).toBe(202)
    const amendSpan = expectEgressSpan(amended.headers.get('traceresponse'), 'a'.repeat(32))
    expect(recordsOf(orderId, 'order.amend_requested').map((event) => event.traceparent)).toEqual([amendSpan])
    await eventually(() => t.gateway.engine.state.orders.get(orderId)?.amend === null)

    const cancelTrace = `00-${'c'.repeat(32)}-${'d'.repeat(16)}-01`
    const canceled = await t.request(`/v1/orders/${orderId}/cancel`, post(trader, {}, { traceparent: cancelTrace }))
    expect(canceled.status).toBe(202)
    const cancelSpan = expectEgressSpan(canceled.headers.get('traceresponse'), 'c'.repeat(32))
    expect(recordsOf(orderId, 'order.cancel_requested').map((event) => event.traceparent)).toEqual([cancelSpan])

    const explain = await json(await t.request(`/v1/orders/${orderId}/explain`, { headers: auth(trader) }))
    expect(explain.trace_id).toBe(TRACE_ID)
    const decisions = explain.decisions as { outcome: string; trace_id: string | null }[]
    expect(decisions.map((decision) => [decision.outcome, decision.trace_id])).toEqual([
      ['accepted', TRACE_ID],
      ['amend_accepted', 'a'.repeat(32)],
    ])
    const events = (await json(await t.request(`/v1/orders/${orderId}/events`, { headers: auth(trader) }))).events as { type: string; traceparent?: string }[]
    const traced = events.filter((event) => event.traceparent !== undefined).map((event) => [event.type, parseTraceparent(event.traceparent)?.traceId])
    expect(traced).toEqual([
      ['order.accepted', TRACE_ID],
      ['order.amend_requested', 'a'.repeat(32)],
      ['order.cancel_requested', 'c'.repeat(32)],
    ])
  })

  test("a cancel of an order never sent records its trace on the order's local end (order.canceled)", async () => {
    // With the executor stopped the order waits in its lane, never sent: a cancel ends it on the spot.
    t.gateway.executor.stop()
    try {
      const orderId = (await json(await place('trace-unsent'))).order_id as string
      expect(t.gateway.engine.state.orders.get(orderId)?.sendAttempts).toBe(0)
      const canceled = await t.request(`/v1/orders/${orderId}/cancel`, post(trader, {}, { traceparent: CALLER }))
      expect(canceled.status).toBe(202)
      const span = expectEgressSpan(canceled.headers.get('traceresponse'), TRACE_ID)
      expect(recordsOf(orderId, 'order.canceled').map((event) => [event.source, event.traceparent])).toEqual([['local', span]])
    } finally {
      t.gateway.executor.start()
    }
  })

  test('no trace id is a metric label', async () => {
    const metrics = await (await t.request('/metrics')).text()
    expect(metrics).not.toContain(TRACE_ID)
    expect(metrics).not.toContain('trace')
  })
})

describe('across a restart and on streams', () => {
  test('the trace survives a restart (replay): GET and /explain show it, and replay-verify is clean', async () => {
    const res = await place('trace-restart', { traceparent: CALLER })
    const orderId = (await json(res)).order_id as string
    await t.gateway.engine.settled()
    await t.stop()
    t = await startTestGateway({ config: { dataDir } })
    trader = await t.token({ sub: 'alice', roles: ['trader'], accounts: ['demo-1'] })
    await t.http.services.logIndex.whenComplete()
    const view = await json(await t.request(`/v1/orders/${orderId}`, { headers: auth(trader) }))
    expect(view.trace_id).toBe(TRACE_ID)
    expect((await json(await t.request(`/v1/orders/${orderId}/explain`, { headers: auth(trader) }))).trace_id).toBe(TRACE_ID)
    const report = replayVerify(dataDir, { from: 'genesis' })
    expect(report.problems).toEqual([])
    expect(report.ok).toBe(true)
  }, 30_000) // a restart and a replay from genesis: seconds on a loaded machine

  test("the order's stream carries the trace on the records the request wrote", async () => {
    const server = Bun.serve({ hostname: '127.0.0.1', port: 0, idleTimeout: 30, fetch: (request) => t.http.app.fetch(request) })
    try {
      const base = `http://127.0.0.1:${server.port}`
      const placed = await fetch(`${base}/v1/orders`, post(trader, LIMIT_BUY, { 'Idempotency-Key': 'trace-stream', traceparent: CALLER }))
      const span = placed.headers.get('traceresponse')
      const orderId = (await json(placed)).order_id as string
      const res = await fetch(`${base}/v1/orders/${orderId}/stream`, { headers: auth(trader, { 'Last-Event-ID': '0' }) })
      expect(res.status).toBe(200)
      const stream = new SseReader(res)
      const frames = await stream.until((all) => all.some((frame) => frame.event === 'order.accepted'))
      await stream.cancel()
      const accepted = frames.find((frame) => frame.event === 'order.accepted')?.data as { traceparent?: string }
      expect(accepted.traceparent).toBe(span as string)
      expect(parseTraceparent(accepted.traceparent)?.traceId).toBe(TRACE_ID)
    } finally {
      await server.stop(true)
    }
  })
})
