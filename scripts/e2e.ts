/**
 * End to end through the back office: start `egress serve` (paper, sim venue, fsync) on a free loopback port with a
 * temp data directory, place orders that fill and one that rests, check each answer (202, order id, state), wait for
 * the fills and for a reconcile that covers them, then run scripts/recovery-check.ts against the live gateway.
 * Stop with SIGTERM. Exit 0 only if every step and the recovery check pass.
 *
 *   bun scripts/e2e.ts                 # runs `bun src/main.ts serve`
 *   bun scripts/e2e.ts dist/egress     # runs the compiled binary instead
 *
 * Progress on stderr; stdout carries the recovery check's verdict and, last, one JSON object.
 */

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { mintHs256Token } from '../src/http/auth/index.ts'
import { freePort, waitFor } from './support/loopback.ts'

const ROOT = resolve(import.meta.dir, '..')
const START_TIMEOUT_MS = 20_000
const FILL_TIMEOUT_MS = 15_000
const RECONCILE_TIMEOUT_MS = 15_000
const STOP_TIMEOUT_MS = 10_000
const RECONCILE_INTERVAL_MS = 1_000

type Child = ReturnType<typeof Bun.spawn>

function say(message: string): void {
  process.stderr.write(`e2e: ${message}\n`)
}

function fail(message: string): never {
  throw new Error(message)
}

interface Api {
  get: (path: string) => Promise<Record<string, unknown>>
  post: (path: string, body: unknown, key: string) => Promise<{ status: number; body: Record<string, unknown> }>
}

function api(base: string, token: string): Api {
  const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }
  return {
    get: async (path) => (await (await fetch(`${base}${path}`, { headers })).json()) as Record<string, unknown>,
    post: async (path, body, key) => {
      const response = await fetch(`${base}${path}`, { method: 'POST', headers: { ...headers, 'Idempotency-Key': key }, body: JSON.stringify(body) })
      return { status: response.status, body: (await response.json()) as Record<string, unknown> }
    },
  }
}

const ORDERS = [
  { key: 'e2e-buy-btc', fills: true, body: { account: 'demo-1', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.25', price: '61000' } },
  { key: 'e2e-sell-eth', fills: true, body: { account: 'demo-1', symbol: 'ETH-USD', side: 'sell', type: 'limit', qty: '3', price: '2900' } },
  { key: 'e2e-buy-eth', fills: true, body: { account: 'demo-1', symbol: 'ETH-USD', side: 'buy', type: 'limit', qty: '1', price: '3100' } },
  { key: 'e2e-rest-btc', fills: false, body: { account: 'demo-1', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.1', price: '59000' } },
] as const

async function placeAndFill(trader: Api): Promise<{ orderId: string; state: string }[]> {
  const placed: { orderId: string; fills: boolean }[] = []
  for (const order of ORDERS) {
    const answer = await trader.post('/v1/orders', order.body, order.key)
    const orderId = answer.body.order_id
    if (answer.status !== 202 || typeof orderId !== 'string') fail(`order ${order.key} answered ${answer.status}: ${JSON.stringify(answer.body)}`)
    say(`order ${order.key} accepted as ${orderId} (${String(answer.body.state)})`)
    placed.push({ orderId, fills: order.fills })
    // Each marketable order fills before the next is placed: the ETH sell and buy in flight together would cross each
    // other, and the gateway refuses an order crossing the same account's own (SELF_TRADE_PREVENTED).
    if (order.fills) {
      await waitFor(`${order.key} to fill`, FILL_TIMEOUT_MS, async () => ((await trader.get(`/v1/orders/${orderId}`)).state === 'Filled' ? true : null))
    }
  }
  return waitFor('the marketable orders to fill', FILL_TIMEOUT_MS, async () => {
    const states = await Promise.all(placed.map(async ({ orderId }) => ({ orderId, state: String((await trader.get(`/v1/orders/${orderId}`)).state) })))
    const done = placed.every(({ fills }, index) => (fills ? states[index]?.state === 'Filled' : states[index]?.state === 'AckedOpen'))
    return done ? states : null
  })
}

async function main(): Promise<number> {
  const binary = process.argv[2]
  const dataDir = mkdtempSync(join(tmpdir(), 'egress-e2e-'))
  const port = await freePort()
  const secret = `e2e-${crypto.randomUUID()}-${crypto.randomUUID()}`
  const base = `http://127.0.0.1:${port}`
  const env = {
    ...process.env,
    PORT: String(port),
    EGRESS_HOST: '127.0.0.1',
    EGRESS_DATA_DIR: dataDir,
    EGRESS_HS256_SECRET: secret,
    EGRESS_BACKOFFICE_RECONCILE_MS: String(RECONCILE_INTERVAL_MS),
  }
  const command = binary === undefined ? [process.execPath, join(ROOT, 'src/main.ts'), 'serve'] : [resolve(binary), 'serve']
  let child: Child | null = null
  try {
    say(`starting ${command.join(' ')} on ${base}, data ${dataDir}`)
    child = Bun.spawn(command, { cwd: dataDir, env, stdout: 'ignore', stderr: 'pipe' })
    const started = child
    await waitFor('/health to answer 200', START_TIMEOUT_MS, async () => {
      if (started.exitCode !== null) fail(`serve exited early with ${started.exitCode}`)
      return (await fetch(`${base}/health`)).status === 200 ? true : null
    })
    const mint = (sub: string, roles: ('trader' | 'auditor')[], accounts: string[]) => mintHs256Token(secret, { sub, roles, accounts, issuer: 'egress', audience: 'egress-api', ttlSec: 600 })
    const trader = api(base, await mint('e2e-trader', ['trader'], ['demo-1']))
    const auditor = api(base, await mint('e2e-auditor', ['auditor'], []))
    const orders = await placeAndFill(trader)
    say(`orders settled: ${orders.map((order) => `${order.orderId}=${order.state}`).join(', ')}`)
    const fills = (await auditor.get('/v1/fills?account=demo-1')).fills as unknown[]
    const positions = (await auditor.get('/v1/positions?account=demo-1')).positions as Record<string, unknown>[]
    say(`${fills.length} fills booked; positions ${positions.map((row) => `${String(row.symbol)} ${String(row.net_qty)} @ ${String(row.avg_cost)}`).join(', ')}`)
    const appliedLsn = (await auditor.get('/v1/stats')).applied_lsn as number
    await waitFor(`a reconcile as of LSN ${appliedLsn}`, RECONCILE_TIMEOUT_MS, async () => {
      const lastRun = (await auditor.get('/v1/reconcile')).last_run as { as_of_lsn: number } | null
      return lastRun !== null && lastRun.as_of_lsn >= appliedLsn ? lastRun : null
    })
    say('running scripts/recovery-check.ts')
    const check = Bun.spawnSync([process.execPath, join(ROOT, 'scripts/recovery-check.ts'), '--url', base, '--secret', secret, '--require-reconcile', '--stale-sec', '5'], { cwd: ROOT, env: process.env })
    process.stderr.write(check.stderr.toString())
    const verdict = check.stdout.toString()
    const lines = verdict.trimEnd().split('\n')
    process.stdout.write(`${lines.slice(0, -1).join('\n')}\n`)
    child.kill('SIGTERM')
    const code = await Promise.race([child.exited, Bun.sleep(STOP_TIMEOUT_MS).then(() => null)])
    if (code !== 0) fail(`serve exited ${String(code)} after SIGTERM: ${await new Response(child.stderr as ReadableStream).text()}`)
    child = null
    const pass = check.exitCode === 0
    process.stdout.write(`${JSON.stringify({ e2e: 'backoffice', pass, orders: orders.length, fills: fills.length, recovery: JSON.parse(lines.at(-1) ?? '{}') as unknown })}\n`)
    return pass ? 0 : 1
  } finally {
    if (child !== null && child.exitCode === null) child.kill('SIGKILL')
    rmSync(dataDir, { recursive: true, force: true })
  }
}

try {
  process.exit(await main())
} catch (error) {
  say(`FAILED: ${error instanceof Error ? error.message : String(error)}`)
  process.stdout.write(`${JSON.stringify({ e2e: 'backoffice', pass: false, error: error instanceof Error ? error.message : String(error) })}\n`)
  process.exit(1)
}
