import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Hono } from 'hono'
import { nodeIo, type WalIo } from '../../wal/index.ts'
import { parseAnchors, readSealUnverified, verifyLogDirectory, keyResolverFromJwk } from '../../src/audit/index.ts'
import { requireAuth, type AuthEnv, type Role } from '../../src/http/auth/index.ts'
import { createErrorHandler } from '../../src/http/errors.ts'
import { auditRoutes } from '../../src/http/routes/audit.ts'
import { editPayloadByte, frameAt, testKeys, type TestKeys } from '../audit/support.ts'
import { auth, errorCode, json, LIMIT_BUY, post, startTestGateway, type TestGateway } from './fixture.ts'

const ROUTES: [string, string][] = [['GET', '/v1/audit/verify'], ['GET', '/v1/audit/seals'], ['POST', '/v1/audit/anchor']]

let keyDir: string
let keys: TestKeys
let sealed: TestGateway
let unsealed: TestGateway
const tokens: Partial<Record<Role, string>> = {}

async function tokenFor(t: TestGateway, role: Role): Promise<string> {
  return t.token({ sub: `${role}-1`, roles: [role], accounts: role === 'trader' || role === 'bot' ? ['demo-1'] : [] })
}

function call(t: TestGateway, method: string, path: string, token: string): Promise<Response> {
  return t.request(path, method === 'POST' ? post(token, {}) : { headers: auth(token) })
}

/** A gateway that signs seals with `keys` (written with mode 0600, as the sealer requires). */
async function startSealedGateway(): Promise<TestGateway> {
  const signingKeyFile = join(keyDir, `seal-${crypto.randomUUID()}.private.jwk.json`)
  writeFileSync(signingKeyFile, JSON.stringify(keys.privateJwk), { mode: 0o600 })
  chmodSync(signingKeyFile, 0o600)
  return startTestGateway({ config: { audit: { signingKeyFile } } })
}

beforeAll(async () => {
  keyDir = mkdtempSync(join(tmpdir(), 'egress-http-audit-keys-'))
  keys = await testKeys()
  sealed = await startSealedGateway()
  unsealed = await startTestGateway()
  for (const role of ['trader', 'bot', 'ops', 'auditor', 'admin'] as const) tokens[role] = await tokenFor(sealed, role)
})
afterAll(async () => {
  await sealed.stop()
  await unsealed.stop()
  rmSync(keyDir, { recursive: true, force: true })
})

describe('access', () => {
  test('trader, bot and ops get 403 on every audit route; auditor and admin are admitted', async () => {
    for (const role of ['trader', 'bot', 'ops'] as const) {
      for (const [method, path] of ROUTES) {
        const res = await call(sealed, method, path, tokens[role] as string)
        expect({ role, path, status: res.status }).toEqual({ role, path, status: 403 })
        expect(errorCode(await json(res))).toBe('FORBIDDEN')
      }
    }
    for (const role of ['auditor', 'admin'] as const) {
      for (const [method, path] of ROUTES) {
        const res = await call(sealed, method, path, tokens[role] as string)
        expect({ role, path, status: res.status }).toEqual({ role, path, status: 200 })
      }
    }
  })

  test('no token is 401', async () => {
    for (const [method, path] of ROUTES) expect((await sealed.request(path, { method })).status).toBe(401)
  })
})

describe('POST /v1/audit/anchor', () => {
  test('seals the head now and returns an anchor the offline verifier accepts', async () => {
    expect((await sealed.request('/v1/orders', post(tokens.trader as string, { ...LIMIT_BUY, client_order_id: 'audit-1' }))).status).toBe(202)
    const headBefore = sealed.gateway.engine.wal.lastLsn
    const res = await sealed.request('/v1/audit/anchor', post(tokens.auditor as string, {}))
    expect(res.status).toBe(200)
    const anchor = await json(res)
    expect(Object.keys(anchor).sort()).toEqual(['chainHead', 'lsn', 'reused', 'seal', 'sealRecordLsn', 'sealedAtMs'])
    expect(anchor.reused).toBe(false)
    expect(anchor.lsn as number).toBeGreaterThanOrEqual(headBefore)
    expect(anchor.sealRecordLsn as number).toBeGreaterThan(anchor.lsn as number)
    // Stored outside and given back, it checks against the log (head and seal signature).
    const parsed = parseAnchors(JSON.stringify(anchor), 'response')
    const report = await verifyLogDirectory(join(sealed.dir, 'log'), { anchors: parsed, keys: await keyResolverFromJwk(keys.publicJwk) })
    expect(report.problems).toEqual([])
    expect(report.anchors.checked).toBe(1)
  })

  test('without a signing key it is 409 with the reason, and nothing is appended', async () => {
    const admin = await tokenFor(unsealed, 'admin')
    const before = unsealed.gateway.engine.wal.lastLsn
    const res = await unsealed.request('/v1/audit/anchor', post(admin, {}))
    expect(res.status).toBe(409)
    const body = await json(res)
    expect(errorCode(body)).toBe('CONFLICT')
    expect((body.error as { details: { reason: string } }).details.reason).toBe('AUDIT_SIGNING_KEY_MISSING')
    expect(unsealed.gateway.engine.wal.lastLsn).toBe(before)
  })

  test('takes no body or {}; any other body is 400 and nothing is sealed (it was ignored: a 200 anchoring the head)', async () => {
    const admin = tokens.admin as string
    for (const body of ['{"lsn":5}', '{"note":"x"}', '[]']) {
      const before = sealed.gateway.engine.wal.lastLsn
      const res = await sealed.request('/v1/audit/anchor', post(admin, body))
      expect([body, res.status, errorCode(await json(res))]).toEqual([body, 400, 'VALIDATION_FAILED'])
      expect(sealed.gateway.engine.wal.lastLsn).toBe(before)
    }
    const empty = await sealed.request('/v1/audit/anchor', { method: 'POST', headers: auth(admin) })
    expect(empty.status).toBe(200)
    expect(Object.keys(await json(empty)).sort()).toEqual(['chainHead', 'lsn', 'reused', 'seal', 'sealRecordLsn', 'sealedAtMs'])
  })

  test('on an idle log the answer is the last seal, said to be reused, with the time it was signed (not taken for the time of the answer)', async () => {
    const admin = tokens.admin as string
    // Two anchors with nothing appended between them (the sim venue may still report on a resting order: try again).
    let first: Record<string, unknown> = {}
    let second: Record<string, unknown> = {}
    for (let attempt = 0; attempt < 20; attempt++) {
      first = await json(await sealed.request('/v1/audit/anchor', post(admin, {})))
      await Bun.sleep(5)
      second = await json(await sealed.request('/v1/audit/anchor', post(admin, {})))
      if (second.sealRecordLsn === first.sealRecordLsn) break
    }
    // The same seal, nothing written; its signing time is the first's (the seal's own claim), and the answer says it is
    // that seal rather than pass it off as one signed now.
    expect(second).toEqual({ ...first, reused: true })
    const read = readSealUnverified(second.seal as string)
    if (!read.ok) throw new Error(read.reason)
    expect(second.sealedAtMs).toBe(read.value.claims.sealedAtMs)
  })
})

describe('GET /v1/audit/seals', () => {
  test('lists seal records oldest first with LSN, sealed LSN, chain head, kid and time; the cursor pages through', async () => {
    const first = await json(await sealed.request('/v1/audit/anchor', post(tokens.admin as string, {})))
    // Something besides the first seal, or the second anchor is the first again (sealer.ts: nothing new to seal).
    expect((await sealed.request('/v1/admin/halt', post(tokens.admin as string, {}))).status).toBe(200)
    expect((await sealed.request('/v1/admin/resume', post(tokens.admin as string, {}))).status).toBe(200)
    const second = await json(await sealed.request('/v1/audit/anchor', post(tokens.admin as string, {})))
    const all = await json(await sealed.request('/v1/audit/seals?limit=1000', { headers: auth(tokens.auditor as string) }))
    const seals = all.seals as Record<string, unknown>[]
    expect(all.next_cursor).toBeNull()
    const last = seals.at(-1) as Record<string, unknown>
    expect(last).toEqual({
      record_lsn: second.sealRecordLsn, sealed_lsn: second.lsn, chain_head: second.chainHead, epoch: sealed.gateway.engine.wal.epoch,
      kid: keys.privateJwk.kid, sealed_at_ms: expect.any(Number), prev_seal_lsn: first.sealRecordLsn, jws: second.seal,
    })
    expect(seals.map((seal) => seal.record_lsn)).toEqual([...seals.map((seal) => seal.record_lsn as number)].sort((a, b) => a - b))

    // One seal per page: following next_cursor visits the same seals in the same order.
    const paged: unknown[] = []
    let cursor: string | null = null
    for (let page = 0; page < 100; page++) {
      const query: string = cursor === null ? '?limit=1' : `?limit=1&cursor=${cursor}`
      const body = await json(await sealed.request(`/v1/audit/seals${query}`, { headers: auth(tokens.auditor as string) }))
      paged.push(...(body.seals as unknown[]))
      cursor = body.next_cursor as string | null
      if (cursor === null) break
    }
    expect(paged).toEqual(seals)
  })

  test('a page reads at most sealsScanRecordsMax records and then hands back a cursor, even with no seal in it', async () => {
    const app = boundedApp(sealed, { sealsScanRecordsMax: 1 })
    const res = await app.request('/v1/audit/seals?cursor=0', { headers: auth(tokens.auditor as string) })
    const body = await json(res)
    // LSN 1 is the bootstrap's kernel.configured, never a seal.
    expect(body).toEqual({ seals: [], next_cursor: '1' })
  })

  test('damage met by a page (a frame failing its CRC, a segment file gone) is 409 LOG_DAMAGED naming it, and the gateway responds', async () => {
    for (const damage of ['crc', 'segment'] as const) {
      const t = await startSealedGateway()
      try {
        const trader = await tokenFor(t, 'trader')
        expect((await t.request('/v1/orders', post(trader, { ...LIMIT_BUY, client_order_id: 'seals-damage-1' }))).status).toBe(202)
        await t.gateway.engine.settled()
        const frame = frameAt(join(t.dir, 'log'), 2)
        if (damage === 'crc') {
          const bytes = readFileSync(frame.file)
          bytes[frame.offset + 60] = (bytes[frame.offset + 60] as number) ^ 0x01 // a payload byte; the CRC left as it was
          writeFileSync(frame.file, bytes)
        } else {
          rmSync(frame.file)
        }
        const res = await t.request('/v1/audit/seals', { headers: auth(await tokenFor(t, 'auditor')) })
        const body = await json(res)
        expect({ damage, status: res.status }).toEqual({ damage, status: 409 })
        expect(body.error).toMatchObject({
          code: 'CONFLICT',
          details: { reason: 'LOG_DAMAGED', problem: damage === 'crc' ? { code: 'FRAME_CORRUPT', lsn: 2, file: frame.file, offsetBytes: frame.offset } : { code: 'SEGMENT_MISSING', lsn: 1, file: frame.file } },
        })
        expect(t.gateway.audit?.verified).toBe(false)
        expect(t.gateway.engine.state.tradingSwitch).not.toBe('normal')
      } finally {
        await t.stop().catch(() => undefined)
      }
    }
  })

  test('a malformed cursor or limit is 400 with the path', async () => {
    for (const query of ['cursor=abc', 'limit=0', 'limit=1001', 'other=1']) {
      const res = await sealed.request(`/v1/audit/seals?${query}`, { headers: auth(tokens.auditor as string) })
      expect(res.status).toBe(400)
      expect(errorCode(await json(res))).toBe('VALIDATION_FAILED')
    }
  })
})

describe('GET /v1/audit/verify', () => {
  test('verifies the live log in full: clean, to the head, seal signatures checked with the configured key', async () => {
    await sealed.request('/v1/audit/anchor', post(tokens.admin as string, {}))
    // The live log may grow while the verification runs (timers append records): it reaches at least this far.
    const headBefore = sealed.gateway.engine.wal.lastLsn
    const body = await json(await sealed.request('/v1/audit/verify', { headers: auth(tokens.auditor as string) }))
    expect(body.method).toBe('full')
    const report = body.report as { ok: boolean; lastLsn: number; chainHead: string; problems: unknown[]; seals: { checked: number; signaturesChecked: boolean } }
    expect(report.problems).toEqual([])
    expect(report.ok).toBe(true)
    expect(report.lastLsn).toBeGreaterThanOrEqual(headBefore)
    expect(report.lastLsn).toBeLessThanOrEqual(sealed.gateway.engine.wal.lastLsn)
    expect(report.seals.signaturesChecked).toBe(true)
    expect(report.seals.checked).toBeGreaterThanOrEqual(1)
    expect(body.runtime).toMatchObject({ selfCheckEnabled: true, verified: true, lastFinding: null })
  })

  test('a compaction under way stops for it and resumes at the next snapshot; the report is whole', async () => {
    const firstRemoval = Promise.withResolvers<void>()
    const io: WalIo = { ...nodeIo, unlink: (path) => {
      nodeIo.unlink(path)
      if (path.endsWith('.seg')) firstRemoval.resolve()
    } }
    const signingKeyFile = join(keyDir, `seal-${crypto.randomUUID()}.private.jwk.json`)
    writeFileSync(signingKeyFile, JSON.stringify(keys.privateJwk), { mode: 0o600 })
    const t = await startTestGateway({ config: { audit: { signingKeyFile }, snapshots: { keep: 1, atShutdown: false, compaction: 'delete' } }, wal: { segmentBytesMax: 4096, io } })
    try {
      const trader = await tokenFor(t, 'trader')
      const admin = await tokenFor(t, 'admin')
      for (let index = 0; index < 60; index++) {
        expect((await t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': `held-${index}` }))).status).toBe(202)
        // A seal in every few segments: checking its signature is where the scan waits, and the loop turns meanwhile.
        if (index % 4 === 3) expect((await t.request('/v1/audit/anchor', post(admin, {}))).status).toBe(200)
      }
      // The self-check verified everything, so only the verification can hold compaction back.
      await t.gateway.audit?.selfCheck()
      const segmentsBefore = t.gateway.engine.wal.segments.length
      expect(segmentsBefore).toBeGreaterThan(10)
      const auditor = await tokenFor(t, 'auditor')
      // The compaction removes one segment per turn of the event loop; the verification starts after its first.
      const snapshotting = t.gateway.snapshot()
      await firstRemoval.promise
      const response = await t.request('/v1/audit/verify', { headers: auth(auditor) })
      expect(response.status).toBe(200)
      const report = (await json(response)).report as { ok: boolean; problems: unknown[] }
      expect(report.problems).toEqual([])
      expect(report.ok).toBe(true)
      expect(await snapshotting).not.toBeNull()
      expect(t.gateway.logHolds.size).toBe(0)
      // It stopped the compaction short; the next snapshot's, with the hold gone, removes the rest.
      const stoppedAt = t.gateway.engine.wal.segments.length
      expect(stoppedAt).toBeGreaterThan(2)
      expect((await t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': 'held-last' }))).status).toBe(202)
      await t.gateway.audit?.selfCheck()
      expect(await t.gateway.snapshot()).not.toBeNull()
      expect(t.gateway.engine.wal.segments.length).toBeLessThan(stoppedAt)
    } finally {
      await t.stop()
    }
  })

  test('the seal keys are read once at start: a key file removed or garbled under the gateway changes no answer', async () => {
    const signingKeyFile = join(keyDir, `seal-${crypto.randomUUID()}.private.jwk.json`)
    writeFileSync(signingKeyFile, JSON.stringify(keys.privateJwk), { mode: 0o600 })
    const t = await startTestGateway({ config: { audit: { signingKeyFile } } })
    try {
      const auditor = await tokenFor(t, 'auditor')
      expect((await t.request('/v1/audit/anchor', post(auditor, {}))).status).toBe(200)
      for (const damage of [() => writeFileSync(signingKeyFile, '{ not json'), () => rmSync(signingKeyFile)]) {
        damage()
        // Read per request before: a file garbled or gone answered 500 INTERNAL (an untyped Error from the key reader).
        const response = await t.request('/v1/audit/verify', { headers: auth(auditor) })
        expect(response.status).toBe(200)
        const report = (await json(response)).report as { ok: boolean; seals: { checked: number; signaturesChecked: boolean } }
        expect(report.ok).toBe(true)
        expect(report.seals.signaturesChecked).toBe(true)
        expect(report.seals.checked).toBeGreaterThanOrEqual(1)
      }
    } finally {
      await t.stop()
    }
  })

  test('without a key the report says seal signatures were not checked', async () => {
    const body = await json(await unsealed.request('/v1/audit/verify', { headers: auth(await tokenFor(unsealed, 'auditor')) }))
    expect((body.report as { ok: boolean; seals: { signaturesChecked: boolean } }).seals.signaturesChecked).toBe(false)
    expect((body.report as { ok: boolean }).ok).toBe(true)
  })

  test('above liveVerifyBytesMax it answers with the runtime self-check and says so', async () => {
    const app = boundedApp(sealed, { liveVerifyBytesMax: 1 })
    const body = await json(await app.request('/v1/audit/verify', { headers: auth(tokens.admin as string) }))
    expect(body.method).toBe('self-check')
    expect(body.report).toBeNull()
    expect(body.note).toContain('egress audit verify')
    expect(body.runtime).toMatchObject({ verified: true, lastFinding: null })
  })

  test('a payload byte edited under the running gateway (CRC fixed up) is found at its LSN', async () => {
    const t = await startSealedGateway()
    try {
      const trader = await tokenFor(t, 'trader')
      expect((await t.request('/v1/orders', post(trader, { ...LIMIT_BUY, client_order_id: 'tamper-1' }))).status).toBe(202)
      await t.gateway.engine.settled()
      editPayloadByte(join(t.dir, 'log'), 2)
      const body = await json(await t.request('/v1/audit/verify', { headers: auth(await tokenFor(t, 'auditor')) }))
      const report = body.report as { ok: boolean; firstProblem: { code: string; lsn: number } | null }
      expect(report.ok).toBe(false)
      expect(report.firstProblem).toMatchObject({ code: 'CHAIN_BREAK', lsn: 2 })
      // The runtime reacts to what the full verification found (the incremental self-check had already passed LSN 2).
      expect(t.gateway.audit?.verified).toBe(false)
      expect(t.gateway.engine.state.tradingSwitch).not.toBe('normal')
      expect((await t.request('/v1/orders', post(trader, { ...LIMIT_BUY, client_order_id: 'tamper-2' }))).status).not.toBe(202)
    } finally {
      await t.stop()
    }
  })
})

/** The process's nice value (field 19 of /proc/self/stat): a runner already at 19 cannot show a thread lowered. */
function niceOfProcess(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8')
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16])
}

describe.if(process.platform === 'linux' && niceOfProcess() < 19)('/health: the worker threads', () => {
  test('run, say they are at nice 19 and SCHED_IDLE, and show their answer wait on /health and /metrics', async () => {
    const idle = { lowered: true, nice: 19, policy: 'idle' }
    type Thread = { running: boolean; priority: unknown; answer_waiting_ms: number } | null
    const threads = async (): Promise<Record<string, Thread>> => ((await json(await sealed.request('/health'))) as { threads: Record<string, Thread> }).threads
    // (A periodic check may be under way, so its answer wait is not asserted here: worker-channel.test.ts does.)
    expect((await threads()).self_check).toMatchObject({ running: true, priority: idle })
    // The back office's replay worker is spawned by its first fold, which follows the log every 100 ms.
    expect((await sealed.request('/v1/orders', post(tokens.trader as string, { ...LIMIT_BUY, client_order_id: 'threads-1' }))).status).toBe(202)
    const deadline = Date.now() + 5_000
    let seen = await threads()
    while (seen.replay?.priority === null && Date.now() < deadline) {
      await Bun.sleep(20)
      seen = await threads()
    }
    expect(seen.replay).toMatchObject({ running: true, priority: idle })
    expect(seen.self_check).toMatchObject({ running: true, priority: idle })
    // A worker's wait is on /metrics too, by thread name (0 while nothing waits long enough to read).
    const metrics = await (await sealed.request('/metrics')).text()
    expect(metrics).toMatch(/^egress_worker_answer_wait_seconds\{thread="replay"\} [0-9.e-]+$/m)
    expect(metrics).toMatch(/^egress_worker_answer_wait_seconds\{thread="self_check"\} [0-9.e-]+$/m)
  })
})

describe('/health: the audit self-check', () => {
  test('shows how far the check has verified and how many durable records it has not reached; /metrics too', async () => {
    type Body = { log: { last_lsn: number }; audit: { verified: boolean; verified_through_lsn: number; unverified_records: number } }
    const health = async (): Promise<Body> => (await json(await sealed.request('/health'))) as unknown as Body
    const before = await health()
    expect(before.audit.verified).toBe(true)
    expect(before.audit.unverified_records).toBe(before.log.last_lsn - before.audit.verified_through_lsn)
    expect(await sealed.gateway.audit?.selfCheck()).toBeNull()
    const after = await health()
    expect(after.audit.verified_through_lsn).toBeGreaterThanOrEqual(before.log.last_lsn)
    expect(after.audit.unverified_records).toBe(after.log.last_lsn - after.audit.verified_through_lsn)
    const metrics = await (await sealed.request('/metrics')).text()
    expect(metrics).toMatch(/^egress_audit_unverified_records \d+$/m)
    expect(metrics).toMatch(/^egress_audit_verified 1$/m)
    expect((await json(await unsealed.request('/health'))).audit).toMatchObject({ verified: true }) // no signing key: the chain is still checked
  })
})

/** The audit routes alone with other bounds, behind the same auth and error handling as the app. */
function boundedApp(t: TestGateway, options: Parameters<typeof auditRoutes>[1]): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>()
  app.onError(createErrorHandler({ log: () => {} }))
  app.use('/v1/*', requireAuth(t.http.services.verifier))
  app.route('/', auditRoutes(t.http.services, options))
  return app
}
