import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { backOfficeOf } from '../../src/backoffice/index.ts'
import { runRecoveryCheck, type RecoveryCheckOptions } from '../../scripts/recovery-check.ts'
import { auth, eventually, post, startTestGateway, type TestGateway } from '../http/fixture.ts'

let gw: TestGateway
let auditor: string

beforeAll(async () => {
  gw = await startTestGateway()
  auditor = await gw.token({ sub: 'audrey', roles: ['auditor'], accounts: [] })
  const trader = await gw.token({ sub: 'alice', roles: ['trader'], accounts: ['demo-1'] })
  const placed = await gw.request('/v1/orders', post(trader, { account: 'demo-1', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.1', price: '61000' }, { 'Idempotency-Key': 'rc-1' }))
  expect(placed.status).toBe(202)
  await eventually(() => backOfficeOf(gw.gateway).projector.ledger.counters.fills >= 1)
})

afterAll(async () => {
  await gw.stop()
})

function options(overrides: Partial<RecoveryCheckOptions> = {}): RecoveryCheckOptions {
  return {
    fetch: (path) => gw.request(path, { headers: auth(auditor) }),
    staleSec: 0.3,
    pollMs: 20,
    account: null,
    requireReconcile: true,
    ledgerPagesMax: 10,
    log: () => {},
    sleep: (ms) => Bun.sleep(ms),
    ...overrides,
  }
}

describe('scripts/recovery-check.ts', () => {
  test('a healthy gateway whose reconcile is clean passes', async () => {
    await backOfficeOf(gw.gateway).reconcile()
    const verdict = await runRecoveryCheck(options())
    expect(verdict.reasons).toEqual([])
    expect(verdict.pass).toBe(true)
    expect((verdict.figures.ledger as { postings: number }).postings).toBeGreaterThan(0)
  })

  test('no reconcile run at all fails only when one is required', async () => {
    const withoutRuns = (path: string): Promise<Response> =>
      path === '/v1/reconcile' ? Promise.resolve(Response.json({ ok: true, open_breaks: [], last_run: null, last_error: null })) : gw.request(path, { headers: auth(auditor) })
    expect((await runRecoveryCheck(options({ fetch: withoutRuns }))).reasons).toEqual(['no reconcile has run yet'])
    expect((await runRecoveryCheck(options({ fetch: withoutRuns, requireReconcile: false }))).pass).toBe(true)
  })

  test('an open break fails the check and is named', async () => {
    const balances = gw.gateway.engine.state.accounts.get('demo-2')?.balances
    const usd = balances?.get('USD') ?? 0n
    balances?.set('USD', usd + 1n)
    await backOfficeOf(gw.gateway).reconcile()
    const verdict = await runRecoveryCheck(options())
    expect(verdict.pass).toBe(false)
    expect(verdict.reasons.join('\n')).toContain('open break ledger_vs_kernel:balance:demo-2:USD')
    balances?.set('USD', usd)
    await backOfficeOf(gw.gateway).reconcile()
    expect((await runRecoveryCheck(options())).pass).toBe(true)
  })

  test('a projection that makes no progress while the log grows is reported stalled', async () => {
    const stalled = async (path: string): Promise<Response> => {
      const response = await gw.request(path, { headers: auth(auditor) })
      if (path !== '/v1/stats') return response
      const body = (await response.json()) as Record<string, number>
      return Response.json({ ...body, applied_lsn: 3, stored_lsn: 3, log_last_lsn: (body.log_last_lsn ?? 0) + 5 })
    }
    const verdict = await runRecoveryCheck(options({ fetch: stalled }))
    expect(verdict.pass).toBe(false)
    expect(verdict.reasons.some((reason) => reason.startsWith('projection stalled: applied LSN 3 made no progress'))).toBe(true)
  })

  test('a balance whose available is not total minus reserved fails', async () => {
    const skewed = async (path: string): Promise<Response> => {
      if (!path.startsWith('/v1/balances')) return gw.request(path, { headers: auth(auditor) })
      return Response.json({ balances: [{ account: 'demo-1', asset: 'USD', total: '10', reserved: '3', available: '8' }] })
    }
    const verdict = await runRecoveryCheck(options({ fetch: skewed }))
    expect(verdict.reasons).toEqual(['balance demo-1/USD: available 8 ≠ total 10 − reserved 3'])
  })

  // Found by the s36 review: the read budget (config backpressure.read, per token sub) answers GETs past it 429 with
  // Retry-After; the check counted that as a failure of the gateway ("/v1/ledger answered 429"), a false FAIL whenever
  // its token's budget was spent by another reader.
  test('reads shed for the read budget (429, Retry-After) are waited out, not reported as failures', async () => {
    let requests = 0
    const shedEveryOther = async (path: string): Promise<Response> => {
      requests++
      if (path.startsWith('/v1/') && requests % 2 === 1) {
        return Response.json({ error: { code: 'RATE_LIMITED', message: 'reads are being shed', details: { scope: 'read', retry_after_sec: 2 } } }, { status: 429, headers: { 'Retry-After': '2' } })
      }
      return gw.request(path, { headers: auth(auditor) })
    }
    const slept: number[] = []
    const verdict = await runRecoveryCheck(options({ fetch: shedEveryOther, sleep: async (ms) => void slept.push(ms) }))
    expect(verdict.reasons).toEqual([])
    expect(verdict.pass).toBe(true)
    expect(slept.filter((ms) => ms === 2_000).length).toBeGreaterThanOrEqual(4)
  })
})

describe('scripts/e2e.ts', () => {
  test('starts a gateway, places and fills orders, and the recovery check passes', () => {
    const root = join(import.meta.dir, '..', '..')
    const result = Bun.spawnSync([process.execPath, join(root, 'scripts/e2e.ts')], { cwd: root, env: { ...process.env }, timeout: 90_000 })
    const lines = result.stdout.toString().trimEnd().split('\n')
    const summary = JSON.parse(lines.at(-1) ?? '{}') as { pass?: boolean; fills?: number }
    expect({ exit: result.exitCode, stderr: result.exitCode === 0 ? '' : result.stderr.toString() }).toEqual({ exit: 0, stderr: '' })
    expect(lines[0]).toBe('PASS')
    expect(summary.pass).toBe(true)
    expect(summary.fills).toBe(3)
  }, 120_000)
})
