/**
 * A gateway run from a checkout records the checkout's commit in its decision records (spec §9): git's HEAD, "+dirty"
 * when tracked files differ from it. EGRESS_BUILD_COMMIT naming another commit is ignored, with a warning on stderr:
 * it used to be the record, so any operator variable (or its absence: "dev") decided what the audit trail claimed.
 * `egress version` says the same. The compiled binary's side (embedded commit) is specs/scripts/build.test.ts.
 */

import { afterAll, expect, test } from 'bun:test'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import packageJson from '../../package.json' with { type: 'json' }
import { freePort } from '../../scripts/support/loopback.ts'
import { runCli } from '../../src/cli/index.ts'
import { recordingIo } from './io.ts'

const ROOT = resolve(import.meta.dir, '../..')
const CLAIMED = 'f'.repeat(40)
const dir = mkdtempSync(join(tmpdir(), 'egress-serve-build-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** What this checkout is, asked of git directly (not through build-info.ts); "dev" where git cannot tell. */
function checkoutCommit(): string {
  const head = spawnSync('git', ['-C', ROOT, 'rev-parse', 'HEAD'], { encoding: 'utf8' })
  if (head.status !== 0) return 'dev'
  const status = spawnSync('git', ['-C', ROOT, 'status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' })
  return `${head.stdout.trim()}${status.stdout.trim() === '' ? '' : '+dirty'}`
}

test('`egress version` from a checkout: the last line is JSON naming git HEAD, whatever EGRESS_BUILD_COMMIT says', async () => {
  const io = recordingIo({ EGRESS_BUILD_COMMIT: CLAIMED })
  expect(await runCli(['version'], io)).toBe(0)
  const json = JSON.parse(io.stdout.at(-1) ?? '') as Record<string, unknown>
  const expected = checkoutCommit()
  expect(json).toEqual({
    version: packageJson.version, commit: expected.replace('+dirty', ''), dirty: expected.endsWith('+dirty'),
    commit_source: expected === 'dev' ? 'none' : 'git', recorded_commit: expected, bun: Bun.version,
  })
  if (expected !== 'dev') expect(io.stderr.join('\n')).toContain(`EGRESS_BUILD_COMMIT=${CLAIMED} ignored`)
  expect(await runCli(['version', 'extra'], recordingIo({}))).toBe(2)
})

test("serve from a checkout records the checkout's commit in the order's decision record, not EGRESS_BUILD_COMMIT's", async () => {
  const port = await freePort()
  const env = { ...process.env, EGRESS_DATA_DIR: join(dir, 'data'), PORT: String(port), EGRESS_HOST: '127.0.0.1', EGRESS_WAL_DURABILITY: 'none', EGRESS_BUILD_COMMIT: CLAIMED }
  const child = Bun.spawn([process.execPath, 'src/main.ts', 'serve'], { cwd: ROOT, env, stdout: 'ignore', stderr: 'pipe' })
  const stderrText = new Response(child.stderr as ReadableStream).text()
  const base = `http://127.0.0.1:${port}`
  try {
    for (let waitedMs = 0; ; waitedMs += 100) {
      if (waitedMs > 20_000 || child.exitCode !== null) throw new Error(`serve did not listen: ${child.exitCode}`)
      if (await fetch(`${base}/health/live`).then((response) => response.ok, () => false)) break
      await Bun.sleep(100)
    }
    const minted = Bun.spawnSync([process.execPath, 'src/main.ts', 'token', '--sub', 'spec', '--account', 'demo-1', '--role', 'trader'], { cwd: ROOT, env })
    const token = minted.stdout.toString().trim().split('\n').at(-1) ?? ''
    const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', 'Idempotency-Key': 'build-1' }
    const body = JSON.stringify({ account: 'demo-1', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '59000' })
    const placed = await fetch(`${base}/v1/orders`, { method: 'POST', headers, body })
    expect(placed.status).toBe(202)
    const orderId = ((await placed.json()) as { order_id: string }).order_id
    const explain = (await (await fetch(`${base}/v1/orders/${orderId}/explain`, { headers })).json()) as { decisions: { outcome: string; build_commit: string | null }[] }
    const recorded = explain.decisions.find((decision) => decision.outcome === 'accepted')?.build_commit
    expect(recorded).toBe(checkoutCommit())
    expect(recorded).not.toBe(CLAIMED)
  } finally {
    child.kill('SIGTERM')
    await Promise.race([child.exited, Bun.sleep(15_000)])
    if (child.exitCode === null) child.kill('SIGKILL')
    await child.exited
  }
  const stderr = await stderrText
  expect(stderr).toContain(`build ${checkoutCommit()} (git), recorded in every decision record`)
  expect(stderr).toContain(`EGRESS_BUILD_COMMIT=${CLAIMED} ignored`)
}, 60_000)
