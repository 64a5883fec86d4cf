/**
 * The 401s someone following the README's first five minutes meets, each with its stable code and reason and a
 * message that says what to do: no header, `Bearer $TOKEN` with TOKEN unset in a second terminal, a token past its
 * expiry, and one minted for another data directory (a secret the gateway does not hold). Before, they said only
 * "a bearer token is required", "the token is malformed: expected ...", "the token has expired" and "the token
 * signature is invalid".
 */

import { describe, expect, test } from 'bun:test'
import { Hono } from 'hono'
import { createErrorHandler, notFound } from '../../../src/http/errors.ts'
import { principalOf, requireAuth, type AuthEnv } from '../../../src/http/auth/index.ts'
import { hsToken, verifier, SECRET } from './fixtures.ts'

function app() {
  const v = verifier({ hs256Secret: SECRET })
  const app = new Hono<AuthEnv>()
  app.onError(createErrorHandler({ log: () => {} }))
  app.notFound(notFound)
  app.use('/v1/*', requireAuth(v))
  app.get('/v1/me', (c) => c.json(principalOf(c)))
  return app
}

async function refusal(headers: Record<string, string>): Promise<{ status: number; code: string; reason: string; message: string }> {
  const res = await app().request('/v1/me', { headers })
  const body = (await res.json()) as { error: { code: string; message: string; details: { reason: string } } }
  return { status: res.status, code: body.error.code, reason: body.error.details.reason, message: body.error.message }
}

describe('what a newcomer reads on a 401', () => {
  test('no Authorization header names the header to send', async () => {
    expect(await refusal({})).toEqual({ status: 401, code: 'UNAUTHENTICATED', reason: 'missing', message: 'a bearer token is required: send "Authorization: Bearer <token>"' })
  })

  test('"Bearer" with nothing after it (an unset $TOKEN) says the token is empty', async () => {
    for (const header of ['Bearer ', 'Bearer', 'bearer   ']) {
      expect(await refusal({ Authorization: header })).toEqual({
        status: 401,
        code: 'UNAUTHENTICATED',
        reason: 'malformed',
        message: 'the token is malformed: the token after "Bearer" is empty (is $TOKEN set in this shell?)',
      })
    }
  })

  test('an expired token says to get a new one', async () => {
    const found = await refusal({ Authorization: `Bearer ${await hsToken({ expInSec: -3600 })}` })
    expect(found).toEqual({ status: 401, code: 'UNAUTHENTICATED', reason: 'expired', message: 'the token has expired: get a new one' })
  })

  test('a token signed with another secret (egress token on another data directory) says so', async () => {
    const found = await refusal({ Authorization: `Bearer ${await hsToken({}, 'another-data-dir-secret-0123456789abcdef')}` })
    expect([found.status, found.code, found.reason]).toEqual([401, 'UNAUTHENTICATED', 'bad_signature'])
    expect(found.message).toStartWith('the token signature is invalid: ')
    expect(found.message).toContain('`egress token` run on another data directory or config')
    expect(found.message).toEndWith('get a new token')
  })
})
