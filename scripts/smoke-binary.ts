/**
 * Smoke test of the compiled binary (CI, after `bun run build`): start `dist/egress serve` on a free loopback port
 * with a temp data directory, mint a token with `dist/egress token`, place an order (202), read it back, send SIGTERM
 * and expect exit 0 — then restart on the same data and check the order survived and its key still dedupes.
 * Provenance: `dist/egress version` must report the commit it was built from (this checkout's HEAD, +dirty as git
 * says) as embedded, and the order's decision record must carry it although serve runs with EGRESS_BUILD_COMMIT set
 * to another commit (a variable cannot make the binary claim another build).
 * Progress on stderr; the last stdout line is one JSON object. Exit 1 on any failure.
 */

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { gitCommitOf } from '../src/cli/build-info.ts'
import { freePort } from './support/loopback.ts'

const BINARY = resolve(process.argv[2] ?? 'dist/egress')
const START_TIMEOUT_MS = 15_000
const STOP_TIMEOUT_MS = 10_000
/** What serve is told its commit is: a lie the binary must ignore. */
const CLAIMED_COMMIT = 'f'.repeat(40)

function say(message: string): void {
  process.stderr.write(`smoke: ${message}\n`)
}

function fail(message: string): never {
  throw new Error(message)
}

async function waitReady(base: string, child: ReturnType<typeof Bun.spawn>): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS
  while (Date.now() < deadline) {
    if (child.exitCode !== null) fail(`serve exited early with ${child.exitCode}`)
    try {
      const res = await fetch(`${base}/health`)
      if (res.status === 200) return
    } catch {
      // not listening yet
    }
    await Bun.sleep(50)
  }
  fail('serve did not become ready in time')
}

async function stop(child: ReturnType<typeof Bun.spawn>): Promise<number> {
  child.kill('SIGTERM')
  const code = await Promise.race([child.exited, Bun.sleep(STOP_TIMEOUT_MS).then(() => null)])
  if (code === null) {
    child.kill('SIGKILL')
    fail('serve did not exit within the stop timeout after SIGTERM')
  }
  return code
}

/** Waits for a reconcile run and checks its replay check ran: the worker thread started from inside the binary. */
async function reconciledWithReplay(base: string, cwd: string, env: Record<string, string | undefined>): Promise<void> {
  const minted = Bun.spawnSync([BINARY, 'token', '--sub', 'smoke-audit', '--account', 'demo-1', '--role', 'auditor'], { cwd, env })
  if (minted.exitCode !== 0) fail(`token exited ${minted.exitCode}: ${minted.stderr.toString()}`)
  const headers = { Authorization: `Bearer ${minted.stdout.toString().trim().split('\n').at(-1) ?? ''}` }
  const deadline = Date.now() + 15_000
  while (Date.now() < deadline) {
    const view = (await (await fetch(`${base}/v1/reconcile`, { headers })).json()) as { last_run: { checks: string[]; skipped: unknown[] } | null; last_error: { message: string } | null }
    if (view.last_error !== null) fail(`reconcile failed: ${view.last_error.message}`)
    if (view.last_run !== null) {
      if (!view.last_run.checks.includes('ledger_vs_replay') || view.last_run.skipped.length > 0) fail(`reconcile ran ${JSON.stringify(view.last_run)}`)
      return
    }
    await Bun.sleep(100)
  }
  fail('no reconcile run within 15 s')
}

/** The binary's own account of its build: embedded, and the checkout's commit (when git can tell). */
function checkedVersion(cwd: string, env: Record<string, string | undefined>): string {
  const ran = Bun.spawnSync([BINARY, 'version'], { cwd, env })
  if (ran.exitCode !== 0) fail(`version exited ${ran.exitCode}: ${ran.stderr.toString()}`)
  const version = JSON.parse(ran.stdout.toString().trim().split('\n').at(-1) ?? '') as { commit: string; dirty: boolean; commit_source: string; recorded_commit: string }
  if (version.commit_source !== 'embedded') fail(`version reports commit_source ${version.commit_source}, expected embedded`)
  if (version.commit === CLAIMED_COMMIT) fail(`version reports the commit EGRESS_BUILD_COMMIT claims`)
  const checkout = gitCommitOf(resolve(import.meta.dir, '..'))
  if (checkout !== null && (checkout.commit !== version.commit || checkout.dirty !== version.dirty)) {
    fail(`the binary reports ${version.recorded_commit}, the checkout is ${checkout.commit}${checkout.dirty ? '+dirty' : ''}: rebuild`)
  }
  return version.recorded_commit
}

/** The build commit the order's accepting decision record carries (/explain). */
async function recordedCommitOf(base: string, orderId: string, headers: Record<string, string>): Promise<string> {
  const res = await fetch(`${base}/v1/orders/${orderId}/explain`, { headers })
  const body = (await res.json()) as { decisions?: { outcome: string; build_commit: string | null }[] }
  const accepted = body.decisions?.find((decision) => decision.outcome === 'accepted')
  if (res.status !== 200 || accepted === undefined || accepted.build_commit === null) fail(`explain answered ${res.status}: ${JSON.stringify(body)}`)
  return accepted.build_commit
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'egress-smoke-'))
  // An empty working directory: the binary must not pick up a stray .env or bunfig.toml.
  const cwd = mkdtempSync(join(tmpdir(), 'egress-smoke-cwd-'))
  const port = await freePort()
  // Reconcile every 300 ms, so a run (its replay in the worker thread the binary carries as an entry point) is seen.
  const env = { ...process.env, PORT: String(port), EGRESS_DATA_DIR: dataDir, EGRESS_HOST: '127.0.0.1', EGRESS_BACKOFFICE_RECONCILE_MS: '300', EGRESS_BUILD_COMMIT: CLAIMED_COMMIT }
  const base = `http://127.0.0.1:${port}`
  let child: ReturnType<typeof Bun.spawn> | null = null
  try {
    const buildCommit = checkedVersion(cwd, env)
    say(`${BINARY} version: built from ${buildCommit} (embedded)`)
    say(`starting ${BINARY} serve on ${base}, data ${dataDir}`)
    child = Bun.spawn([BINARY, 'serve'], { cwd, env, stdout: 'pipe', stderr: 'pipe' })
    await waitReady(base, child)
    const minted = Bun.spawnSync([BINARY, 'token', '--sub', 'smoke', '--account', 'demo-1', '--role', 'trader'], { cwd, env })
    if (minted.exitCode !== 0) fail(`token exited ${minted.exitCode}: ${minted.stderr.toString()}`)
    const token = minted.stdout.toString().trim().split('\n').at(-1) ?? ''
    const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', 'Idempotency-Key': 'smoke-1' }
    const body = JSON.stringify({ account: 'demo-1', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '59000' })
    const placed = await fetch(`${base}/v1/orders`, { method: 'POST', headers, body })
    const placedText = await placed.text()
    if (placed.status !== 202) fail(`place answered ${placed.status}: ${placedText}`)
    const orderId = (JSON.parse(placedText) as { order_id: string }).order_id
    say(`order ${orderId} accepted`)
    const got = await fetch(`${base}/v1/orders/${orderId}`, { headers })
    const state = ((await got.json()) as { state: string }).state
    if (got.status !== 200 || !['Enqueued', 'Sent', 'AckedOpen'].includes(state)) fail(`order read back as ${got.status} ${state}`)
    const recorded = await recordedCommitOf(base, orderId, headers)
    if (recorded !== buildCommit) fail(`the decision record carries build ${recorded}, expected the binary's ${buildCommit}`)
    say(`decision record carries build ${recorded} (EGRESS_BUILD_COMMIT=${CLAIMED_COMMIT.slice(0, 8)}… ignored)`)
    await reconciledWithReplay(base, cwd, env)
    say('reconcile ran ledger_vs_replay (the replay worker) with nothing skipped')
    const code = await stop(child)
    if (code !== 0) fail(`serve exited ${code} after SIGTERM; stderr: ${await new Response(child.stderr as ReadableStream).text()}`)
    say('SIGTERM → exit 0; restarting on the same data')
    child = Bun.spawn([BINARY, 'serve'], { cwd, env, stdout: 'pipe', stderr: 'pipe' })
    await waitReady(base, child)
    const again = await fetch(`${base}/v1/orders`, { method: 'POST', headers, body })
    if (again.status !== 202 || (await again.text()) !== placedText) fail('after restart the repeat did not return the first answer byte for byte')
    const restartCode = await stop(child)
    if (restartCode !== 0) fail(`serve exited ${restartCode} after the second SIGTERM`)
    child = null
    process.stdout.write(`${JSON.stringify({ smoke: 'binary', ok: true, orderId, state, buildCommit })}\n`)
  } finally {
    if (child !== null && child.exitCode === null) child.kill('SIGKILL')
    rmSync(dataDir, { recursive: true, force: true })
    rmSync(cwd, { recursive: true, force: true })
  }
}

try {
  await main()
} catch (error) {
  say(`FAILED: ${error instanceof Error ? error.message : String(error)}`)
  process.stdout.write(`${JSON.stringify({ smoke: 'binary', ok: false })}\n`)
  process.exit(1)
}
