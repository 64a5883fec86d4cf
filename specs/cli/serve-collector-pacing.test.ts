/**
 * `egress serve` paces the collector (config `collector`, src/runtime/collector-pacing.ts): with a short cadence and
 * one record enough, orders placed bring paced collections, counted on /metrics; with `edenEveryMs: 0` none runs; a
 * short lull after the heap grew brings a full collection, counted too; a cadence under 10 ms exits 1 naming the field
 * before anything starts.
 */

import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { mintHs256Token } from '../../src/http/auth/index.ts'
import { freePort } from '../../scripts/support/loopback.ts'

const ROOT = resolve(import.meta.dir, '../..')
const SECRET = 'serve-collector-pacing-secret-0123456789'
const dir = mkdtempSync(join(tmpdir(), 'egress-serve-pacing-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function startServe(name: string, collector: object, port: number) {
  const configPath = join(dir, `${name}.json`)
  writeFileSync(configPath, JSON.stringify({ collector }))
  const child = Bun.spawn([process.execPath, 'src/main.ts', 'serve', '--config', configPath], {
    cwd: ROOT,
    env: { ...process.env, EGRESS_CONFIG: '', EGRESS_DATA_DIR: join(dir, name), PORT: String(port), EGRESS_WAL_DURABILITY: 'none', EGRESS_HS256_SECRET: SECRET },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  return { child, stderr: new Response(child.stderr as ReadableStream).text(), stdout: new Response(child.stdout as ReadableStream).text() }
}

async function metricOf(url: string, name: string): Promise<number> {
  const metrics = await (await fetch(`${url}/metrics`)).text()
  const match = new RegExp(`^${name} ([0-9.e+]+)$`, 'm').exec(metrics)
  if (match === null) throw new Error(`no ${name} on /metrics`)
  return Number(match[1])
}

/**
 * Serve with `collector`, three orders placed: `metric` read every `pollMs` until `until` holds or `settleMs` passed
 * (each read is a request, which ends a lull: poll slower than the lull to let one come).
 */
async function afterOrders(name: string, collector: object, metric: string, options: { settleMs: number; pollMs: number; until: (count: number) => boolean }): Promise<number> {
  const port = await freePort()
  const { child } = startServe(name, collector, port)
  const url = `http://127.0.0.1:${port}`
  try {
    for (let waitedMs = 0; ; waitedMs += 100) {
      if (waitedMs > 20_000 || child.exitCode !== null) throw new Error('serve did not listen within 20 s')
      if (await fetch(`${url}/health/live`).then((response) => response.ok, () => false)) break
      await Bun.sleep(100)
    }
    const token = await mintHs256Token(SECRET, { sub: 'alice', roles: ['trader'], accounts: ['demo-1'], issuer: 'egress', audience: 'egress-api', ttlSec: 600 })
    for (let index = 0; index < 3; index++) {
      const response = await fetch(`${url}/v1/orders`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', 'Idempotency-Key': `${name}-${index}` },
        body: JSON.stringify({ account: 'demo-1', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '59000' }),
      })
      expect(response.status).toBe(202)
    }
    const deadline = Date.now() + options.settleMs
    let count = await metricOf(url, metric)
    while (!options.until(count) && Date.now() < deadline) {
      await Bun.sleep(options.pollMs)
      count = await metricOf(url, metric)
    }
    child.kill('SIGTERM')
    expect(await Promise.race([child.exited, Bun.sleep(15_000).then(() => 'still running')])).toBe(0)
    return count
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL')
    await child.exited
  }
}

test('a 10 ms cadence after 1 record: the orders bring paced collections, on /metrics', async () => {
  const paced = await afterOrders('paced', { edenEveryMs: 10, edenAfterRecords: 1, fullWhenIdleMs: 0 }, 'egress_collector_paced_total', { settleMs: 10_000, pollMs: 20, until: (count) => count >= 1 })
  expect(paced).toBeGreaterThanOrEqual(1)
}, 60_000)

test('edenEveryMs 0: no paced collection, however many records', async () => {
  expect(await afterOrders('off', { edenEveryMs: 0, edenAfterRecords: 1, fullWhenIdleMs: 0 }, 'egress_collector_paced_total', { settleMs: 300, pollMs: 20, until: () => false })).toBe(0)
}, 60_000)

test('a 100 ms lull after the heap grew 1 %: a full collection, on /metrics', async () => {
  const fulls = await afterOrders('lull', { edenEveryMs: 10, edenAfterRecords: 1, fullWhenIdleMs: 100, fullAfterGrowthPct: 1 }, 'egress_collector_idle_full_total', { settleMs: 15_000, pollMs: 400, until: (count) => count >= 1 })
  expect(fulls).toBeGreaterThanOrEqual(1)
}, 60_000)

test('a cadence under 10 ms exits 1 naming the field', async () => {
  const port = await freePort()
  const { child, stderr } = startServe('bad', { edenEveryMs: 5 }, port)
  expect(await Promise.race([child.exited, Bun.sleep(15_000).then(() => 'still running')])).toBe(1)
  expect(await stderr).toContain('collector.edenEveryMs: expected 0 (off) or at least 10, got 5')
}, 30_000)
