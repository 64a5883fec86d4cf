/**
 * The process binding (src/main.ts) with a standard output nobody reads: `egress token | true`, `egress serve | head`.
 * The write failed with EPIPE on the stream, unhandled: a stack trace on stderr, a token command exiting 1 after it had
 * minted the token, and a serve carrying on with Bun's crash footer. Output nobody reads is dropped instead.
 */

import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { freePort, waitFor } from '../../scripts/support/loopback.ts'

const ROOT = resolve(import.meta.dir, '../..')
const dir = mkdtempSync(join(tmpdir(), 'egress-closed-output-'))

afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Starts `egress ARGV` with its stdout's reader closed at once; stderr is kept. */
function spawnUnread(argv: string[], env: Record<string, string>) {
  const child = Bun.spawn([process.execPath, 'src/main.ts', ...argv], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  void child.stdout.cancel()
  return child
}

test('a token command whose stdout reader has gone exits 0 with no stack trace', async () => {
  const child = spawnUnread(['token', '--sub', 'alice', '--account', 'demo-1'], { EGRESS_DATA_DIR: join(dir, 'token') })
  const code = await child.exited
  const stderr = await new Response(child.stderr).text()
  expect(stderr).toContain('token for alice (roles trader')
  expect(stderr).not.toContain('EPIPE')
  expect(code).toBe(0)
}, 30_000)

test('a serve whose stdout reader has gone keeps serving and stops cleanly, with no stack trace', async () => {
  const port = await freePort()
  const child = spawnUnread(['serve'], { EGRESS_DATA_DIR: join(dir, 'serve'), PORT: String(port), EGRESS_WAL_DURABILITY: 'none' })
  try {
    await waitFor('serve to answer /health', 20_000, async () => (await fetch(`http://127.0.0.1:${port}/health/live`)).ok)
    // The banner follows the "listening" line; a few more answers leave its failed write time to surface.
    for (let i = 0; i < 5; i += 1) {
      expect((await fetch(`http://127.0.0.1:${port}/health/live`)).ok).toBe(true)
      await Bun.sleep(20)
    }
    child.kill('SIGTERM')
    const code = await Promise.race([child.exited, Bun.sleep(10_000).then(() => 'still running after 10 s')])
    const stderr = await new Response(child.stderr).text()
    expect(stderr).toContain('stopped cleanly')
    expect(stderr).not.toContain('EPIPE')
    expect(stderr).not.toContain('Bun v')
    expect(code).toBe(0)
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL')
    await child.exited
  }
}, 30_000)
