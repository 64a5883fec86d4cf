/**
 * A revocation lasts at most REVOCATION_MS_MAX (30 days and twice the largest clock tolerance) from when it is recorded
 * (domain/revocations.ts), so no token may be good for longer: the verifier refuses one whose exp is more than 30 days
 * after its iat, and one without iat (revocation-tolerance.test.ts).
 * Such a token (an identity provider's 90-day one) was taken, and once revoked with the longest revocation there is, it
 * worked again 30 days later, while still good.
 */

import { afterEach, expect, test } from 'bun:test'
import { decodeJwt, SignJWT } from 'jose'
import { join } from 'node:path'
import { emptyRevocations, REVOCATION_MS_MAX, type Revocations } from '../../../src/domain/revocations.ts'
import { ApiError } from '../../../src/http/errors.ts'
import { mintHs256Token, type Verifier } from '../../../src/http/auth/index.ts'
import { TOKEN_TTL_SEC_MAX_LIMIT } from '../../../src/http/auth/mint.ts'
import { hsToken, keyToken, signingKey, tempDir, verifier, writeJwks, AUDIENCE, CLAIMS, ISSUER, SECRET } from './fixtures.ts'

const DAY_SEC = 24 * 3600
const open: Verifier[] = []
afterEach(() => {
  for (const item of open.splice(0)) item.close()
})

/** A verifier on a simulated clock trusting HS256 and one JWKS key, with a revocation set the spec writes. */
async function world() {
  const key = await signingKey('ed-1')
  const path = join(tempDir(), 'jwks.json')
  writeJwks(path, [key])
  const clock = { nowMs: Date.now() }
  const v = verifier({ hs256Secret: SECRET, jwksFile: path, nowMs: () => clock.nowMs })
  open.push(v)
  const revocations = emptyRevocations()
  v.useRevocations(() => revocations)
  return { key, clock, v, revocations }
}

/** What POST /v1/admin/revocations records for `token`'s jti without until_ms: the longest revocation there is. */
function revoke(revocations: Revocations, token: string, nowMs: number): void {
  const jti = decodeJwt(token).jti as string
  revocations.tokens.set(jti, { jti, untilMs: nowMs + REVOCATION_MS_MAX, atMs: nowMs, principalId: 'ada', note: '', lsn: 7 })
  revocations.recorded++
}

/** The 401's reason and code, or 'accepted'. */
async function outcome(v: Verifier, token: string): Promise<string> {
  try {
    await v.verify(token)
    return 'accepted'
  } catch (error) {
    if (!(error instanceof ApiError)) throw error
    expect(error.status).toBe(401)
    return `${error.code} ${String(error.details.reason)}`
  }
}

test('a token good for more than 30 days after its iat is refused, by a JWKS key or HS256, so its revocation cannot lapse first', async () => {
  const { key, clock, v, revocations } = await world()
  const tokens = [await keyToken(key, { expInSec: 90 * DAY_SEC, claims: { jti: 'idp-1' } }), await hsToken({ expInSec: 90 * DAY_SEC, claims: { jti: 'hs-1' } })]
  for (const token of tokens) revoke(revocations, token, clock.nowMs)
  // Revoked for the longest a revocation may last, then past it while the tokens are still good: never taken (they
  // were refused TOKEN_REVOKED for 30 days, then taken again).
  const startMs = clock.nowMs
  for (const atMs of [startMs, startMs + REVOCATION_MS_MAX + 1_000, startMs + 89 * DAY_SEC * 1000]) {
    clock.nowMs = atMs
    await v.reloadKeys() // the JWKS file read again on the moved clock: its keys are not stale
    for (const token of tokens) expect(await outcome(v, token)).not.toBe('accepted')
  }
  for (const token of tokens) expect(await outcome(v, token)).toBe('UNAUTHENTICATED claims_invalid')
  await expect(v.verify(tokens[0] as string)).rejects.toThrow('a revocation of the token could not outlast it')
})

/** An HS256 token without iat, good until `expInSec` from now. */
function noIatToken(expInSec: number): Promise<string> {
  return new SignJWT(CLAIMS).setProtectedHeader({ alg: 'HS256' }).setIssuer(ISSUER).setAudience(AUDIENCE)
    .setExpirationTime(Math.floor(Date.now() / 1000) + expInSec).sign(new TextEncoder().encode(SECRET))
}

test('without iat, a token is refused whatever its exp, the message naming the claim', async () => {
  const { v } = await world()
  for (const expInSec of [31 * DAY_SEC, 29 * DAY_SEC, 600]) {
    const token = await noIatToken(expInSec)
    expect(decodeJwt(token).iat).toBeUndefined()
    expect(await outcome(v, token)).toBe('UNAUTHENTICATED claims_invalid')
    await expect(v.verify(token)).rejects.toThrow('the "iat" claim is required')
  }
})

test("the longest token egress token mints (30 days) is taken, and its revocation at once outlasts it", async () => {
  const { clock, v, revocations } = await world()
  const token = await mintHs256Token(SECRET, { sub: 'alice', roles: ['trader'], accounts: ['demo-1'], issuer: ISSUER, audience: AUDIENCE, ttlSec: TOKEN_TTL_SEC_MAX_LIMIT, nowMs: clock.nowMs })
  expect(await outcome(v, token)).toBe('accepted')
  revoke(revocations, token, clock.nowMs)
  const expMs = (decodeJwt(token).exp as number) * 1000
  for (const atMs of [clock.nowMs + 1_000, expMs - 1_000]) {
    clock.nowMs = atMs
    expect(await outcome(v, token)).toBe('TOKEN_REVOKED revoked')
  }
  clock.nowMs = expMs + 60_000
  expect(await outcome(v, token)).toBe('UNAUTHENTICATED expired')
})
