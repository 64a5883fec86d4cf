/**
 * The app's front (src/http/app.ts): one middleware draws a traced request's trace, bounds the body and counts every
 * request in egress_http_requests_total by the route that answered it and its status class. A refusal of its own (413
 * from the body bound, whether told by the Content-Length or counted from a body without one) is answered in the one
 * error shape, counted as an error by code, and counted as a request under the middleware's route (`/*`); a 401 from
 * auth under `/v1/*`; an answer of a route under the route. Traced routes are told by their path (isTracedRequest).
 * Requests under /v1 are also counted as begun (services.requests: collector pacing's sign of activity).
 */

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { isTracedRequest, TRACED_ROUTES } from '../../src/http/trace.ts'
import { errorCode, json, LIMIT_BUY, post, startTestGateway, type TestGateway } from './fixture.ts'
import { parseExposition } from './metrics/exposition.ts'

let t: TestGateway
let trader: string

beforeAll(async () => {
  t = await startTestGateway()
  trader = await t.token({ sub: 'alice', roles: ['trader'], accounts: ['demo-1'] })
})
afterAll(async () => {
  await t.stop()
})

function sampleOf(family: string, labels: Record<string, string>): number {
  const samples = parseExposition(t.http.services.metrics.render()).families.get(family)?.samples ?? []
  const found = samples.find((sample) => Object.entries(labels).every(([name, value]) => sample.labels[name] === value))
  return found?.value ?? 0
}

const requestsOf = (route: string, status: string): number => sampleOf('egress_http_requests_total', { route, status })
const errorsOf = (code: string): number => sampleOf('egress_http_errors_total', { code })

/** A body past the bound, sent without a Content-Length (a stream: hono's counting bound reads it). */
function streamed(text: string): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      controller.enqueue(new TextEncoder().encode(text))
      controller.close()
    },
  })
}

describe('request accounting', () => {
  test('requests begun under /v1 are counted for collector pacing (an answer of any kind); /health, /metrics and /openapi.json are not', async () => {
    const before = t.http.services.requests.started
    for (const path of ['/health', '/health/live', '/metrics', '/openapi.json']) await t.request(path)
    expect(t.http.services.requests.started).toBe(before)
    await t.request('/v1/orders?account=demo-1', { headers: { Authorization: `Bearer ${trader}` } })
    await t.request('/v1/orders?account=demo-1') // 401: begun all the same
    expect(t.http.services.requests.started).toBe(before + 2)
  })

  test('a body over the bound is 413 PAYLOAD_TOO_LARGE with traceresponse, counted under route /* and as an error, told by Content-Length or counted', async () => {
    const tooLarge = JSON.stringify({ ...LIMIT_BUY, note: 'x'.repeat(t.http.services.limits.bodyBytesMax) })
    const requests = requestsOf('/*', '4xx')
    const errors = errorsOf('PAYLOAD_TOO_LARGE')
    const declared = await t.request('/v1/orders', post(trader, JSON.parse(tooLarge), { 'Idempotency-Key': 'front-413' }))
    expect(declared.status).toBe(413)
    expect(errorCode(await json(declared))).toBe('PAYLOAD_TOO_LARGE')
    expect(declared.headers.get('traceresponse')).not.toBeNull()
    const headers = { Authorization: `Bearer ${trader}`, 'Content-Type': 'application/json', 'Idempotency-Key': 'front-413-streamed' }
    const withoutLength = new Request('http://test/v1/orders', { method: 'POST', headers, body: streamed(tooLarge) })
    expect(withoutLength.headers.get('content-length')).toBeNull()
    const counted = await t.http.app.fetch(withoutLength)
    expect(counted.status).toBe(413)
    expect(errorCode(await json(counted))).toBe('PAYLOAD_TOO_LARGE')
    expect(counted.headers.get('traceresponse')).not.toBeNull()
    expect(requestsOf('/*', '4xx') - requests).toBe(2)
    expect(errorsOf('PAYLOAD_TOO_LARGE') - errors).toBe(2)
  })

  test('a 401 is counted under /v1/*, a 202 under its route; the place is traced either way', async () => {
    const unauthorized = requestsOf('/v1/*', '4xx')
    const accepted = requestsOf('/v1/orders', '2xx')
    const refused = await t.request('/v1/orders', post('not-a-token', LIMIT_BUY, { 'Idempotency-Key': 'front-401' }))
    expect(refused.status).toBe(401)
    expect(refused.headers.get('traceresponse')).not.toBeNull()
    const placed = await t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': 'front-202' }))
    expect(placed.status).toBe(202)
    expect(placed.headers.get('traceresponse')).not.toBeNull()
    expect(requestsOf('/v1/*', '4xx') - unauthorized).toBe(1)
    expect(requestsOf('/v1/orders', '2xx') - accepted).toBe(1)
  })
})

describe('isTracedRequest', () => {
  const traced = (method: string, path: string): boolean => isTracedRequest({ req: { method, path } } as Parameters<typeof isTracedRequest>[0])

  test('a POST to each traced route, with any one-segment id, and nothing else', () => {
    expect(TRACED_ROUTES.length).toBe(4)
    for (const path of ['/v1/orders', '/v1/orders/o-1/cancel', '/v1/orders/x%2Fy/amend', '/v1/accounts/demo-1/flatten']) expect(traced('POST', path)).toBe(true)
    for (const path of ['/v1/orders/', '/v1/orders/o-1', '/v1/orders//cancel', '/v1/orders/a/b/cancel', '/v1/orders/o-1/cancel/', '/v1/order-lists', '/v1/accounts/demo-1/flatten/x', '/v2/orders', 'x/v1/orders']) {
      expect(traced('POST', path)).toBe(false)
    }
    expect(traced('GET', '/v1/orders')).toBe(false)
    expect(traced('PUT', '/v1/orders/o-1/cancel')).toBe(false)
  })
})
