/**
 * `egress serve` whose stop takes long but keeps advancing — the shutdown snapshot of a large state written slice by
 * slice on a loaded machine (a million orders: 19.5 s, scripts/bench-takeover-stop.ts) — finishes it: exit 0, the
 * snapshot on disk. The stop's bound was a fixed 30 s from the signal, which such a stop outgrew: it exited 1 with no
 * snapshot, and the next start replayed the whole log. It is now a bound on time without progress (GATEWAY_STOP_BOUNDS,
 * src/runtime/stop-watch.ts; a stop that makes none is cut: serve-stop-stuck.test.ts) under a ceiling that ends a stop
 * advancing without end (exit 1, saying so). The slow slices and short bounds come from a spec-only preload: every
 * turn of the event loop asked with setImmediate comes SLOW_TURN_MS late once the stop begins.
 */

import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { freePort, waitFor } from '../../scripts/support/loopback.ts'
import { mintHs256Token } from '../../src/http/auth/index.ts'
import { EXIT_FAILURE, EXIT_OK } from '../../src/cli/command.ts'

const ROOT = resolve(import.meta.dir, '../..')
const PRELOAD = join(import.meta.dir, 'support', 'hang-sync-preload.ts')
const SECRET = 'serve-stop-progress-spec-secret-0123456789'
/** The preload's bound on time without progress: a slow turn is well under it, the whole stop well over it. */
const STOP_STALL_MS = 1_000
const SLOW_TURN_MS = 400
const dir = mkdtempSync(join(tmpdir(), 'egress-serve-stop-progress-'))

afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Starts serve, places an order, turns the slow turns on, signals: the exit code, how long the stop took, what it said. */
async function slowStop(name: string, ceilingMs: number): Promise<{ code: number | string; stopMs: number; stderr: string; dataDir: string }> {
  const dataDir = join(dir, name)
  const slowFlag = join(dir, `${name}-slow-turns-now`)
  const port = await freePort()
  const child = Bun.spawn([process.execPath, '--preload', PRELOAD, 'src/main.ts', 'serve'], {
    cwd: ROOT,
    env: {
      ...process.env, EGRESS_DATA_DIR: dataDir, PORT: String(port), EGRESS_WAL_DURABILITY: 'fsync', EGRESS_HS256_SECRET: SECRET,
      EGRESS_SPEC_HANG_SYNC_FLAG: join(dir, 'never'), EGRESS_SPEC_SLOW_TURN_FLAG: slowFlag, EGRESS_SPEC_SLOW_TURN_MS: String(SLOW_TURN_MS),
      EGRESS_SPEC_STOP_STALL_MS: String(STOP_STALL_MS), EGRESS_SPEC_STOP_CEILING_MS: String(ceilingMs),
    },
    stdout: 'ignore',
    stderr: 'pipe',
  })
  try {
    await waitFor('serve to answer /health', 20_000, async () => (await fetch(`http://127.0.0.1:${port}/health`)).ok)
    const token = await mintHs256Token(SECRET, { sub: 'spec', roles: ['trader'], accounts: ['demo-1'], issuer: 'egress', audience: 'egress-api', ttlSec: 600 })
    const placed = await fetch(`http://127.0.0.1:${port}/v1/orders`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', 'Idempotency-Key': `${name}-order` },
      body: JSON.stringify({ account: 'demo-1', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.001', price: '58000' }),
    })
    expect(placed.status).toBe(202)
    writeFileSync(slowFlag, '')
    const signalledAtMs = performance.now()
    child.kill('SIGTERM')
    const code = await Promise.race([child.exited, Bun.sleep(30_000).then(() => 'still running 30 s after SIGTERM')])
    const stopMs = performance.now() - signalledAtMs
    if (typeof code === 'string') child.kill('SIGKILL')
    return { code, stopMs, stderr: await new Response(child.stderr as ReadableStream).text(), dataDir }
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL')
    await child.exited
  }
}

test('a stop longer than the stall bound that keeps advancing finishes: exit 0, stopped cleanly, the shutdown snapshot written', async () => {
  const { code, stopMs, stderr, dataDir } = await slowStop('advancing', 60_000)
  // Before the fix (a fixed bound of STOP_STALL_MS from the signal): exit 1, "did not stop within", no snapshot.
  expect({ code, clean: stderr.includes('stopped cleanly'), cut: stderr.includes('exiting without the rest of the stop') }).toEqual({ code: EXIT_OK, clean: true, cut: false })
  expect(stopMs).toBeGreaterThan(STOP_STALL_MS)
  expect(readdirSync(join(dataDir, 'snapshots')).some((file) => file.endsWith('.snap'))).toBe(true)
}, 60_000)

test('a stop that keeps advancing past the ceiling is cut there: exit 1, saying so', async () => {
  const ceilingMs = 1_200
  const { code, stopMs, stderr } = await slowStop('ceiling', ceilingMs)
  expect({ code, said: stderr.includes(`the gateway did not stop within ${ceilingMs} ms, the stop's ceiling`), clean: stderr.includes('stopped cleanly') }).toEqual({ code: EXIT_FAILURE, said: true, clean: false })
  expect(stopMs).toBeGreaterThanOrEqual(ceilingMs)
}, 60_000)
