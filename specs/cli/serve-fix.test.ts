/**
 * The serve gateway with a FIX venue from config, in-process, against the QuickFIX executor: an order placed through
 * the gateway is filled, and a restart on the same data directory resumes the FIX session from the numbers in the log.
 * (specs/cli/serve-fix-e2e.test.ts does the same through `egress serve` as a subprocess and HTTP.)
 */

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startServeGateway, type ServeGateway } from '../../src/cli/serve-gateway.ts'
import { StoppableClock } from '../../src/cli/stoppable-clock.ts'
import { parseConfig, type Config } from '../../src/config/index.ts'
import type { Principal } from '../../src/domain/accounts.ts'
import type { FixLogRecord } from '../../src/venues/fix/index.ts'
import { executorMissing, QuickFixExecutor } from '../venues/fix/quickfix-executor.ts'

const SESSION = { beginString: 'FIX.4.4', compId: 'EXECSERVE', peerCompId: 'EGRESSSERVE' } as const
const trader: Principal = { id: 'alice', roles: ['trader'], accounts: ['demo-1'], liveAllowed: false }

const missing = executorMissing()

describe.skipIf(missing !== null)('serve gateway with a FIX venue (QuickFIX executor)', () => {
  let executor: QuickFixExecutor
  let dir: string

  beforeAll(async () => {
    executor = new QuickFixExecutor()
    await executor.start([SESSION])
    dir = mkdtempSync(join(tmpdir(), 'egress-serve-fix-'))
  })

  afterAll(async () => {
    await executor.dispose()
    rmSync(dir, { recursive: true, force: true })
  })

  function config(): Config {
    return parseConfig({
      dataDir: dir,
      wal: { durability: 'none' },
      venues: [{
        type: 'fix', name: 'qf', host: '127.0.0.1', port: executor.port, beginString: SESSION.beginString,
        senderCompId: SESSION.peerCompId, targetCompId: SESSION.compId, heartbeatIntervalSeconds: 30, resetOnLogon: 'never',
        reconnectDelayMsMin: 100, reconnectDelayMsMax: 1_000, marketData: 'static',
        instruments: [{ symbol: 'IBM', baseAsset: 'IBM', quoteAsset: 'USD', tickSize: '0.01', lotSize: '1', minQty: '1', maxQty: '10000', referencePrice: '100' }],
      }],
    })
  }

  async function start(logs: FixLogRecord[]): Promise<{ served: ServeGateway; clock: StoppableClock }> {
    const clock = new StoppableClock()
    const served = await startServeGateway(config(), { clock, buildCommit: 'spec', onError: () => {}, fixLog: (record) => logs.push(record) })
    const [fix] = served.fixVenues
    expect(await fix?.adapter.whenActive(5_000)).toBe(true)
    return { served, clock }
  }

  async function filled(served: ServeGateway, key: string): Promise<string> {
    const placed = await served.gateway.place(trader, { account: 'demo-1', venue: 'qf', symbol: 'IBM', side: 'buy', type: 'limit', qty: '10', price: '100', tif: 'DAY' }, key)
    expect(placed.reply.kind).toBe('accepted')
    const orderId = placed.reply.kind === 'accepted' ? placed.reply.orderId : ''
    const deadline = Date.now() + 5_000
    while (served.gateway.engine.state.orders.get(orderId)?.status !== 'Filled') {
      if (Date.now() > deadline) throw new Error(`order ${orderId} is ${served.gateway.engine.state.orders.get(orderId)?.status}; executor log:\n${executor.log().slice(-2000)}`)
      await Bun.sleep(20)
    }
    return orderId
  }

  test('an order placed through the gateway is filled; a restart resumes the session from the log without a reset', async () => {
    const firstLogs: FixLogRecord[] = []
    const first = await start(firstLogs)
    const orderId = await filled(first.served, 'serve-fix-1')
    expect(first.served.gateway.engine.state.orders.get(orderId)?.cumQty).toBe(10_00000000n)
    await first.served.stop()
    // After the Logout, which took a number too.
    const seqNums = first.served.fixVenues[0]?.adapter.session.seqNums
    first.clock.cancelAll()

    const secondLogs: FixLogRecord[] = []
    const second = await start(secondLogs)
    expect(second.served.fixVenues[0]?.store.loadedFrom).toBe('log')
    // The shutdown snapshot carried the numbers too (used only if compaction removes every record of the venue).
    const section = second.served.gateway.restoredSections.get('fix-session:qf')
    expect(section === undefined ? null : JSON.parse(new TextDecoder().decode(section))).toEqual({ venue: 'qf', ...seqNums })
    expect(executor.log()).toMatch(new RegExp(`35=A\\|49=${SESSION.peerCompId}\\|56=${SESSION.compId}\\|34=${seqNums?.nextSenderSeqNum}\\|`))
    expect(executor.log()).not.toContain('141=Y')
    expect(secondLogs.some((r) => r.event === 'fix.gap_detected' || r.event === 'fix.session_error')).toBe(false)
    await filled(second.served, 'serve-fix-2')
    expect(second.served.gateway.engine.state.orders.get(orderId)?.status).toBe('Filled')
    await second.served.stop()
    second.clock.cancelAll()
  })
})
