import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { allRawFrames, rechainFrom, segmentFiles, testKeys, type TestKeys } from '../audit/support.ts'
import { auth, json, LIMIT_BUY, post, startTestGateway, type TestGateway } from './fixture.ts'

let keyDir: string
let keys: TestKeys

beforeAll(async () => {
  keyDir = mkdtempSync(join(tmpdir(), 'egress-http-audit-live-'))
  keys = await testKeys()
})
afterAll(() => rmSync(keyDir, { recursive: true, force: true }))

async function startSealedGateway(wal: { segmentBytesMax?: number } = {}): Promise<TestGateway> {
  const signingKeyFile = join(keyDir, `seal-${crypto.randomUUID()}.private.jwk.json`)
  writeFileSync(signingKeyFile, JSON.stringify(keys.privateJwk), { mode: 0o600 })
  chmodSync(signingKeyFile, 0o600)
  return startTestGateway({ config: { audit: { signingKeyFile } }, wal })
}

type Report = { ok: boolean; lastLsn: number; firstLsn: number; firstProblem: { code: string; lsn: number } | null }

async function verifyLive(t: TestGateway): Promise<Report> {
  const auditor = await t.token({ sub: 'auditor-1', roles: ['auditor'], accounts: [] })
  const response = await t.request('/v1/audit/verify', { headers: auth(auditor) })
  expect(response.status).toBe(200)
  const body = await json(response)
  expect(body.method).toBe('full')
  return body.report as Report
}

/** The description /openapi.json gives GET `path`'s 503: it must name what a client meets there, by code and reason. */
async function documented503(t: TestGateway, path: string): Promise<string> {
  const doc = await json(await t.request('/openapi.json'))
  const operation = (doc.paths as Record<string, { get?: { responses?: Record<string, { description?: string }> } }>)[path]?.get
  return operation?.responses?.['503']?.description ?? 'not documented'
}

async function placeSome(t: TestGateway, count: number): Promise<void> {
  const trader = await t.token({ sub: 'trader-1', roles: ['trader'], accounts: ['demo-1'] })
  for (let index = 0; index < count; index++) {
    expect((await t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': `live-${index}` }))).status).toBe(202)
  }
  await t.gateway.engine.settled()
}

describe('GET /v1/audit/verify against the live log it holds', () => {
  test('durable records zeroed at the tail (they read as preallocated space) are a problem, not CLEAN', async () => {
    const t = await startSealedGateway()
    try {
      await placeSome(t, 3)
      const wal = t.gateway.engine.wal
      const durable = wal.lastLsn
      const last = allRawFrames(join(t.dir, 'log')).at(-1)
      if (last === undefined || last.lsn !== durable) throw new Error(`expected the last frame at LSN ${durable}`)
      const bytes = readFileSync(last.file)
      bytes.fill(0, last.offset, last.end)
      writeFileSync(last.file, bytes)
      const report = await verifyLive(t)
      expect(report.ok).toBe(false)
      expect(report.firstProblem).toMatchObject({ lsn: durable })
      expect(t.gateway.audit?.verified).toBe(false)
    } finally {
      await t.stop().catch(() => undefined)
    }
  })

  test('the unsealed tail rewritten with its chain recomputed is CHAIN_BREAK against the writer\'s head', async () => {
    const t = await startSealedGateway()
    try {
      await placeSome(t, 3)
      const durable = t.gateway.engine.wal.lastLsn
      const last = allRawFrames(join(t.dir, 'log')).at(-1)
      if (last === undefined || last.lsn !== durable) throw new Error(`expected the last frame at LSN ${durable}`)
      const bytes = readFileSync(last.file)
      bytes[last.end - 1] = (bytes[last.end - 1] as number) ^ 0x01 // a payload byte; CRC and hash recomputed below
      rechainFrom(bytes, last.offset)
      writeFileSync(last.file, bytes)
      const report = await verifyLive(t)
      expect(report.ok).toBe(false)
      expect(report.firstProblem).toMatchObject({ code: 'CHAIN_BREAK', lsn: durable })
    } finally {
      await t.stop().catch(() => undefined)
    }
  })

  test('the first segment file removed from under the gateway is SEGMENT_MISSING, not a CLEAN compacted log', async () => {
    const t = await startSealedGateway({ segmentBytesMax: 4096 })
    try {
      await placeSome(t, 20)
      const wal = t.gateway.engine.wal
      expect(wal.segments.length).toBeGreaterThan(2)
      const first = segmentFiles(join(t.dir, 'log'))[0] as string
      rmSync(first)
      const report = await verifyLive(t)
      expect(report.ok).toBe(false)
      expect(report.firstProblem).toMatchObject({ code: 'SEGMENT_MISSING', lsn: 1 })
      expect(t.gateway.audit?.verified).toBe(false)
    } finally {
      await t.stop().catch(() => undefined)
    }
  })

  test('a segment file the scan cannot read (a directory under a segment\'s name) is 503 SEGMENT_UNREADABLE naming it, not a 500', async () => {
    const t = await startSealedGateway()
    try {
      await placeSome(t, 1)
      const stray = join(t.dir, 'log', '99999999999999999999.seg')
      mkdirSync(stray)
      const auditor = await t.token({ sub: 'auditor-1', roles: ['auditor'], accounts: [] })
      const response = await t.request('/v1/audit/verify', { headers: auth(auditor) })
      expect(response.status).toBe(503)
      expect((await json(response)).error).toMatchObject({ code: 'UNAVAILABLE', details: { reason: 'SEGMENT_UNREADABLE', file: stray } })
      expect(await documented503(t, '/v1/audit/verify')).toMatch(/UNAVAILABLE.*details\.reason SEGMENT_UNREADABLE/)
    } finally {
      await t.stop().catch(() => undefined)
    }
  })

  test('GET /v1/audit/seals over a held segment it cannot read (a directory under its name) is 503 SEGMENT_UNREADABLE naming it, not a 500', async () => {
    const t = await startSealedGateway({ segmentBytesMax: 4096 })
    try {
      await placeSome(t, 20)
      const first = segmentFiles(join(t.dir, 'log'))[0] as string
      rmSync(first)
      mkdirSync(first)
      const auditor = await t.token({ sub: 'auditor-1', roles: ['auditor'], accounts: [] })
      const response = await t.request('/v1/audit/seals', { headers: auth(auditor) })
      expect(response.status).toBe(503)
      expect((await json(response)).error).toMatchObject({ code: 'UNAVAILABLE', details: { reason: 'SEGMENT_UNREADABLE', file: first } })
      expect(await documented503(t, '/v1/audit/seals')).toMatch(/UNAVAILABLE.*details\.reason SEGMENT_UNREADABLE/)
    } finally {
      await t.stop().catch(() => undefined)
    }
  })
})
