/**
 * `egress serve` when its log fails (an fdatasync answering EIO): fsync failure is fatal. The order being written is
 * answered 503 (or refused a connection, if a background record's sync failed first), and the process exits 74
 * within about a second instead of staying up with ready false: the kernel state in memory already holds the batch
 * that may never reach the disk, and reads answered from it (an order whose POST got 503, shown as accepted) would be
 * facts the log does not have. A restart on the same data directory recovers from the log and serves again, with
 * every order acknowledged before the failure.
 */

import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { freePort, waitFor } from '../../scripts/support/loopback.ts'
import { EXIT_LOG_FAILED } from '../../src/cli/serve.ts'

const ROOT = resolve(import.meta.dir, '../..')
const dir = mkdtempSync(join(tmpdir(), 'egress-serve-log-failure-'))
const flagPath = join(dir, 'fail-fsync-now')
const dataDir = join(dir, 'data')
/** Ready: bootstrap done and the log healthy. */
const READY = (base: string) => async (): Promise<boolean> => ((await (await fetch(`${base}/health`)).json()) as { ready: boolean }).ready
const ORDER = { account: 'demo-1', venue: 'sim', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.001', price: '59000', tif: 'GTC' }

afterAll(() => rmSync(dir, { recursive: true, force: true }))

function startServe(port: number, preload: boolean, failCall: 'fdatasync' | 'fsync' = 'fdatasync'): ReturnType<typeof Bun.spawn> {
  const args = preload ? ['--preload', join(import.meta.dir, 'support/fail-fsync-preload.ts')] : []
  return Bun.spawn([process.execPath, ...args, 'src/main.ts', 'serve'], {
    cwd: ROOT,
    env: { ...process.env, EGRESS_DATA_DIR: dataDir, PORT: String(port), EGRESS_WAL_DURABILITY: 'fsync', EGRESS_SPEC_FAIL_FSYNC_FLAG: flagPath, EGRESS_SPEC_FAIL_FSYNC_CALL: failCall },
    stdout: 'ignore',
    stderr: 'pipe',
  })
}

function tokenFor(): string {
  const minted = Bun.spawnSync([process.execPath, 'src/main.ts', 'token', '--sub', 'spec', '--account', 'demo-1', '--role', 'trader'], {
    cwd: ROOT,
    env: { ...process.env, EGRESS_DATA_DIR: dataDir },
  })
  const lines = minted.stdout.toString().trim().split('\n')
  return lines[lines.length - 1] as string
}

test('a failed fdatasync: the order is answered 503, serve exits 74, and a restart recovers every order acknowledged before', async () => {
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const child = startServe(port, true)
  let restarted: ReturnType<typeof Bun.spawn> | null = null
  let stderr: Promise<string> | null = null
  // Read once, after the process ended (its stderr ends only with it).
  const stderrOfFirst = (): Promise<string> => (stderr ??= new Response(child.stderr as ReadableStream).text())
  try {
    await waitFor('serve to be ready', 20_000, READY(base))
    const headers = { Authorization: `Bearer ${tokenFor()}`, 'Content-Type': 'application/json' }
    const place = (key: string): Promise<Response> => fetch(`${base}/v1/orders`, { method: 'POST', headers: { ...headers, 'Idempotency-Key': key }, body: JSON.stringify(ORDER) })
    const first = await place('before-failure')
    expect(first.status).toBe(202)
    const firstId = ((await first.json()) as { order_id: string }).order_id

    writeFileSync(flagPath, '')
    // The next sync fails: this order's, or one of a record written in the background just before it (the first
    // order's send records, an audit seal). In the second case serve may already be closing when the request comes,
    // and the connection is refused; either way no 2xx.
    const failed = await place('during-failure').then((response) => response.status, (error: unknown) => `connection failed: ${String(error)}`)
    if (typeof failed === 'number') expect(failed).toBe(503)
    const code = await Promise.race([child.exited, Bun.sleep(10_000).then(() => 'still running 10 s after the log failed')])
    if (typeof code === 'string') child.kill('SIGKILL') // its stderr ends only with it
    expect(await stderrOfFirst()).toContain('the log failed')
    expect(code).toBe(EXIT_LOG_FAILED)

    restarted = startServe(port, false)
    await waitFor('the restarted serve to be ready', 20_000, READY(base))
    const recovered = await fetch(`${base}/v1/orders/${firstId}`, { headers })
    expect(recovered.status).toBe(200)
    expect(((await recovered.json()) as { order_id: string }).order_id).toBe(firstId)
    // The repeat of the acknowledged order is its first answer again, not a second order.
    const repeat = await place('before-failure')
    expect(repeat.status).toBe(202)
    expect(((await repeat.json()) as { order_id: string }).order_id).toBe(firstId)
  } catch (error) {
    // What serve said is the first thing to read when this fails.
    if (child.exitCode === null) child.kill('SIGKILL')
    await child.exited
    const said = (await stderrOfFirst()).split('\n').slice(-20).join('\n')
    throw new Error(`${error instanceof Error ? error.message : String(error)}\nfirst serve's last stderr lines:\n${said}`, { cause: error })
  } finally {
    for (const process of [child, restarted]) {
      if (process === null) continue
      if (process.exitCode === null) process.kill('SIGKILL')
      await process.exited
    }
  }
}, 60_000)

test('an fsync failing while serve stops (the shutdown snapshot, the close of the log): exit 74, not "stopped cleanly"', async () => {
  rmSync(flagPath, { force: true })
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const child = startServe(port, true, 'fsync')
  try {
    await waitFor('serve to be ready', 20_000, READY(base))
    const headers = { Authorization: `Bearer ${tokenFor()}`, 'Content-Type': 'application/json' }
    const placed = await fetch(`${base}/v1/orders`, { method: 'POST', headers: { ...headers, 'Idempotency-Key': 'before-stop' }, body: JSON.stringify(ORDER) })
    expect(placed.status).toBe(202)
    writeFileSync(flagPath, '')
    child.kill('SIGTERM')
    const code = await Promise.race([child.exited, Bun.sleep(15_000).then(() => 'still running 15 s after SIGTERM')])
    if (typeof code === 'string') child.kill('SIGKILL')
    const said = await new Response(child.stderr as ReadableStream).text()
    // Before the fix: the failed fsync was swallowed (the close's trim) or only halted the log (the shutdown snapshot),
    // and serve said "stopped cleanly" and exited 0.
    expect({ code, said: said.includes('the log failed while stopping') }).toEqual({ code: EXIT_LOG_FAILED, said: true })
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL')
    await child.exited
    rmSync(flagPath, { force: true })
  }
}, 60_000)
