/**
 * `egress serve` on SIGTERM: in-flight requests get up to SHUTDOWN_GRACE_MS (5 s) to finish, but a server with none
 * exits as soon as the log is closed. The grace timer was left pending after the requests finished, so every stop
 * took the whole 5 s after "stopped cleanly" — a deploy, a failover drill or a supervisor's restart waited for nothing.
 * SIGHUP (the terminal an `npm start` ran in closed) stops it the same way: it was not handled, and killed the process
 * (exit 129) with no drain of the commit queue, no clean close of the log and no shutdown snapshot.
 */

import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { freePort, waitFor } from '../../scripts/support/loopback.ts'

const ROOT = resolve(import.meta.dir, '../..')
/** Well under the 5 s grace, well over what closing the log and the threads takes on a loaded machine. */
const STOP_MS_MAX = 2_500
const dir = mkdtempSync(join(tmpdir(), 'egress-serve-stop-'))

afterAll(() => rmSync(dir, { recursive: true, force: true }))

for (const signal of ['SIGTERM', 'SIGHUP'] as const) {
  test(`an idle serve exits 0 soon after ${signal}, without waiting out the shutdown grace`, async () => {
    const port = await freePort()
    const dataDir = join(dir, signal)
    const child = Bun.spawn([process.execPath, 'src/main.ts', 'serve'], {
      cwd: ROOT,
      env: { ...process.env, EGRESS_DATA_DIR: dataDir, PORT: String(port), EGRESS_WAL_DURABILITY: 'none' },
      stdout: 'ignore',
      stderr: 'pipe',
    })
    try {
      await waitFor('serve to answer /health', 20_000, async () => (await fetch(`http://127.0.0.1:${port}/health/live`)).ok)
      const signalledAtMs = performance.now()
      child.kill(signal)
      const code = await Promise.race([child.exited, Bun.sleep(10_000).then(() => 'still running after 10 s')])
      const stopMs = performance.now() - signalledAtMs
      const stderr = await new Response(child.stderr as ReadableStream).text()
      expect(stderr).toContain(`${signal}: stopping intake, closing streams, draining the log`)
      expect(stderr).toContain('stopped cleanly')
      expect(code).toBe(0)
      expect(stopMs).toBeLessThan(STOP_MS_MAX)
      // The shutdown snapshot was taken, as at any clean stop.
      expect(readdirSync(join(dataDir, 'snapshots')).some((name) => name.endsWith('.snap'))).toBe(true)
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL')
      await child.exited
    }
  }, 30_000)
}

test('a serve started with SIGHUP ignored (nohup) keeps running through a SIGHUP; SIGTERM still stops it cleanly', async () => {
  const port = await freePort()
  const child = Bun.spawn(['nohup', process.execPath, 'src/main.ts', 'serve'], {
    cwd: ROOT,
    env: { ...process.env, EGRESS_DATA_DIR: join(dir, 'nohup'), PORT: String(port), EGRESS_WAL_DURABILITY: 'none' },
    stdin: 'ignore',
    stdout: 'ignore',
    stderr: 'pipe',
  })
  try {
    await waitFor('serve to answer /health', 20_000, async () => (await fetch(`http://127.0.0.1:${port}/health/live`)).ok)
    child.kill('SIGHUP')
    await Bun.sleep(500)
    expect(child.exitCode).toBeNull()
    expect((await fetch(`http://127.0.0.1:${port}/health/live`)).ok).toBe(true)
    child.kill('SIGTERM')
    const code = await Promise.race([child.exited, Bun.sleep(10_000).then(() => 'still running after 10 s')])
    const stderr = await new Response(child.stderr as ReadableStream).text()
    expect(code).toBe(0)
    expect(stderr).not.toContain('SIGHUP')
    expect(stderr).toContain('SIGTERM: stopping intake, closing streams, draining the log')
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL')
    await child.exited
  }
}, 30_000)
