/**
 * Token revocation over HTTP (src/http/routes/revocations.ts): an admin revokes a token by jti or a subject's tokens
 * issued before a time; the next request with it gets 401 TOKEN_REVOKED although the verifier had it cached; other
 * tokens are unaffected; only an admin revokes; a bad body is 400 with paths and records nothing; a restart keeps it.
 */

import { afterEach, describe, expect, test } from 'bun:test'
import { decodeJwt, SignJWT } from 'jose'
import { parseConfig } from '../../src/config/index.ts'
import { startServeGateway } from '../../src/cli/serve-gateway.ts'
import { StoppableClock } from '../../src/cli/stoppable-clock.ts'
import { createVerifier, mintHs256Token, type Role } from '../../src/http/auth/index.ts'
import { createHttpService } from '../../src/http/index.ts'
import { auth, errorCode, json, post, SECRET, startTestGateway, type TestGateway } from './fixture.ts'

const gateways: TestGateway[] = []
afterEach(async () => {
  for (const gateway of gateways.splice(0)) await gateway.stop()
})

async function started(): Promise<TestGateway> {
  const gateway = await startTestGateway()
  gateways.push(gateway)
  return gateway
}

function mint(options: { sub: string; roles?: Role[]; accounts?: string[]; nowMs?: number }): Promise<string> {
  return mintHs256Token(SECRET, {
    sub: options.sub, roles: options.roles ?? ['trader'], accounts: options.accounts ?? ['demo-1'], issuer: 'egress', audience: 'egress-api', ttlSec: 600,
    ...(options.nowMs === undefined ? {} : { nowMs: options.nowMs }),
  })
}

const ORDERS = '/v1/orders?account=demo-1'

describe('POST /v1/admin/revocations', () => {
  test('without until_ms a revocation lasts the longest one may (30 days and 10 minutes): it cannot lapse before a token of the longest lifetime egress token mints', async () => {
    const gateway = await started()
    const admin = await gateway.token({ sub: 'ada', roles: ['admin'], accounts: [] })
    const revoked = await gateway.request('/v1/admin/revocations', post(admin, { jti: 'a-long-lived-token' }))
    expect(revoked.status).toBe(200)
    const { revocation } = (await json(revoked)) as { revocation: { until_ms: number; revoked_at_ms: number } }
    // The route reads its clock for until_ms, the command (revoked_at_ms) a moment later: within a second of 30 days
    // and twice the largest clock tolerance (a token is taken until its exp plus the tolerance, its iat up to the
    // tolerance ahead: revocation-tolerance.test.ts).
    const longestMs = 30 * 24 * 3600 * 1000 + 2 * 300_000
    expect(revocation.until_ms - revocation.revoked_at_ms).toBeGreaterThan(longestMs - 1000)
    expect(revocation.until_ms - revocation.revoked_at_ms).toBeLessThanOrEqual(longestMs)
    const bySubject = await json(await gateway.request('/v1/admin/revocations', post(admin, { sub: 'alice' })))
    const subject = bySubject.revocation as { until_ms: number; revoked_at_ms: number }
    expect(subject.until_ms - subject.revoked_at_ms).toBeGreaterThan(longestMs - 1000)
    expect(subject.until_ms - subject.revoked_at_ms).toBeLessThanOrEqual(longestMs)
  })

  test('a revoked jti gets 401 TOKEN_REVOKED at once, cached or not; another token of the same subject does not', async () => {
    const gateway = await started()
    const admin = await gateway.token({ sub: 'ada', roles: ['admin'], accounts: [] })
    const leaked = await gateway.token({ sub: 'alice' })
    const other = await gateway.token({ sub: 'alice' })
    // Both verified, so both held by the verifier's cache.
    expect((await gateway.request(ORDERS, { headers: auth(leaked) })).status).toBe(200)
    expect((await gateway.request(ORDERS, { headers: auth(other) })).status).toBe(200)
    const jti = decodeJwt(leaked).jti as string
    const untilMs = (decodeJwt(leaked).exp as number) * 1000
    const revoked = await gateway.request('/v1/admin/revocations', post(admin, { jti, until_ms: untilMs, note: 'pasted in a chat' }))
    expect(revoked.status).toBe(200)
    const body = await json(revoked)
    expect(body.revocation).toMatchObject({ kind: 'token', jti, until_ms: untilMs, revoked_by: 'ada', note: 'pasted in a chat' })
    expect(body.lsn).toBe(gateway.gateway.engine.wal.lastLsn)

    const refused = await gateway.request(ORDERS, { headers: auth(leaked) })
    expect(refused.status).toBe(401)
    expect(refused.headers.get('WWW-Authenticate')).toBe('Bearer error="invalid_token"')
    expect(errorCode(await json(refused))).toBe('TOKEN_REVOKED')
    expect((await gateway.request(ORDERS, { headers: auth(other) })).status).toBe(200)

    const ops = await gateway.token({ sub: 'olga', roles: ['ops'], accounts: [] })
    const listed = await json(await gateway.request('/v1/admin/revocations', { headers: auth(ops) }))
    expect(listed.count).toBe(1)
    expect((listed.revocations as { jti: string }[])[0]?.jti).toBe(jti)
  })

  test("a subject's revocation refuses its tokens issued before the bound, in any letter case, not one issued after", async () => {
    const gateway = await started()
    const admin = await gateway.token({ sub: 'ada', roles: ['admin'], accounts: [] })
    const old = await mint({ sub: 'Bot-7', nowMs: Date.now() - 20_000 })
    expect((await gateway.request(ORDERS, { headers: auth(old) })).status).toBe(200)
    const revoked = await gateway.request('/v1/admin/revocations', post(admin, { sub: 'bot-7', issued_before_ms: Date.now() - 10_000 }))
    expect(revoked.status).toBe(200)
    expect((await json(revoked)).revocation).toMatchObject({ kind: 'subject', sub: 'bot-7' })
    expect(errorCode(await json(await gateway.request(ORDERS, { headers: auth(old) })))).toBe('TOKEN_REVOKED')
    const fresh = await mint({ sub: 'Bot-7' })
    expect((await gateway.request(ORDERS, { headers: auth(fresh) })).status).toBe(200)
  })

  test("a subject's revocation within a second: a token egress mints just after it works, one minted just before or known only to the second is refused", async () => {
    const gateway = await started()
    const admin = await gateway.token({ sub: 'ada', roles: ['admin'], accounts: [] })
    const secondMs = (Math.floor(Date.now() / 1000) - 5) * 1000
    const revokedAtMs = secondMs + 300
    const before = await mint({ sub: 'carol', nowMs: secondMs + 100 })
    const revoked = await gateway.request('/v1/admin/revocations', post(admin, { sub: 'carol', issued_before_ms: revokedAtMs }))
    expect(revoked.status).toBe(200)
    // The answer says from when a whole-second token (no iat_ms) is accepted: the next whole second.
    expect((await json(revoked)).revocation).toMatchObject({ issued_before_ms: revokedAtMs, iat_only_from_ms: secondMs + 1000 })
    const after = await mint({ sub: 'carol', nowMs: secondMs + 500 })
    expect(decodeJwt(after)).toMatchObject({ iat: secondMs / 1000, iat_ms: secondMs + 500 })
    expect((await gateway.request(ORDERS, { headers: auth(after) })).status).toBe(200)
    expect(errorCode(await json(await gateway.request(ORDERS, { headers: auth(before) })))).toBe('TOKEN_REVOKED')
    // iat only (an identity provider's token), or an iat_ms that is not an integer inside iat's second: the start of
    // iat's second counts, so refused; a whole-second token of the next second is accepted (from iat_only_from_ms).
    const signed = (iatSec: number, claims: Record<string, unknown>) =>
      new SignJWT({ roles: ['trader'], accounts: ['demo-1'], ...claims }).setProtectedHeader({ alg: 'HS256' }).setSubject('carol').setIssuer('egress')
        .setAudience('egress-api').setIssuedAt(iatSec).setExpirationTime(iatSec + 600).sign(new TextEncoder().encode(SECRET))
    for (const claims of [{}, { iat_ms: secondMs + 1500 }, { iat_ms: secondMs - 1 }, { iat_ms: String(secondMs + 500) }, { iat_ms: secondMs + 500.5 }]) {
      expect(errorCode(await json(await gateway.request(ORDERS, { headers: auth(await signed(secondMs / 1000, claims)) })))).toBe('TOKEN_REVOKED')
    }
    expect((await gateway.request(ORDERS, { headers: auth(await signed(secondMs / 1000 + 1, {})) })).status).toBe(200)
  })

  test('only an admin revokes (403, nothing recorded); ops and auditors list, traders do not', async () => {
    const gateway = await started()
    const lsn = gateway.gateway.engine.wal.lastLsn
    for (const roles of [['ops'], ['auditor'], ['trader']] as Role[][]) {
      const token = await gateway.token({ sub: 'someone', roles, accounts: ['demo-1'] })
      const answer = await gateway.request('/v1/admin/revocations', post(token, { jti: 'x' }))
      expect(answer.status).toBe(403)
      expect(errorCode(await json(answer))).toBe('FORBIDDEN')
    }
    expect(gateway.gateway.engine.wal.lastLsn).toBe(lsn)
    const trader = await gateway.token({ sub: 'alice' })
    expect((await gateway.request('/v1/admin/revocations', { headers: auth(trader) })).status).toBe(403)
    const auditor = await gateway.token({ sub: 'audrey', roles: ['auditor'], accounts: [] })
    expect((await gateway.request('/v1/admin/revocations', { headers: auth(auditor) })).status).toBe(200)
  })

  test('a bad body is 400 VALIDATION_FAILED naming each path, and records nothing', async () => {
    const gateway = await started()
    const admin = await gateway.token({ sub: 'ada', roles: ['admin'], accounts: [] })
    const lsn = gateway.gateway.engine.wal.lastLsn
    const now = Date.now()
    const cases: [unknown, string[]][] = [
      [{}, ['']],
      [{ jti: 'a', sub: 'b' }, ['']],
      [{ jti: 'has space' }, ['jti']],
      [{ jti: 'a', until_ms: now - 1_000 }, ['until_ms']],
      [{ jti: 'a', until_ms: now + 31 * 24 * 3600 * 1000 }, ['until_ms']],
      [{ jti: 'a', issued_before_ms: now }, ['issued_before_ms']],
      [{ sub: 'bob', issued_before_ms: now + 60_000 }, ['issued_before_ms']],
      [{ jti: 'a', until_ms: '1' }, ['until_ms']],
      [{ jti: 'a', extra: true }, ['extra']],
      [{ jti: 'a', note: 'n'.repeat(257) }, ['note']],
    ]
    for (const [body, paths] of cases) {
      const answer = await gateway.request('/v1/admin/revocations', post(admin, body))
      expect(answer.status).toBe(400)
      const error = (await json(answer)).error as { code: string; details: { issues: { path: string }[] } }
      expect(error.code).toBe('VALIDATION_FAILED')
      expect(error.details.issues.map((issue) => issue.path)).toEqual(paths)
    }
    expect(gateway.gateway.engine.wal.lastLsn).toBe(lsn)
    expect(gateway.gateway.engine.state.revocations.tokens.size).toBe(0)
  })

  test('a restart keeps the revocation: the token is still refused by the next process', async () => {
    const gateway = await started()
    const admin = await gateway.token({ sub: 'ada', roles: ['admin'], accounts: [] })
    const leaked = await gateway.token({ sub: 'alice' })
    const jti = decodeJwt(leaked).jti as string
    expect((await gateway.request('/v1/admin/revocations', post(admin, { jti }))).status).toBe(200)
    await gateway.gateway.stop()

    const config = parseConfig({ ...gateway.config, dataDir: gateway.dir })
    const clock = new StoppableClock()
    const restarted = await startServeGateway(config, { clock, buildCommit: 'spec', wal: { preallocateBytes: 0 }, onError: (error) => console.error(error) })
    const verifier = createVerifier({ issuer: 'egress', audience: 'egress-api', clockToleranceSec: 5, hs256Secret: SECRET, jwksReloadMs: 60_000, tokenCacheEntriesMax: 10 })
    const http = createHttpService({ gateway: restarted.gateway, verifier, configDigest: restarted.digest, backpressure: config.backpressure, sse: config.sse, log: () => {} })
    try {
      const refused = await http.app.request(ORDERS, { headers: auth(leaked) })
      expect(refused.status).toBe(401)
      expect(errorCode(await json(refused))).toBe('TOKEN_REVOKED')
      expect((await http.app.request(ORDERS, { headers: auth(await gateway.token({ sub: 'alice' })) })).status).toBe(200)
    } finally {
      http.close()
      verifier.close()
      await restarted.stop()
      clock.cancelAll()
    }
  })

  test('tokens minted by the gateway carry a distinct random jti', async () => {
    const gateway = await started()
    const first = decodeJwt(await gateway.token({ sub: 'alice' })).jti
    const second = decodeJwt(await gateway.token({ sub: 'alice' })).jti
    expect(typeof first).toBe('string')
    expect(first).not.toBe(second)
  })
})
