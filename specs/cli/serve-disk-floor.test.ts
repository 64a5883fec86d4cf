/**
 * `egress serve` applies the data dir's free-space floor (config `storage.freeBytesMin`, here from
 * EGRESS_STORAGE_FREE_BYTES_MIN) with the real statfs: a floor above any disk this runs on refuses a new order with
 * 503 DISK_LOW from the first request (serve reads the free space before it listens), /health shows the reading, and
 * stderr has the one line saying refusing began.
 */

import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { mintHs256Token } from '../../src/http/auth/index.ts'
import { freePort } from '../../scripts/support/loopback.ts'

const ROOT = resolve(import.meta.dir, '../..')
const SECRET = 'serve-disk-floor-secret-0123456789abcdef'
/** 15 digits (what an integer environment override takes): about 1 PB, above any disk a spec runs on. */
const FLOOR = 999_999_999_999_999
const dir = mkdtempSync(join(tmpdir(), 'egress-serve-disk-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

test('a floor above the disk: the first new order is 503 DISK_LOW, /health shows why, stderr says so once', async () => {
  const port = await freePort()
  const child = Bun.spawn([process.execPath, 'src/main.ts', 'serve'], {
    cwd: ROOT,
    env: {
      ...process.env,
      EGRESS_DATA_DIR: join(dir, 'data'),
      PORT: String(port),
      EGRESS_WAL_DURABILITY: 'none',
      EGRESS_HS256_SECRET: SECRET,
      EGRESS_STORAGE_FREE_BYTES_MIN: String(FLOOR),
    },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const stderrText = new Response(child.stderr as ReadableStream).text()
  void new Response(child.stdout as ReadableStream).text()
  const url = `http://127.0.0.1:${port}`
  try {
    for (let waitedMs = 0; ; waitedMs += 100) {
      if (waitedMs > 20_000 || child.exitCode !== null) throw new Error('serve did not listen within 20 s')
      if (await fetch(`${url}/health/live`).then((response) => response.ok, () => false)) break
      await Bun.sleep(100)
    }
    const token = await mintHs256Token(SECRET, { sub: 'alice', roles: ['trader'], accounts: ['demo-1'], issuer: 'egress', audience: 'egress-api', ttlSec: 600 })
    const order = { account: 'demo-1', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '59000' }
    const res = await fetch(`${url}/v1/orders`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', 'Idempotency-Key': 'disk-floor-1' },
      body: JSON.stringify(order),
    })
    const body = (await res.json()) as { error: { code: string; details: Record<string, unknown> } }
    expect([res.status, body.error.code, body.error.details.reason, body.error.details.free_bytes_min]).toEqual([503, 'DISK_LOW', 'below_floor', FLOOR])
    const health = (await (await fetch(`${url}/health`)).json()) as { ready: boolean; disk: { free_bytes: number; new_orders_refused: boolean; error: unknown } }
    expect({ ready: health.ready, refused: health.disk.new_orders_refused, error: health.disk.error }).toEqual({ ready: true, refused: true, error: null })
    expect(health.disk.free_bytes).toBeGreaterThan(0)
    child.kill('SIGTERM')
    expect(await Promise.race([child.exited, Bun.sleep(15_000).then(() => 'still running')])).toBe(0)
    const stderr = await stderrText
    expect(stderr.match(/below storage\.freeBytesMin 999999999999999: new orders and amends are refused \(DISK_LOW\)/g)?.length).toBe(1)
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL')
    await child.exited
  }
}, 60_000)
