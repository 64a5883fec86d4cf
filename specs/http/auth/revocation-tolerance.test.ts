/**
 * A revocation must outlast every token it can match, the clock tolerance included: the verifier takes a token until
 * its exp plus the tolerance, and an iat up to the tolerance ahead of the gateway's clock (an issuer's clock running
 * ahead), so a 30-day token revoked at once is good until 30 days plus twice the tolerance after the revocation. It
 * lasted 30 days: the token worked again for the last seconds (minutes with a tolerance of 300 s). And a token without
 * `iat` (required by RFC 9068 §2.2) is refused, for nothing bounds it: revoked while its exp was more than 30 days
 * away, it worked again once its revocation lapsed.
 */

import { afterEach, expect, test } from 'bun:test'
import { decodeJwt, SignJWT } from 'jose'
import { REVOCATION_MS_MAX } from '../../../src/domain/revocations.ts'
import { mintHs256Token } from '../../../src/http/auth/index.ts'
import { TOKEN_TTL_SEC_MAX_LIMIT } from '../../../src/http/auth/mint.ts'
import { auth, json, post, SECRET, startTestGateway, type TestGateway } from '../fixture.ts'

const gateways: TestGateway[] = []
afterEach(async () => {
  for (const gateway of gateways.splice(0)) await gateway.stop()
})

const ORDERS = '/v1/orders?account=demo-1'
const DAY_MS = 24 * 3600 * 1000

/** A gateway whose verifier runs on a clock the spec moves, with `toleranceSec` of clock tolerance. */
async function started(toleranceSec: number) {
  const clock = { nowMs: Date.now() }
  const gateway = await startTestGateway({ verifierNowMs: () => clock.nowMs, verifier: { clockToleranceSec: toleranceSec } })
  gateways.push(gateway)
  const admin = await gateway.token({ sub: 'ada', roles: ['admin'], accounts: [] })
  return { clock, gateway, admin }
}

/** A token of the longest lifetime egress token mints, issued at `nowMs` (on the issuer's clock). */
function longest(sub: string, nowMs: number): Promise<string> {
  return mintHs256Token(SECRET, { sub, roles: ['trader'], accounts: ['demo-1'], issuer: 'egress', audience: 'egress-api', ttlSec: TOKEN_TTL_SEC_MAX_LIMIT, nowMs })
}

/** The 401's code and reason, or the status. */
async function outcome(gateway: TestGateway, token: string): Promise<string> {
  const res = await gateway.request(ORDERS, { headers: auth(token) })
  if (res.status !== 401) return String(res.status)
  const error = (await json(res)).error as { code: string; details: { reason: string } }
  return `${error.code} ${error.details.reason}`
}

for (const toleranceSec of [5, 300]) {
  test(`a 30-day token revoked at once stays refused until it expires, its exp plus the tolerance (${toleranceSec} s)`, async () => {
    const { clock, gateway, admin } = await started(toleranceSec)
    // One by its jti, its issuer's clock as far ahead as the verifier takes (an iat up to the tolerance in the future);
    // one by its subject, issued a second before the revocation.
    clock.nowMs = Date.now()
    const byJti = await longest('alice', clock.nowMs + toleranceSec * 1000)
    const bySubject = await longest('bob', clock.nowMs - 1000)
    for (const token of [byJti, bySubject]) expect(await outcome(gateway, token)).toBe('200')
    // Revoked with the default until_ms: the longest revocation there is.
    expect((await gateway.request('/v1/admin/revocations', post(admin, { jti: decodeJwt(byJti).jti }))).status).toBe(200)
    expect((await gateway.request('/v1/admin/revocations', post(admin, { sub: 'bob' }))).status).toBe(200)
    for (const token of [byJti, bySubject]) {
      const expMs = (decodeJwt(token).exp as number) * 1000
      // The last second the verifier takes the token by its exp: the revocation must still hold it (it had lapsed).
      clock.nowMs = expMs + toleranceSec * 1000 - 1000
      expect(await outcome(gateway, token)).toBe('TOKEN_REVOKED revoked')
      clock.nowMs = expMs + toleranceSec * 1000
      expect(await outcome(gateway, token)).toBe('UNAUTHENTICATED expired')
    }
  })
}

test('a token without iat is refused (401 claims_invalid): revoked while its exp was over 30 days away, it worked again once its revocation lapsed', async () => {
  const { clock, gateway, admin } = await started(5)
  const nowSec = Math.floor(Date.now() / 1000)
  const token = await new SignJWT({ sub: 'carol', roles: ['trader'], accounts: ['demo-1'], jti: 'no-iat-1' }).setProtectedHeader({ alg: 'HS256' })
    .setIssuer('egress').setAudience('egress-api').setExpirationTime(nowSec + 40 * 86_400).sign(new TextEncoder().encode(SECRET))
  expect(decodeJwt(token).iat).toBeUndefined()
  expect((await gateway.request('/v1/admin/revocations', post(admin, { jti: 'no-iat-1' }))).status).toBe(200)
  // Now (its exp over 30 days away), 11 days on (29 days away: it was taken, and refused as revoked) and once the
  // revocation lapsed (it was taken again, 200).
  const outcomes: string[] = []
  for (const atMs of [Date.now(), Date.now() + 11 * DAY_MS, Date.now() + REVOCATION_MS_MAX + 1000]) {
    clock.nowMs = atMs
    outcomes.push(await outcome(gateway, token))
  }
  expect(outcomes).toEqual(Array(3).fill('UNAUTHENTICATED claims_invalid'))
  const res = await gateway.request(ORDERS, { headers: auth(token) })
  expect(((await json(res)).error as { message: string }).message).toContain('iat')
})
