/**
 * Back-office recovery check against a running gateway: /health, /v1/stats, /v1/positions, /v1/balances, /v1/ledger
 * and /v1/reconcile, then PASS or FAIL with the reasons. Exit 0 on PASS, 1 on FAIL, 2 on a usage error.
 *
 *   bun scripts/recovery-check.ts --url http://127.0.0.1:8080 --secret "$EGRESS_HS256_SECRET"
 *   bun scripts/recovery-check.ts --url … --token "$TOKEN" --stale-sec 10 --account demo-1
 *
 * What FAILs: the gateway not ready; a stalled projection (the ledger's applied LSN, or the query model's stored LSN,
 * makes no progress for --stale-sec seconds while the log is ahead of it); a ledger compacted away from under the
 * back office; an entry on the ledger that does not sum to zero per asset; a balance whose available is not total −
 * reserved, or negative; any open reconcile break; no reconcile run at all when --require-reconcile is given.
 *
 * The token needs read access to every account (auditor or ops); with --secret (or EGRESS_HS256_SECRET) the script
 * mints one itself. Progress goes to stderr; stdout carries the verdict lines and, last, one JSON object.
 */

import { parseArgs } from 'node:util'
import { mintHs256Token } from '../src/http/auth/index.ts'

export interface RecoveryCheckOptions {
  /** Fetches a path (with the auth header added by the check). */
  fetch: (path: string) => Promise<Response>
  staleSec: number
  pollMs: number
  account: string | null
  requireReconcile: boolean
  ledgerPagesMax: number
  log: (message: string) => void
  sleep: (ms: number) => Promise<void>
}

export interface RecoveryVerdict {
  pass: boolean
  reasons: string[]
  notes: string[]
  figures: Record<string, unknown>
}

type Json = Record<string, unknown>

/**
 * Past its read budget (config backpressure.read) a gateway answers a GET 429 with Retry-After: busy, not broken, and
 * the token may be shared with other readers (a dashboard). Waited out, up to this many times per path, rather than
 * failing the check.
 */
const READ_SHED_WAITS_MAX = 10

async function getJson(options: RecoveryCheckOptions, path: string, reasons: string[]): Promise<Json | null> {
  try {
    let response = await options.fetch(path)
    for (let waits = 0; response.status === 429 && waits < READ_SHED_WAITS_MAX; waits++) {
      await response.body?.cancel()
      const retryAfterSec = Number(response.headers.get('Retry-After'))
      options.log(`${path} answered 429 (read budget); retrying`)
      await options.sleep(Number.isInteger(retryAfterSec) && retryAfterSec > 0 ? retryAfterSec * 1000 : 1000)
      response = await options.fetch(path)
    }
    const body = (await response.json()) as Json
    if (response.status !== 200 && !(path === '/health' && response.status === 503)) {
      reasons.push(`${path} answered ${response.status}: ${JSON.stringify(body).slice(0, 200)}`)
      return null
    }
    return body
  } catch (error) {
    reasons.push(`${path} failed: ${error instanceof Error ? error.message : String(error)}`)
    return null
  }
}

export async function runRecoveryCheck(options: RecoveryCheckOptions): Promise<RecoveryVerdict> {
  const reasons: string[] = []
  const notes: string[] = []
  const figures: Record<string, unknown> = {}
  const accountQuery = options.account === null ? '' : `account=${encodeURIComponent(options.account)}`
  options.log('checking /health')
  const health = await getJson(options, '/health', reasons)
  if (health !== null) {
    figures.health = { ready: health.ready, role: health.role, mode: health.mode }
    if (health.ready !== true) reasons.push(`the gateway is not ready (${JSON.stringify(health.log ?? {})})`)
  }
  options.log('checking /v1/stats for a stalled projection')
  await checkProgress(options, reasons, figures)
  options.log('checking /v1/positions and /v1/balances')
  const positions = await getJson(options, `/v1/positions${accountQuery === '' ? '' : `?${accountQuery}`}`, reasons)
  if (positions !== null) figures.positions = (positions.positions as unknown[]).length
  const balances = await getJson(options, `/v1/balances${accountQuery === '' ? '' : `?${accountQuery}`}`, reasons)
  if (balances !== null) checkBalances(balances.balances as Json[], reasons, figures)
  options.log('checking /v1/ledger entries balance')
  await checkLedger(options, accountQuery, reasons, notes, figures)
  options.log('checking /v1/reconcile')
  const reconcile = await getJson(options, '/v1/reconcile', reasons)
  if (reconcile !== null) checkReconcile(options, reconcile, reasons, notes, figures)
  return { pass: reasons.length === 0, reasons, notes, figures }
}

/** Polls /v1/stats until the projection has caught up with the log as first seen, or makes no progress for staleSec. */
async function checkProgress(options: RecoveryCheckOptions, reasons: string[], figures: Record<string, unknown>): Promise<void> {
  const first = await getJson(options, '/v1/stats', reasons)
  if (first === null) return
  if (first.ledger_complete === false) reasons.push('the log was compacted below the back office: its ledger misses history (ledger snapshots are not implemented)')
  const target = first.log_last_lsn as number
  let last = first
  let lastProgressMs = Date.now()
  for (;;) {
    const applied = last.applied_lsn as number
    const stored = last.stored_lsn as number
    if (applied >= target && stored >= target) break
    const stalledMs = Date.now() - lastProgressMs
    if (stalledMs >= options.staleSec * 1000) {
      if (applied < target) reasons.push(`projection stalled: applied LSN ${applied} made no progress for ${options.staleSec}s while the log is at ${last.log_last_lsn as number}`)
      else reasons.push(`query model stalled: stored LSN ${stored} made no progress for ${options.staleSec}s while the ledger is at ${applied}`)
      break
    }
    await options.sleep(options.pollMs)
    const next = await getJson(options, '/v1/stats', reasons)
    if (next === null) return
    if ((next.applied_lsn as number) > applied || (next.stored_lsn as number) > stored) lastProgressMs = Date.now()
    last = next
  }
  figures.stats = { applied_lsn: last.applied_lsn, stored_lsn: last.stored_lsn, log_last_lsn: last.log_last_lsn, lag_records: last.lag_records, open_breaks: last.open_breaks }
}

function checkBalances(rows: Json[], reasons: string[], figures: Record<string, unknown>): void {
  figures.balances = rows.length
  for (const row of rows) {
    const [total, reserved, available] = [units(row.total), units(row.reserved), units(row.available)]
    if (total - reserved !== available) reasons.push(`balance ${String(row.account)}/${String(row.asset)}: available ${String(row.available)} ≠ total ${String(row.total)} − reserved ${String(row.reserved)}`)
    if (reserved < 0n) reasons.push(`balance ${String(row.account)}/${String(row.asset)}: reserved is negative (${String(row.reserved)})`)
    if (available < 0n) reasons.push(`balance ${String(row.account)}/${String(row.asset)}: available is negative (${String(row.available)})`)
  }
}

async function checkLedger(options: RecoveryCheckOptions, accountQuery: string, reasons: string[], notes: string[], figures: Record<string, unknown>): Promise<void> {
  // Entries are checked whole only when every posting is visible: filtering by account would hide the other side.
  const sums = new Map<string, bigint>()
  let cursor: string | null = null
  let pages = 0
  let postings = 0
  do {
    const page = await getJson(options, `/v1/ledger?limit=1000${cursor === null ? '' : `&cursor=${cursor}`}`, reasons)
    if (page === null) return
    for (const row of page.postings as Json[]) {
      const key = `${String(row.lsn)} ${String(row.asset)}`
      sums.set(key, (sums.get(key) ?? 0n) + units(row.amount))
      postings++
    }
    cursor = page.next_cursor as string | null
    pages++
  } while (cursor !== null && pages < options.ledgerPagesMax)
  if (cursor !== null) notes.push(`ledger checked for its first ${postings} postings only (--ledger-pages-max ${options.ledgerPagesMax})`)
  for (const [key, sum] of sums) if (sum !== 0n) reasons.push(`ledger entry ${key} does not balance (off by ${sum} units)`)
  figures.ledger = { postings, entries: new Set([...sums.keys()].map((key) => key.split(' ')[0])).size, account_filter: accountQuery === '' ? null : options.account }
}

function checkReconcile(options: RecoveryCheckOptions, body: Json, reasons: string[], notes: string[], figures: Record<string, unknown>): void {
  const breaks = body.open_breaks as Json[]
  const lastRun = body.last_run as Json | null
  // The answer lists one page of the open breaks (the first): their count is over all of them.
  const openCount = typeof body.open_break_count === 'number' ? body.open_break_count : breaks.length
  if (openCount > breaks.length) reasons.push(`${openCount - breaks.length} more open breaks than listed here (GET /v1/reconcile pages them)`)
  figures.reconcile = { open_breaks: openCount, last_run: lastRun === null ? null : { run_id: lastRun.run_id, as_of_lsn: lastRun.as_of_lsn, checks: lastRun.checks, skipped: lastRun.skipped } }
  for (const item of breaks) reasons.push(`open break ${String(item.key)}: ${String(item.what)} — expected ${String(item.expected)}, actual ${String(item.actual)} (first seen ${new Date(item.first_seen_ms as number).toISOString()})`)
  if (lastRun === null) (options.requireReconcile ? reasons : notes).push('no reconcile has run yet')
  else if ((lastRun.skipped as unknown[]).length > 0) notes.push(`the last reconcile skipped: ${JSON.stringify(lastRun.skipped)}`)
  if (body.last_error !== null && body.last_error !== undefined) notes.push(`the last reconcile failed: ${JSON.stringify(body.last_error)}`)
}

/** Decimal text to units of 10^-8, exactly. */
function units(value: unknown): bigint {
  const text = String(value)
  const match = /^(-)?(\d+)(?:\.(\d{1,8}))?$/.exec(text)
  if (match === null) throw new Error(`not a decimal amount: ${text}`)
  const magnitude = BigInt(match[2] ?? '0') * 100_000_000n + BigInt((match[3] ?? '').padEnd(8, '0'))
  return match[1] === '-' ? -magnitude : magnitude
}

const USAGE = `Usage: bun scripts/recovery-check.ts [--url URL] [--token TOKEN | --secret SECRET] [--account ID]
       [--stale-sec N] [--require-reconcile] [--ledger-pages-max N]
  --url URL            the gateway (default $EGRESS_URL or http://127.0.0.1:8080)
  --token TOKEN        a bearer token with auditor or ops role (default $EGRESS_TOKEN)
  --secret SECRET      mint one with this HS256 secret instead (default $EGRESS_HS256_SECRET)
  --issuer, --audience token claims when minting (default egress, egress-api)
  --account ID         check this account's positions and balances only
  --stale-sec N        a projection with no progress for N seconds while behind the log is stalled (default $BACKOFFICE_STALE_SEC or 10)
  --require-reconcile  FAIL if no reconcile has run yet
  --ledger-pages-max N read at most N pages of 1000 postings (default 100)`

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      token: { type: 'string' },
      secret: { type: 'string' },
      issuer: { type: 'string', default: 'egress' },
      audience: { type: 'string', default: 'egress-api' },
      account: { type: 'string' },
      'stale-sec': { type: 'string' },
      'require-reconcile': { type: 'boolean', default: false },
      'ledger-pages-max': { type: 'string', default: '100' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  })
  if (values.help) {
    process.stdout.write(`${USAGE}\n`)
    return 0
  }
  const url = (values.url ?? process.env.EGRESS_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '')
  const staleSec = Number(values['stale-sec'] ?? process.env.BACKOFFICE_STALE_SEC ?? '10')
  const pagesMax = Number(values['ledger-pages-max'])
  if (!Number.isFinite(staleSec) || staleSec <= 0 || !Number.isSafeInteger(pagesMax) || pagesMax < 1) {
    process.stderr.write(`recovery-check: --stale-sec must be > 0 and --ledger-pages-max ≥ 1\n${USAGE}\n`)
    return 2
  }
  let token = values.token ?? process.env.EGRESS_TOKEN
  const secret = values.secret ?? process.env.EGRESS_HS256_SECRET
  if (token === undefined && secret !== undefined) {
    token = await mintHs256Token(secret, { sub: 'recovery-check', roles: ['auditor'], accounts: [], issuer: values.issuer, audience: values.audience, ttlSec: 600 })
  }
  if (token === undefined) {
    process.stderr.write(`recovery-check: a --token or --secret is needed\n${USAGE}\n`)
    return 2
  }
  const headers = { Authorization: `Bearer ${token}` }
  const verdict = await runRecoveryCheck({
    fetch: (path) => fetch(`${url}${path}`, { headers }),
    staleSec,
    pollMs: 250,
    account: values.account ?? null,
    requireReconcile: values['require-reconcile'],
    ledgerPagesMax: pagesMax,
    log: (message) => process.stderr.write(`recovery-check: ${message}\n`),
    sleep: (ms) => Bun.sleep(ms),
  })
  printVerdict(verdict)
  return verdict.pass ? 0 : 1
}

export function printVerdict(verdict: RecoveryVerdict): void {
  const lines = [verdict.pass ? 'PASS' : 'FAIL', ...verdict.reasons.map((reason) => `  FAIL: ${reason}`), ...verdict.notes.map((note) => `  note: ${note}`)]
  process.stdout.write(`${lines.join('\n')}\n${JSON.stringify({ check: 'backoffice-recovery', pass: verdict.pass, reasons: verdict.reasons, notes: verdict.notes, figures: verdict.figures })}\n`)
}

if (import.meta.main) process.exit(await main())
