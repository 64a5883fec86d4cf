/**
 * End to end: `egress serve` (a subprocess, `bun src/main.ts serve --config <generated>`) with a FIX venue configured
 * trades against the QuickFIX executor — an order placed over HTTP is Filled (GET /v1/orders/:id) — and after a
 * restart (SIGTERM, start again on the same data directory) the FIX session resumes its numbering from the log: the
 * second Logon carries the number after the first run's Logout, without ResetSeqNumFlag, and orders keep filling.
 * CI sets EGRESS_FIX_EXECUTOR_REQUIRED=1, so there a missing executor fails in quickfix.test.ts instead of skipping.
 */

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { mintHs256Token } from '../../src/http/auth/index.ts'
import { executorMissing, QuickFixExecutor } from '../venues/fix/quickfix-executor.ts'
import { freePort, waitFor } from '../../scripts/support/loopback.ts'

const ROOT = resolve(import.meta.dir, '../..')
const SESSION = { beginString: 'FIX.4.2', compId: 'EXECE2E', peerCompId: 'EGRESSE2E' } as const
const START_TIMEOUT_MS = 20_000
const FILL_TIMEOUT_MS = 15_000
const STOP_TIMEOUT_MS = 10_000

const missing = executorMissing()

/** MsgSeqNum of every message of `msgType` egress sent, in the executor's log order. */
function incomingSeqNums(executorLog: string, msgType: string): number[] {
  const pattern = new RegExp(`incoming>\\n  \\(8=FIX\\.4\\.2\\|9=\\d+\\|35=${msgType}\\|[^\\n]*?\\|34=(\\d+)\\|`, 'g')
  return [...executorLog.matchAll(pattern)].map((match) => Number(match[1]))
}

describe.skipIf(missing !== null)('egress serve with a FIX venue, end to end against the QuickFIX executor', () => {
  let executor: QuickFixExecutor
  let dir: string
  let serveLogPath: string
  let child: ReturnType<typeof Bun.spawn> | null = null
  const secret = `fix-e2e-${crypto.randomUUID()}-${crypto.randomUUID()}`

  beforeAll(async () => {
    executor = new QuickFixExecutor()
    await executor.start([SESSION])
    dir = mkdtempSync(join(tmpdir(), 'egress-fix-e2e-'))
  })

  afterAll(async () => {
    if (child !== null && child.exitCode === null) {
      child.kill('SIGKILL')
      await child.exited
    }
    await executor.dispose()
    rmSync(dir, { recursive: true, force: true })
  })

  const serveLog = (): string => `serve stderr:\n${readFileSync(serveLogPath, 'utf8').slice(-4000)}\nexecutor log tail:\n${executor.log().slice(-3000)}`

  async function startServe(run: number, port: number, configPath: string): Promise<string> {
    serveLogPath = join(dir, `serve-${run}.log`)
    const env = { ...process.env, EGRESS_CONFIG: undefined, PORT: undefined, EGRESS_DATA_DIR: undefined, EGRESS_HS256_SECRET: undefined }
    const started = Bun.spawn([process.execPath, join(ROOT, 'src/main.ts'), 'serve', '--config', configPath], {
      cwd: dir, env, stdout: 'ignore', stderr: Bun.file(serveLogPath),
    })
    child = started
    const base = `http://127.0.0.1:${port}`
    await waitFor('/health to answer 200', START_TIMEOUT_MS, async () => {
      if (started.exitCode !== null) throw new Error(`serve exited early with ${started.exitCode}\n${serveLog()}`)
      return (await fetch(`${base}/health`, { keepalive: false })).status === 200 ? true : null
    }, { context: serveLog })
    return base
  }

  async function stopServe(): Promise<void> {
    const running = child
    if (running === null) return
    running.kill('SIGTERM')
    const code = await Promise.race([running.exited, Bun.sleep(STOP_TIMEOUT_MS).then(() => 'timeout')])
    child = null
    expect({ code, log: code === 0 ? '' : serveLog() }).toEqual({ code: 0, log: '' })
  }

  async function placeFilled(base: string, token: string, key: string): Promise<string> {
    const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }
    const body = { account: 'demo-1', venue: 'qf', symbol: 'IBM', side: 'buy', type: 'limit', qty: '10', price: '100.5', tif: 'DAY' }
    const placed = await fetch(`${base}/v1/orders`, { keepalive: false, method: 'POST', headers: { ...headers, 'Idempotency-Key': key }, body: JSON.stringify(body) })
    const answer = (await placed.json()) as Record<string, unknown>
    const orderId = answer.order_id
    if (placed.status !== 202 || typeof orderId !== 'string') throw new Error(`POST /v1/orders answered ${placed.status}: ${JSON.stringify(answer)}`)
    const order = await waitFor(`order ${orderId} to be Filled`, FILL_TIMEOUT_MS, async () => {
      const read = (await (await fetch(`${base}/v1/orders/${orderId}`, { headers, keepalive: false })).json()) as Record<string, unknown>
      return read.state === 'Filled' ? read : null
    }, { context: serveLog })
    expect(order).toMatchObject({ order_id: orderId, venue: 'qf', symbol: 'IBM', state: 'Filled' })
    return orderId
  }

  test('an order placed over HTTP is filled by the executor; after a restart the session resumes without a sequence reset', async () => {
    const port = await freePort()
    const configPath = join(dir, 'egress.json')
    writeFileSync(configPath, JSON.stringify({
      dataDir: join(dir, 'data'),
      host: '127.0.0.1',
      port,
      auth: { hs256Secret: secret },
      venues: [{
        type: 'fix', name: 'qf', host: '127.0.0.1', port: executor.port, beginString: SESSION.beginString,
        senderCompId: SESSION.peerCompId, targetCompId: SESSION.compId, heartbeatIntervalSeconds: 30, resetOnLogon: 'never',
        reconnectDelayMsMin: 100, reconnectDelayMsMax: 2_000, marketData: 'static',
        instruments: [{ symbol: 'IBM', baseAsset: 'IBM', quoteAsset: 'USD', tickSize: '0.01', lotSize: '1', minQty: '1', maxQty: '10000', referencePrice: '100' }],
      }],
    }, null, 2))
    const token = await mintHs256Token(secret, { sub: 'fix-e2e', roles: ['trader'], accounts: ['demo-1'], issuer: 'egress', audience: 'egress-api', ttlSec: 600 })

    const firstBase = await startServe(1, port, configPath)
    const firstOrder = await placeFilled(firstBase, token, 'fix-e2e-1')
    await stopServe()
    const logouts = incomingSeqNums(executor.log(), '5')
    const firstLogons = incomingSeqNums(executor.log(), 'A')
    expect(firstLogons).toEqual([1])
    expect(logouts).toHaveLength(1)

    const secondBase = await startServe(2, port, configPath)
    const secondOrder = await placeFilled(secondBase, token, 'fix-e2e-2')
    const logons = incomingSeqNums(executor.log(), 'A')
    // The second Logon continues the numbering from the first run's Logout: the numbers came back from the log.
    expect(logons).toEqual([1, (logouts[0] as number) + 1])
    expect(executor.log()).not.toContain('141=Y')
    expect(executor.log()).not.toContain('MsgSeqNum too low')
    const headers = { Authorization: `Bearer ${token}` }
    expect(((await (await fetch(`${secondBase}/v1/orders/${firstOrder}`, { headers, keepalive: false })).json()) as Record<string, unknown>).state).toBe('Filled')
    expect(secondOrder).not.toBe(firstOrder)
    await stopServe()
  }, 90_000)
})
