/**
 * `egress serve` whose stop is stuck — the log's disk stops answering its syncs, so the shutdown seal (or a command
 * the drain waits for) never becomes durable: the stop makes no progress, and past GATEWAY_STOP_BOUNDS.stallMsMax the
 * process exits 1, saying so. It waited for good before, holding the data dir, until a second signal or a SIGKILL
 * ended it with nothing said (an HA node's teardown had its bound already). Every order it answered 202 was synced before the answer:
 * a restart on the same data directory serves it. The hang and a short bound come from a spec-only preload.
 */

import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { freePort, waitFor } from '../../scripts/support/loopback.ts'
import { mintHs256Token } from '../../src/http/auth/index.ts'
import { EXIT_FAILURE } from '../../src/cli/command.ts'

const ROOT = resolve(import.meta.dir, '../..')
const PRELOAD = join(import.meta.dir, 'support', 'hang-sync-preload.ts')
const SECRET = 'serve-stop-stuck-spec-secret-0123456789'
/** The bound on time without progress the preload gives serve in place of GATEWAY_STOP_BOUNDS.stallMsMax. */
const STOP_STALL_MS = 1_500
const dir = mkdtempSync(join(tmpdir(), 'egress-serve-stop-stuck-'))
const dataDir = join(dir, 'data')
const flagPath = join(dir, 'hang-syncs-now')

afterAll(() => rmSync(dir, { recursive: true, force: true }))

function startServe(port: number, preload: boolean): ReturnType<typeof Bun.spawn> {
  return Bun.spawn([process.execPath, ...(preload ? ['--preload', PRELOAD] : []), 'src/main.ts', 'serve'], {
    cwd: ROOT,
    env: {
      ...process.env, EGRESS_DATA_DIR: dataDir, PORT: String(port), EGRESS_WAL_DURABILITY: 'fsync', EGRESS_HS256_SECRET: SECRET,
      EGRESS_SPEC_HANG_SYNC_FLAG: flagPath, EGRESS_SPEC_SLOW_TURN_FLAG: join(dir, 'never'), EGRESS_SPEC_STOP_STALL_MS: String(STOP_STALL_MS),
      EGRESS_SPEC_STOP_CEILING_MS: '60000',
    },
    stdout: 'ignore',
    stderr: 'pipe',
  })
}

test('a stop stuck on a disk that stops answering: exit 1 past the bound, saying so; a restart serves every 202', async () => {
  const token = await mintHs256Token(SECRET, { sub: 'spec', roles: ['trader'], accounts: ['demo-1'], issuer: 'egress', audience: 'egress-api', ttlSec: 600 })
  const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', 'Idempotency-Key': 'before-the-hang' }
  const order = JSON.stringify({ account: 'demo-1', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.001', price: '58000' })
  let port = await freePort()
  const child = startServe(port, true)
  let restarted: ReturnType<typeof Bun.spawn> | null = null
  try {
    await waitFor('serve to answer /health', 20_000, async () => (await fetch(`http://127.0.0.1:${port}/health`)).ok)
    const placed = await fetch(`http://127.0.0.1:${port}/v1/orders`, { method: 'POST', headers, body: order })
    expect(placed.status).toBe(202)
    const orderId = ((await placed.json()) as { order_id: string }).order_id
    writeFileSync(flagPath, '')
    const signalledAtMs = performance.now()
    child.kill('SIGTERM')
    const code = await Promise.race([child.exited, Bun.sleep(8_000).then(() => 'still running 8 s after SIGTERM')])
    const stopMs = performance.now() - signalledAtMs
    if (typeof code === 'string') child.kill('SIGKILL')
    const stderr = await new Response(child.stderr as ReadableStream).text()
    // Before the fix: still running (the seal waiting for a sync that never comes), nothing said.
    expect({ code, said: stderr.includes(`the gateway's stop made no progress for ${STOP_STALL_MS} ms`), clean: stderr.includes('stopped cleanly') }).toEqual({ code: EXIT_FAILURE, said: true, clean: false })
    expect(stopMs).toBeGreaterThanOrEqual(STOP_STALL_MS)

    rmSync(flagPath)
    port = await freePort()
    restarted = startServe(port, false)
    await waitFor('the restart to answer /health', 20_000, async () => (await fetch(`http://127.0.0.1:${port}/health`)).ok)
    const read = await fetch(`http://127.0.0.1:${port}/v1/orders/${orderId}`, { headers: { Authorization: `Bearer ${token}` } })
    expect(read.status).toBe(200)
  } finally {
    for (const process of [child, restarted]) {
      if (process !== null && process.exitCode === null) process.kill('SIGKILL')
      await process?.exited
    }
  }
}, 60_000)
