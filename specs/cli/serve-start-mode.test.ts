/**
 * The config's mode applies at start before anything is sent: a start asked for `shadow` (nothing sent) must not
 * send, in the mode left in the log by the run before, the orders that run accepted and did not send yet.
 */

import { describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startServeGateway } from '../../src/cli/serve-gateway.ts'
import { StoppableClock } from '../../src/cli/stoppable-clock.ts'
import { parseConfig } from '../../src/config/index.ts'
import type { Principal } from '../../src/domain/accounts.ts'
import { domainEventOf } from '../../src/runtime/records.ts'
import { openReadOnly } from '../../wal/index.ts'

const TRADER: Principal = { id: 'alice', roles: ['trader'], accounts: ['demo-1'], liveAllowed: false }
const BUY = { account: 'demo-1', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '59000' } as const

function configOf(dir: string, mode: 'paper' | 'shadow') {
  return parseConfig({ dataDir: dir, mode, auth: { hs256Enabled: true }, wal: { durability: 'none' }, accounts: [{ id: 'demo-1', balances: { USD: '1000000' } }] })
}

describe('the serve gateway at start', () => {
  test("orders left queued by a paper run are not sent when the next start's config asks for shadow", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'egress-serve-mode-'))
    const clock = new StoppableClock()
    try {
      const first = await startServeGateway(configOf(dir, 'paper'), { clock, buildCommit: 'spec', onError: () => {} })
      // The process goes down right after accepting, before its executor sent anything: the orders stay Enqueued.
      first.gateway.executor.stop()
      for (const tag of ['q1', 'q2']) {
        const placed = await first.gateway.place(TRADER, { ...BUY, client_order_id: tag }, null)
        expect(placed.reply.kind).toBe('accepted')
      }
      await first.gateway.stop()
      const lastLsnOfFirst = lastLsn(dir)

      const second = await startServeGateway(configOf(dir, 'shadow'), { clock, buildCommit: 'spec', onError: () => {} })
      await Bun.sleep(50)
      await second.gateway.engine.settled()
      expect(second.gateway.engine.state.mode).toBe('shadow')
      expect(second.gateway.executor.stats.sends).toBe(0)
      expect(second.venue.inspect().orders).toEqual([])
      await second.gateway.stop()
      const sentSince = eventsAfter(dir, lastLsnOfFirst).filter((event) => event.type === 'order.send_requested')
      expect(sentSince).toEqual([])
    } finally {
      clock.cancelAll()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

function lastLsn(dir: string): number {
  return openReadOnly(join(dir, 'log')).lastLsn
}

function eventsAfter(dir: string, lsn: number): { type: string }[] {
  const events: { type: string }[] = []
  for (const frame of openReadOnly(join(dir, 'log')).read(lsn + 1)) {
    const event = domainEventOf(frame)
    if (event !== null) events.push(event)
  }
  return events
}
