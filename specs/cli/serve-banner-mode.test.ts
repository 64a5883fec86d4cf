/**
 * `egress serve` prints the paper banner ("egress is running in paper mode … place an order") by the mode in force,
 * not the config's. A restart never takes the config's mode past the log's (src/runtime/start-mode.ts): a data dir
 * left in shadow (nothing sent) stays in shadow when the next start's config asks for paper, and the banner used to
 * say paper all the same — inviting orders the gateway would not send. Found by the s33 review.
 */

import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { freePort } from '../../scripts/support/loopback.ts'

const ROOT = resolve(import.meta.dir, '../..')
const dir = mkdtempSync(join(tmpdir(), 'egress-serve-banner-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Runs `egress serve` in `mode` on the spec's data dir until it listens, stops it (SIGTERM), returns its output. */
async function serveOnce(mode: 'paper' | 'shadow'): Promise<{ stdout: string; stderr: string; code: number | string }> {
  const port = await freePort()
  // HS256 is on by default in paper mode only; a shadow start needs it said (or a JWKS file).
  const configPath = join(dir, 'egress.json')
  writeFileSync(configPath, JSON.stringify({ auth: { hs256Enabled: true } }))
  const child = Bun.spawn([process.execPath, 'src/main.ts', 'serve', '--config', configPath], {
    cwd: ROOT,
    env: { ...process.env, EGRESS_DATA_DIR: join(dir, 'data'), PORT: String(port), EGRESS_MODE: mode, EGRESS_WAL_DURABILITY: 'none' },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const stderrText = new Response(child.stderr as ReadableStream).text()
  const stdoutText = new Response(child.stdout as ReadableStream).text()
  try {
    for (let waitedMs = 0; ; waitedMs += 100) {
      if (waitedMs > 20_000) throw new Error('serve did not listen within 20 s')
      const live = await fetch(`http://127.0.0.1:${port}/health/live`).then((response) => response.ok, () => false)
      if (live) break
      if (child.exitCode !== null) break
      await Bun.sleep(100)
    }
    child.kill('SIGTERM')
    const code = await Promise.race([child.exited, Bun.sleep(15_000).then(() => 'still running 15 s after SIGTERM')])
    return { stdout: await stdoutText, stderr: await stderrText, code }
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL')
    await child.exited
  }
}

test('a paper config on a data dir whose log holds shadow: the mode in force is shadow, and no paper banner is shown', async () => {
  const shadow = await serveOnce('shadow')
  expect({ code: shadow.code, banner: shadow.stdout.includes('running in paper mode') }).toEqual({ code: 0, banner: false })
  const paper = await serveOnce('paper')
  expect(paper.code).toBe(0)
  expect(paper.stderr).toContain('mode in force: shadow')
  expect(paper.stdout).not.toContain('running in paper mode')
}, 60_000)

test('a paper config on a fresh data dir (paper in force) shows the banner', async () => {
  const fresh = mkdtempSync(join(dir, 'fresh-'))
  const port = await freePort()
  const child = Bun.spawn([process.execPath, 'src/main.ts', 'serve'], {
    cwd: ROOT,
    env: { ...process.env, EGRESS_DATA_DIR: join(fresh, 'data'), PORT: String(port), EGRESS_MODE: 'paper', EGRESS_WAL_DURABILITY: 'none' },
    stdout: 'pipe',
    stderr: 'ignore',
  })
  const stdoutText = new Response(child.stdout as ReadableStream).text()
  try {
    for (let waitedMs = 0; !(await fetch(`http://127.0.0.1:${port}/health/live`).then((response) => response.ok, () => false)); waitedMs += 100) {
      if (waitedMs > 20_000 || child.exitCode !== null) throw new Error('serve did not listen')
      await Bun.sleep(100)
    }
    child.kill('SIGTERM')
    expect(await child.exited).toBe(0)
    expect(await stdoutText).toContain(`egress is running in paper mode at http://127.0.0.1:${port}`)
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL')
    await child.exited
  }
}, 60_000)
