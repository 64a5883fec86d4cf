import { describe, expect, test } from 'bun:test'
import { Hono } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { bodyLimit } from 'hono/body-limit'
import * as v from 'valibot'
import { ApiError, ERROR_CODES, createErrorHandler, notFound, parseOrThrow } from '../../src/http/errors.ts'

const ORDER = v.object({ qty: v.pipe(v.string(), v.regex(/^\d+$/, 'qty must be digits')), legs: v.array(v.object({ side: v.picklist(['buy', 'sell']) })) })

function app(logged: unknown[] = []) {
  const app = new Hono()
  app.onError(createErrorHandler({ log: (_message, error) => logged.push(error) }))
  app.notFound(notFound)
  app.get('/conflict', () => {
    throw new ApiError('CONFLICT', 'idempotency key reused with another body', { details: { key: 'k1' } })
  })
  app.get('/limited', () => {
    throw new ApiError('RATE_LIMITED', 'slow down', { headers: { 'Retry-After': '2' } })
  })
  app.post('/orders', async (c) => c.json(parseOrThrow(ORDER, await c.req.json())))
  app.post('/strict', async (c) => c.json(v.parse(ORDER, await c.req.json())))
  app.get('/bug', () => {
    throw new TypeError('secret internals at /srv/egress/src/kernel.ts:42')
  })
  app.get('/hono-4xx', () => {
    throw new HTTPException(400, { message: 'Malformed JSON in request body' })
  })
  app.get('/hono-5xx', () => {
    throw new HTTPException(502, { message: 'upstream detail' })
  })
  app.post('/small', bodyLimit({ maxSize: 4 }), (c) => c.text('ok'))
  return app
}

describe('the one error shape', () => {
  test('an ApiError is sent with its status, code, message and details', async () => {
    const res = await app().request('/conflict')
    expect(res.status).toBe(409)
    expect(await res.json()).toEqual({
      error: { code: 'CONFLICT', message: 'idempotency key reused with another body', details: { key: 'k1' } },
    })
  })

  test('an ApiError carries its headers, e.g. Retry-After on 429', async () => {
    const res = await app().request('/limited')
    expect(res.status).toBe(429)
    expect(res.headers.get('Retry-After')).toBe('2')
  })

  test('validation failures list every issue with its path', async () => {
    const body = JSON.stringify({ qty: '1.5', legs: [{ side: 'buy' }, { side: 'hold' }] })
    const res = await app().request('/orders', { method: 'POST', body })
    expect(res.status).toBe(400)
    const json = (await res.json()) as { error: { code: string; details: { issues: { path: string }[] } } }
    expect(json.error.code).toBe('VALIDATION_FAILED')
    expect(json.error.details.issues.map((issue) => issue.path)).toEqual(['qty', 'legs.1.side'])
  })

  test('a thrown ValiError is a validation failure too', async () => {
    const res = await app().request('/strict', { method: 'POST', body: JSON.stringify({ qty: 'x', legs: [] }) })
    expect(res.status).toBe(400)
    expect(await res.json()).toEqual({
      error: { code: 'VALIDATION_FAILED', message: 'qty: qty must be digits', details: { issues: [{ path: 'qty', message: 'qty must be digits' }] } },
    })
  })

  test('an unknown route is 404 NOT_FOUND in the same shape', async () => {
    const res = await app().request('/nowhere')
    expect(res.status).toBe(404)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND')
  })

  test('an unexpected throw is a 500 INTERNAL that leaks neither message nor stack, and is logged', async () => {
    const logged: unknown[] = []
    const res = await app(logged).request('/bug')
    expect(res.status).toBe(500)
    const text = await res.text()
    expect(JSON.parse(text)).toEqual({ error: { code: 'INTERNAL', message: 'internal error', details: {} } })
    expect(text).not.toContain('secret')
    expect(text).not.toContain('kernel.ts')
    expect(logged).toHaveLength(1)
    expect(logged[0]).toBeInstanceOf(TypeError)
  })

  test("Hono's own 4xx exceptions keep their status in the one shape", async () => {
    const res = await app().request('/hono-4xx')
    expect(res.status).toBe(400)
    expect(await res.json()).toEqual({ error: { code: 'MALFORMED_REQUEST', message: 'Malformed JSON in request body', details: {} } })
    const large = await app().request('/small', { method: 'POST', body: 'far too large', headers: { 'Content-Length': '13' } })
    expect(large.status).toBe(413)
    expect(((await large.json()) as { error: { code: string } }).error.code).toBe('PAYLOAD_TOO_LARGE')
  })

  test('a 5xx HTTPException is treated as a bug: opaque 500', async () => {
    const res = await app().request('/hono-5xx')
    expect(res.status).toBe(500)
    expect(await res.text()).not.toContain('upstream')
  })

  test('every code in the dictionary maps to an error status', () => {
    for (const status of Object.values(ERROR_CODES)) expect(status).toBeGreaterThanOrEqual(400)
    expect(new ApiError('NOT_LEADER', 'standby').status).toBe(503)
  })
})
