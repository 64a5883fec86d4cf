/**
 * fail_closed with the standby gone: the send gate holds every place and amend at once, and the executor records each
 * held call as a retry (order.send_retry), due after the sync timeout, then decides and gates it again. While the
 * standby stayed away that repeated for good — a send decision and a retry, a few records per held order per sync
 * timeout (about three per second per order with the default 1 s), so a standby down over a weekend grew the leader's
 * log without bound. Now the leader's term holds places and amends in the executor while the standby is not in sync
 * (leader-sync.ts holdSends, Executor.holdPlaceSends 'standby'): nothing is decided or recorded for them until it is
 * back and caught up, and then they go, gated as before.
 */

import { afterEach, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseConfig } from '../../../src/config/index.ts'
import { startServeGateway, type ServeGateway } from '../../../src/cli/serve-gateway.ts'
import { StoppableClock } from '../../../src/cli/stoppable-clock.ts'
import { executorSendHold, leaderSync } from '../../../src/runtime/ha/leader-sync.ts'
import type { SyncReplication } from '../../../src/runtime/ha/index.ts'
import { LIMIT_BUY, SECRET } from '../../http/fixture.ts'
import { waitFor } from './support.ts'

const closers: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close()
})

const SYNC_TIMEOUT_MS = 20
const principal = { id: 'alice', roles: ['trader' as const], accounts: ['demo-1'], liveAllowed: false }

/** A gateway leading under fail_closed, wired as an HA leader's term is (leading.ts newSync: executorSendHold). */
async function leaderUnderFailClosed(): Promise<{ served: ServeGateway; sync: () => SyncReplication }> {
  const dir = mkdtempSync(join(tmpdir(), 'egress-standby-gone-'))
  closers.push(() => rmSync(dir, { recursive: true, force: true }))
  let term: SyncReplication | null = null
  const config = parseConfig({ dataDir: dir, wal: { durability: 'none' }, auth: { hs256Secret: SECRET }, accounts: [{ id: 'demo-1', balances: { USD: '1000000', BTC: '10' } }] })
  const served = await startServeGateway(config, {
    clock: new StoppableClock(),
    buildCommit: 'spec',
    wal: { preallocateBytes: 0 },
    onError: () => {},
    beforeBootstrap: (engine, gateway) => {
      term = leaderSync(engine, {
        policy: 'fail_closed', timeoutMs: SYNC_TIMEOUT_MS, waitersMax: 16, log: () => {}, isCurrent: () => true,
        holdSends: executorSendHold(gateway),
      })
    },
  })
  closers.push(async () => {
    term?.close()
    await served.gateway.stop()
  })
  return { served, sync: () => term as unknown as SyncReplication }
}

/** A standby acknowledging the leader's whole log every few ms, until the returned function stops it. */
function standbyAcking(served: ServeGateway, sync: SyncReplication): () => void {
  const timer = setInterval(() => sync.acknowledge(served.gateway.engine.wal.lastLsn, sync.epoch), 2)
  return () => clearInterval(timer)
}

test('no standby yet: a place is neither sent nor recorded again and again; it goes once the standby is in sync', async () => {
  const { served, sync } = await leaderUnderFailClosed()
  expect(sync().state).toBe('down')
  const placed = await served.gateway.place(principal, { ...LIMIT_BUY, client_order_id: 'held-1' }, null)
  expect(placed.reply.kind).toBe('accepted')
  const lsn = served.gateway.engine.wal.lastLsn
  // Twenty sync timeouts: before, some twenty held sends and sixty records.
  await Bun.sleep(SYNC_TIMEOUT_MS * 20)
  expect(served.gateway.engine.wal.lastLsn).toBe(lsn)
  expect(served.gateway.executor.stats.gateHolds).toBe(0)
  expect(served.venue.inspect().requests.calls.place).toBe(0)
  const stopAcking = standbyAcking(served, sync())
  closers.push(stopAcking)
  await waitFor(() => served.venue.inspect().requests.calls.place === 1, 2_000, 'placed once the standby is in sync')
  expect(sync().state).toBe('sync')
})

test('the standby gone mid-term: a send waiting for it is held once (one retry), then nothing more is recorded until it is back', async () => {
  const { served, sync } = await leaderUnderFailClosed()
  const stopAcking = standbyAcking(served, sync())
  await waitFor(() => sync().state === 'sync', 2_000, 'the standby in sync')
  stopAcking()
  const placed = await served.gateway.place(principal, { ...LIMIT_BUY, client_order_id: 'held-2' }, null)
  expect(placed.reply.kind).toBe('accepted')
  await waitFor(() => served.gateway.executor.stats.gateHolds === 1, 2_000, 'the send held once')
  expect(sync().state).toBe('down')
  await Bun.sleep(SYNC_TIMEOUT_MS * 3)
  const lsn = served.gateway.engine.wal.lastLsn
  await Bun.sleep(SYNC_TIMEOUT_MS * 20)
  expect(served.gateway.engine.wal.lastLsn).toBe(lsn)
  expect(served.gateway.executor.stats.gateHolds).toBe(1)
  expect(served.venue.inspect().requests.calls.place).toBe(0)
  closers.push(standbyAcking(served, sync()))
  await waitFor(() => served.venue.inspect().requests.calls.place === 1, 2_000, 'placed once the standby is back')
})
