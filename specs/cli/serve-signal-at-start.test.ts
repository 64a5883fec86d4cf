/**
 * `egress serve` signalled during its start (the log replaying, bootstrap running): the signal was not watched until
 * intake opened, so it killed the process outright (exit 143 / 130), with no clean close of the log and no shutdown
 * snapshot. Now the start finishes, intake never opens, and the gateway stops as at any shutdown, exit 0. SIGHUP (the
 * terminal of an `npm start` closed) was not handled at all (exit 129): it stops the same way.
 * The signal is sent by a preload at a fixed point of the start (specs/cli/support/signal-at-start-preload.ts).
 * An fsync failing in that stop (the shutdown snapshot's) is exit 74, as at a stop after the start: it said "stopped
 * cleanly", exit 0.
 */

import { afterAll, expect, test } from 'bun:test'
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { freePort } from '../../scripts/support/loopback.ts'
import { EXIT_LOG_FAILED } from '../../src/cli/serve.ts'

const ROOT = resolve(import.meta.dir, '../..')
const PRELOAD = join(import.meta.dir, 'support', 'signal-at-start-preload.ts')
const FAIL_FSYNC_PRELOAD = join(import.meta.dir, 'support', 'fail-fsync-preload.ts')
const dir = mkdtempSync(join(tmpdir(), 'egress-signal-at-start-'))

afterAll(() => rmSync(dir, { recursive: true, force: true }))

for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
  test(`${signal} during the start: the start finishes, intake never opens, the gateway stops cleanly, exit 0`, async () => {
    const dataDir = join(dir, signal)
    const child = Bun.spawn([process.execPath, '--preload', PRELOAD, 'src/main.ts', 'serve'], {
      cwd: ROOT,
      env: { ...process.env, EGRESS_DATA_DIR: dataDir, PORT: String(await freePort()), EGRESS_WAL_DURABILITY: 'none', EGRESS_SPEC_SIGNAL_AT_START: signal },
      stdout: 'pipe',
      stderr: 'pipe',
    })
    try {
      const code = await Promise.race([child.exited, Bun.sleep(20_000).then(() => 'still running after 20 s')])
      const stderr = await new Response(child.stderr).text()
      expect(code).toBe(0)
      expect(stderr).toContain(`${signal} during start-up: stopping before intake opens`)
      expect(stderr).not.toContain('listening on')
      expect(stderr).toContain('stopped cleanly at LSN')
      expect(await new Response(child.stdout).text()).toBe('')
      // The shutdown snapshot was taken, as at any clean stop.
      expect(existsSync(join(dataDir, 'snapshots')) && readdirSync(join(dataDir, 'snapshots')).some((name) => name.endsWith('.snap'))).toBe(true)
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL')
      await child.exited
    }
  }, 30_000)
}

test('SIGTERM during the start, an fsync failing as the gateway stops (the shutdown snapshot): exit 74, not "stopped cleanly"', async () => {
  const dataDir = join(dir, 'fsync-failure')
  const child = Bun.spawn([process.execPath, '--preload', FAIL_FSYNC_PRELOAD, '--preload', PRELOAD, 'src/main.ts', 'serve'], {
    cwd: ROOT,
    env: {
      ...process.env, EGRESS_DATA_DIR: dataDir, PORT: String(await freePort()), EGRESS_WAL_DURABILITY: 'fsync', EGRESS_SPEC_SIGNAL_AT_START: 'SIGTERM',
      EGRESS_SPEC_FAIL_FSYNC_FLAG: join(dir, 'fail-fsync-now'), EGRESS_SPEC_FAIL_FSYNC_CALL: 'fsync', EGRESS_SPEC_FAIL_FSYNC_UNDER: dataDir,
    },
    stdout: 'ignore',
    stderr: 'pipe',
  })
  try {
    const code = await Promise.race([child.exited, Bun.sleep(20_000).then(() => 'still running after 20 s')])
    const stderr = await new Response(child.stderr).text()
    expect(stderr).toContain('SIGTERM during start-up: stopping before intake opens')
    expect(stderr).toContain('snapshot at shutdown: FSYNC_FAILED')
    // Before the fix: "stopped cleanly at LSN …", exit 0.
    expect({ code, failed: stderr.includes('the log failed while stopping'), clean: stderr.includes('stopped cleanly') }).toEqual({ code: EXIT_LOG_FAILED, failed: true, clean: false })
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL')
    await child.exited
  }
}, 30_000)
