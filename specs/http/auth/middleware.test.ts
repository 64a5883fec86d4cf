import { describe, expect, test } from 'bun:test'
import { Hono } from 'hono'
import { createErrorHandler, notFound } from '../../../src/http/errors.ts'
import { principalOf, requireAuth, requireRole, type AuthEnv } from '../../../src/http/auth/index.ts'
import { hsToken, verifier, SECRET } from './fixtures.ts'

function app() {
  const v = verifier({ hs256Secret: SECRET })
  const app = new Hono<AuthEnv>()
  app.onError(createErrorHandler({ log: () => {} }))
  app.notFound(notFound)
  app.use('/v1/*', requireAuth(v))
  app.get('/v1/me', (c) => c.json(principalOf(c)))
  app.post('/v1/admin/mode', requireRole('admin'), (c) => c.json({ ok: true }))
  return app
}

const bearer = (token: string) => ({ headers: { Authorization: `Bearer ${token}` } })

describe('requireAuth', () => {
  test('a valid token reaches the route with its principal', async () => {
    const res = await app().request('/v1/me', bearer(await hsToken()))
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ sub: 'alice', roles: ['trader'], accounts: ['demo-1'] })
  })

  test('no Authorization header is 401 with a Bearer challenge', async () => {
    const res = await app().request('/v1/me')
    expect(res.status).toBe(401)
    expect(res.headers.get('WWW-Authenticate')).toBe('Bearer')
    expect(await res.json()).toEqual({
      error: { code: 'UNAUTHENTICATED', message: 'a bearer token is required: send "Authorization: Bearer <token>"', details: { reason: 'missing' } },
    })
  })

  test('a non-Bearer scheme is 401 malformed', async () => {
    const res = await app().request('/v1/me', { headers: { Authorization: 'Basic YWxpY2U6cHc=' } })
    expect(res.status).toBe(401)
    expect(((await res.json()) as { error: { details: { reason: string } } }).error.details.reason).toBe('malformed')
  })

  test('the scheme in any case, with spaces around the token (more than one after the scheme: the slow path), is read; a token with another character or too long is 401 malformed', async () => {
    const token = await hsToken()
    for (const header of [`Bearer ${token}`, `bearer ${token}`, `BEARER   ${token}`, `Bearer ${token}  `, `bEaReR  ${token} `]) {
      const res = await app().request('/v1/me', { headers: { Authorization: header } })
      expect([header, res.status]).toEqual([header, 200])
    }
    const reasonOf = async (header: string): Promise<[number, string]> => {
      const res = await app().request('/v1/me', { headers: { Authorization: header } })
      return [res.status, ((await res.json()) as { error: { details: { reason: string } } }).error.details.reason]
    }
    for (const header of [`Bearer ${token}!`, `Bearer\t${token}`, `Bearer ${token} x`, `Bearerx ${token}`]) expect(await reasonOf(header)).toEqual([401, 'malformed'])
    const long = 'a'.repeat(8_193)
    expect(await reasonOf(`Bearer ${long}`)).toEqual([401, 'malformed'])
    expect(await reasonOf(`Bearer  ${long} `)).toEqual([401, 'malformed'])
  })

  test('an expired token is 401 with an invalid_token challenge', async () => {
    const res = await app().request('/v1/me', bearer(await hsToken({ expInSec: -3600 })))
    expect(res.status).toBe(401)
    expect(res.headers.get('WWW-Authenticate')).toBe('Bearer error="invalid_token"')
  })

  test('the middleware functions carry their names for stack traces', () => {
    expect(requireAuth(verifier({ hs256Secret: SECRET })).name).toBe('requireAuth')
    expect(requireRole('admin').name).toBe('requireRole')
  })
})

describe('requireRole', () => {
  test('a principal without the role is 403 FORBIDDEN naming the roles required', async () => {
    const res = await app().request('/v1/admin/mode', { method: 'POST', ...bearer(await hsToken()) })
    expect(res.status).toBe(403)
    expect(await res.json()).toEqual({
      error: { code: 'FORBIDDEN', message: 'requires one of the roles: admin', details: { requiredRoles: ['admin'] } },
    })
  })

  test('a principal with the role passes', async () => {
    const token = await hsToken({ claims: { roles: ['admin'], accounts: [] } })
    const res = await app().request('/v1/admin/mode', { method: 'POST', ...bearer(token) })
    expect(res.status).toBe(200)
  })

  test('an unauthenticated request is 401, not 403', async () => {
    const res = await app().request('/v1/admin/mode', { method: 'POST' })
    expect(res.status).toBe(401)
  })
})
