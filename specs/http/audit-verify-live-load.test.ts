import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { testKeys, type TestKeys } from '../audit/support.ts'
import { auth, json, LIMIT_BUY, post, startTestGateway, type TestGateway } from './fixture.ts'

let keyDir: string
let keys: TestKeys

beforeAll(async () => {
  keyDir = mkdtempSync(join(tmpdir(), 'egress-http-audit-load-'))
  keys = await testKeys()
})
afterAll(() => rmSync(keyDir, { recursive: true, force: true }))

async function startLoaded(durability: 'fsync' | 'none', preallocateBytes: number): Promise<TestGateway> {
  const signingKeyFile = join(keyDir, `seal-${crypto.randomUUID()}.private.jwk.json`)
  writeFileSync(signingKeyFile, JSON.stringify(keys.privateJwk), { mode: 0o600 })
  chmodSync(signingKeyFile, 0o600)
  return startTestGateway({
    config: { audit: { signingKeyFile }, wal: { durability }, snapshots: { keep: 1, atShutdown: false, compaction: 'delete' } },
    wal: { segmentBytesMax: 8192, preallocateBytes },
  })
}

describe('GET /v1/audit/verify on a healthy gateway under load', () => {
  for (const [durability, preallocateBytes] of [['fsync', 0], ['fsync', 4096], ['none', 4096]] as const) {
    test(`appends, segment rolls, seals and compaction while it verifies: every report CLEAN (${durability}, ${preallocateBytes} bytes preallocated)`, async () => {
      const t = await startLoaded(durability, preallocateBytes)
      try {
        const trader = await t.token({ sub: 'trader-1', roles: ['trader'], accounts: ['demo-1'] })
        const admin = await t.token({ sub: 'admin-1', roles: ['admin'], accounts: [] })
        const auditor = await t.token({ sub: 'auditor-1', roles: ['auditor'], accounts: [] })
        let placed = 0
        let accepted = 0
        let stop = false
        const load = (async () => {
          while (!stop) {
            const batch = Array.from({ length: 8 }, () => t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': `load-${placed++}` })))
            // 429: the trader's rate bound; what is accepted is the load.
            for (const response of await Promise.all(batch)) {
              expect([202, 429]).toContain(response.status)
              if (response.status === 202) accepted++
            }
            if (placed % 32 === 0) expect((await t.request('/v1/audit/anchor', post(admin, {}))).status).toBe(200)
            // Paced alike under every durability: unpaced, the log (seals most of it) grew so fast without fsync that
            // each scan took a second and compaction found no gap between them.
            await Bun.sleep(2)
          }
        })()
        const housekeeping = (async () => {
          while (!stop) {
            await t.gateway.audit?.selfCheck()
            await t.gateway.snapshot()
            await Bun.sleep(5)
          }
        })()
        const reports: { ok: boolean; problems: unknown[]; lastLsn: number }[] = []
        const firstLsns = new Set<number>()
        // 40 verifications at least, and on until compaction has moved the log's start meanwhile (its removals come in a
        // gap between scans, its basis checked in a thread at the lowest priority: on a loaded machine, later).
        const deadlineMs = Date.now() + 30_000
        for (let round = 0; round < 40 || (firstLsns.size < 2 && Date.now() < deadlineMs); round++) {
          const response = await t.request('/v1/audit/verify', { headers: auth(auditor) })
          expect(response.status).toBe(200)
          const body = await json(response)
          reports.push(body.report as { ok: boolean; problems: unknown[]; lastLsn: number })
          firstLsns.add(t.gateway.engine.wal.firstLsn)
          // A gap between scans, each of which holds the log from its first LSN: a compaction, its basis checked in a
          // thread meanwhile (basis-check.ts), removes in a gap.
          await Bun.sleep(15)
        }
        stop = true
        await Promise.all([load, housekeeping])
        // Compaction did run meanwhile, and the log grew: the scans met a moving log.
        expect(firstLsns.size).toBeGreaterThan(1)
        expect(accepted).toBeGreaterThan(100)
        for (const report of reports) expect(report.problems).toEqual([])
        expect(reports.every((report) => report.ok)).toBe(true)
        expect(t.gateway.audit?.verified).toBe(true)
        expect(t.gateway.audit?.lastFinding ?? null).toBeNull()
      } finally {
        await t.stop().catch(() => undefined)
      }
    }, 60_000)
  }
})
