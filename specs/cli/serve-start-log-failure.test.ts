/**
 * `egress serve` whose log fails during its start: the disk answers EIO to the first fdatasync (or ENOSPC to a write,
 * a data dir on a full file system), which comes while bootstrap records the start. Gateway.start closes the log,
 * but the timers serve's clock runs (the sim venue's, the back office's flushes) and the verifier's were left going:
 * the process printed `WAL_FATAL` and then never exited (a SIGTERM did not end it either: the stop signal's handler
 * took it), retrying its query model writes, so no supervisor restarted it. It exits 74 now, as serve does when its
 * log fails once serving, and a restart on a sound disk starts. Real processes; the EIO comes from a spec-only preload.
 */

import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { freePort, waitFor } from '../../scripts/support/loopback.ts'
import { EXIT_LOG_FAILED } from '../../src/cli/serve.ts'

const ROOT = resolve(import.meta.dir, '../..')
const dir = mkdtempSync(join(tmpdir(), 'egress-serve-start-log-failure-'))
const flagPath = join(dir, 'fail-fsync-now')
const dataDir = join(dir, 'data')
const STILL_RUNNING = 'still running 15 s after it started'

afterAll(() => rmSync(dir, { recursive: true, force: true }))

function startServe(port: number): ReturnType<typeof Bun.spawn> {
  return Bun.spawn([process.execPath, '--preload', join(import.meta.dir, 'support/fail-fsync-preload.ts'), 'src/main.ts', 'serve'], {
    cwd: ROOT,
    env: { ...process.env, EGRESS_DATA_DIR: dataDir, PORT: String(port), EGRESS_WAL_DURABILITY: 'fsync', EGRESS_SPEC_FAIL_FSYNC_FLAG: flagPath },
    stdout: 'ignore',
    stderr: 'pipe',
  })
}

test('the log failing during the start: serve says so and exits 74 instead of staying up; a restart on a sound disk serves', async () => {
  writeFileSync(flagPath, '')
  const port = await freePort()
  const failing = startServe(port)
  let restarted: ReturnType<typeof Bun.spawn> | null = null
  try {
    const code = await Promise.race([failing.exited, Bun.sleep(15_000).then(() => STILL_RUNNING)])
    if (code === STILL_RUNNING) failing.kill('SIGKILL') // its stderr ends only with it
    const said = await new Response(failing.stderr as ReadableStream).text()
    expect({ code, said: said.includes('the log failed during the start: WAL_FATAL') }).toEqual({ code: EXIT_LOG_FAILED, said: true })
    expect(said).not.toMatch(/^\s+at /m)

    rmSync(flagPath)
    restarted = startServe(port)
    const base = `http://127.0.0.1:${port}`
    await waitFor('the restarted serve to be ready', 20_000, async () => ((await (await fetch(`${base}/health`)).json()) as { ready: boolean }).ready)
  } finally {
    for (const process of [failing, restarted]) {
      if (process === null) continue
      if (process.exitCode === null) process.kill('SIGKILL')
      await process.exited
    }
  }
}, 60_000)
