/**
 * W3C Trace Context beyond an accepted order (src/http/trace.ts): a place the kernel rejects records the request's
 * span on `order.rejected` and GET and /explain show its trace; a flatten answers `traceresponse` and records its span
 * on the records it writes for its orders (the closes' `order.accepted`, the cancels); a request refused before it
 * reaches the kernel records nothing but is answered `traceresponse` all the same.
 */

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { parseTraceparent } from '../../src/domain/trace-context.ts'
import { domainEventOf } from '../../src/runtime/records.ts'
import { auth, errorCode, eventually, json, LIMIT_BUY, post, startTestGateway, type TestGateway } from './fixture.ts'
import { isTerminal } from '../../src/domain/states.ts'

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736'
const CALLER = `00-${TRACE_ID}-00f067aa0ba902b7-01`

let t: TestGateway
let trader: string

beforeAll(async () => {
  t = await startTestGateway()
  trader = await t.token({ sub: 'alice', roles: ['trader'], accounts: ['demo-1'] })
})
afterAll(async () => {
  await t.stop()
})

/** The log's records after `afterLsn`, as domain events. */
function recordsAfter(afterLsn: number): (Record<string, unknown> & { type: string })[] {
  const found: (Record<string, unknown> & { type: string })[] = []
  for (const frame of t.gateway.engine.wal.read(afterLsn + 1)) {
    const event = domainEventOf(frame) as (Record<string, unknown> & { type: string }) | null
    if (event !== null) found.push(event)
  }
  return found
}

/** Egress's span in the caller's trace: the caller's trace id, a span id of its own. */
function expectEgressSpan(traceresponse: string | null): string {
  const context = parseTraceparent(traceresponse)
  expect(context?.traceId).toBe(TRACE_ID)
  expect(context?.parentId).not.toBe('00f067aa0ba902b7')
  return traceresponse as string
}

describe('a place the kernel rejects', () => {
  test("records the request's span on order.rejected; GET and /explain show its trace id", async () => {
    const lsn = t.gateway.engine.wal.lastLsn
    const res = await t.request('/v1/orders', post(trader, { ...LIMIT_BUY, qty: '1000' }, { 'Idempotency-Key': 'trace-rejected', traceparent: CALLER }))
    expect(res.status).toBe(422)
    const span = expectEgressSpan(res.headers.get('traceresponse'))
    const orderId = (await json(res)).error as { details: { order_id: string } }
    const id = orderId.details.order_id
    expect(recordsAfter(lsn).filter((event) => event.type === 'order.rejected').map((event) => [event.orderId, event.traceparent])).toEqual([[id, span]])
    const view = await json(await t.request(`/v1/orders/${id}`, { headers: auth(trader) }))
    expect([view.state, view.trace_id]).toEqual(['Rejected', TRACE_ID])
    const explain = await json(await t.request(`/v1/orders/${id}/explain`, { headers: auth(trader) }))
    expect(explain.trace_id).toBe(TRACE_ID)
    expect((explain.decisions as { outcome: string; trace_id: string | null }[]).map((decision) => [decision.outcome, decision.trace_id])).toEqual([['rejected', TRACE_ID]])
  })
})

describe('a flatten', () => {
  test("answers traceresponse and records its span on each close's order.accepted and each cancel; GET of a close shows the trace", async () => {
    const ops = await t.token({ sub: 'olga', roles: ['ops'], accounts: [] })
    const placed = await t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': 'trace-before-flatten' }))
    expect(placed.status).toBe(202)
    const restingId = (await json(placed)).order_id as string
    const lsn = t.gateway.engine.wal.lastLsn
    const res = await t.request('/v1/accounts/demo-1/flatten', post(ops, {}, { 'Idempotency-Key': 'trace-flatten', traceparent: CALLER }))
    expect(res.status).toBe(202)
    const span = expectEgressSpan(res.headers.get('traceresponse'))
    const written = recordsAfter(lsn)
    const closes = written.filter((event) => event.type === 'order.accepted')
    expect(closes.length).toBeGreaterThan(0)
    expect(closes.map((event) => [event.flattenId, event.traceparent])).toEqual(closes.map(() => ['trace-flatten', span]))
    const canceled = written.filter((event) => (event.type === 'order.cancel_requested' || event.type === 'order.canceled') && event.orderId === restingId)
    expect(canceled.map((event) => event.traceparent)).toEqual([span])
    const view = await json(await t.request(`/v1/orders/${closes[0]?.orderId as string}`, { headers: auth(ops) }))
    expect(view.trace_id).toBe(TRACE_ID)
    // The closes (IOC) end before the next test's buy: one still open would refuse it (SELF_TRADE_PREVENTED).
    await eventually(() => closes.every((close) => isTerminal(t.gateway.engine.state.orders.get(String(close.orderId))?.status ?? 'Filled')))
  })

  test('its refusals answer traceresponse too (404 for an unknown account)', async () => {
    const ops = await t.token({ sub: 'olga', roles: ['ops'], accounts: [] })
    const res = await t.request('/v1/accounts/nobody/flatten', post(ops, {}, { traceparent: CALLER }))
    expect(res.status).toBe(404)
    expectEgressSpan(res.headers.get('traceresponse'))
  })
})

describe('a request refused before the kernel', () => {
  test('writes nothing and is answered traceresponse (a 400 from validation)', async () => {
    const lsn = t.gateway.engine.wal.lastLsn
    const res = await t.request('/v1/orders', post(trader, { ...LIMIT_BUY, qty: 'lots' }, { 'Idempotency-Key': 'trace-invalid', traceparent: CALLER }))
    expect(res.status).toBe(400)
    expect(errorCode(await json(res))).toBe('VALIDATION_FAILED')
    expectEgressSpan(res.headers.get('traceresponse'))
    expect(recordsAfter(lsn)).toEqual([])
  })

  test('refused before the route (401 without a valid token, 413 for a body over the bound) it is answered traceresponse; a read is not traced', async () => {
    const unauthenticated = await t.request('/v1/orders', post('not-a-token', LIMIT_BUY, { 'Idempotency-Key': 'trace-401', traceparent: CALLER }))
    expect(unauthenticated.status).toBe(401)
    expectEgressSpan(unauthenticated.headers.get('traceresponse'))
    const tooLarge = await t.request('/v1/orders/x/cancel', post(trader, { note: 'x'.repeat(t.http.services.limits.bodyBytesMax) }, { traceparent: CALLER }))
    expect(tooLarge.status).toBe(413)
    expectEgressSpan(tooLarge.headers.get('traceresponse'))
    const flatten = await t.request('/v1/accounts/demo-1/flatten', post('not-a-token', {}, { traceparent: CALLER }))
    expect(flatten.status).toBe(401)
    expectEgressSpan(flatten.headers.get('traceresponse'))
    const list = await t.request('/v1/orders', { headers: auth(trader, { traceparent: CALLER }) })
    expect(list.status).toBe(200)
    expect(list.headers.get('traceresponse')).toBeNull()
  })

  test('one span per request: the route and the answer agree (the span recorded is the one answered)', async () => {
    const lsn = t.gateway.engine.wal.lastLsn
    const res = await t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': 'trace-one-span', traceparent: CALLER }))
    expect(res.status).toBe(202)
    const span = expectEgressSpan(res.headers.get('traceresponse'))
    expect(recordsAfter(lsn).filter((event) => event.type === 'order.accepted').map((event) => event.traceparent)).toEqual([span])
  })
})
