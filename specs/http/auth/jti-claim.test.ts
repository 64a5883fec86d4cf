/**
 * The `jti` claim is what a revocation of one token names (POST /v1/admin/revocations, revocation-check.ts). jose does
 * not check its type, so a token with `"jti": 5` was accepted with no token id at all: an admin who revoked jti "5" was
 * answered 200 and the token went on working. A jti that is not a string, or that the revocation route could not name
 * (blank, spaces, past 128 characters), is refused as claims_invalid; a token without one can still be revoked by its
 * subject.
 */

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { SignJWT } from 'jose'
import { principalFromClaims } from '../../../src/http/auth/index.ts'
import { auth, json, post, SECRET, startTestGateway, type TestGateway } from '../fixture.ts'

const BASE = { sub: 'alice', roles: ['trader'], accounts: ['demo-1'] }

function refusal(claims: Record<string, unknown>): string | null {
  const principal = principalFromClaims({ ...BASE, ...claims })
  return 'error' in principal ? principal.error : null
}

describe('the jti claim', () => {
  test('a jti that is not a string, or not one a revocation can name, is refused', () => {
    for (const jti of [5, 0, true, null, { id: 'x' }, ['x']]) expect(refusal({ jti })).toBe('jti must be a string')
    for (const jti of ['', ' ', 'a b', 'tab\there', 'ä', 'x\u200b']) expect(refusal({ jti })).toMatch(/^jti must be printable ASCII/)
    expect(refusal({ jti: 'a'.repeat(129) })).toMatch(/^jti must be at most 128 characters/)
  })

  test('a string jti a revocation can name, or none, is accepted', () => {
    for (const jti of [undefined, 'a'.repeat(128), '0b6c3c1e-6a7f-4c43-9d5e-0b3c2f1a9e77', 'AT.Xy_z-1']) expect(refusal(jti === undefined ? {} : { jti })).toBeNull()
  })
})

describe('over HTTP', () => {
  let t: TestGateway
  let admin: string
  beforeAll(async () => {
    t = await startTestGateway()
    admin = await t.token({ sub: 'ada', roles: ['admin'], accounts: [] })
  })
  afterAll(async () => t.stop())

  function token(jti: unknown): Promise<string> {
    // A claims set as a token may carry it, whatever type jose's JWTPayload gives jti.
    return new SignJWT({ ...BASE, jti: jti as string }).setProtectedHeader({ alg: 'HS256' }).setIssuer('egress').setAudience('egress-api').setIssuedAt().setExpirationTime('10m').sign(new TextEncoder().encode(SECRET))
  }

  test('a token with a numeric jti is 401 claims_invalid, not a token its revocation leaves working', async () => {
    const numeric = await token(5)
    const res = await t.request('/v1/orders?account=demo-1', { headers: auth(numeric) })
    expect(res.status).toBe(401)
    const error = (await json(res)).error as { code: string; message: string; details: { reason: string } }
    expect(error.code).toBe('UNAUTHENTICATED')
    expect(error.details.reason).toBe('claims_invalid')
    expect(error.message).toContain('jti must be a string')
  })

  test('a token with a string jti is accepted, and its revocation refuses it', async () => {
    const named = await token('jti-5')
    expect((await t.request('/v1/orders?account=demo-1', { headers: auth(named) })).status).toBe(200)
    expect((await t.request('/v1/admin/revocations', post(admin, { jti: 'jti-5' }))).status).toBe(200)
    const res = await t.request('/v1/orders?account=demo-1', { headers: auth(named) })
    expect(res.status).toBe(401)
    expect(((await json(res)).error as { code: string }).code).toBe('TOKEN_REVOKED')
  })
})
