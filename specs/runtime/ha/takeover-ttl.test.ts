/**
 * Orders' time-to-live across a takeover (src/runtime/ttl-expiries.ts, src/kernel/ttl.ts): the standby holds no timer
 * (it never decides), the new leader's rebuilds from the state it replicated and, right after its bootstrap, asks at
 * once for the expiries that passed during the failover: the resting order is canceled through Lane0 (TTL_EXPIRED),
 * the queued one ends unsent, neither is placed a second time, and the new leader's log re-decides identically.
 */

import { expect, test } from 'bun:test'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Lease, openReadOnly } from '../../../wal/index.ts'
import type { DomainEvent } from '../../../src/domain/events/index.ts'
import { Gateway } from '../../../src/runtime/index.ts'
import { redecideLog } from '../../../src/runtime/ha/index.ts'
import { domainEventOf } from '../../../src/runtime/records.ts'
import { crashWorld, drive, removeDir, run, startStandbyOf, startWorld, traderA } from '../harness.ts'
import { replicator, serveReplication, waitFor } from './support.ts'
import { leaderOptionsOf } from './takeover-node.ts'

const TTL_MS = 2_000
// 59000 rests below the sim's reference price.
const BUY = { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.001', price: '59000', tif: 'GTC', ttl_ms: TTL_MS } as const

function logEvents(dir: string): DomainEvent[] {
  const events: DomainEvent[] = []
  for (const frame of openReadOnly(join(dir, 'log')).read(1)) {
    const event = domainEventOf(frame)
    if (event !== null) events.push(event)
  }
  return events
}

test('the new leader ends what expired during the failover: the resting order canceled (TTL_EXPIRED), the queued one unsent, nothing placed twice', async () => {
  const world = await startWorld({ seed: 91, commandRecords: true })
  const server = serveReplication(() => world.gateway.engine.wal)
  const { standby, dataDir, errors } = await startStandbyOf(world)
  const leaseDir = mkdtempSync(join(tmpdir(), 'egress-lease-'))
  let leader: Gateway | null = null
  try {
    const pulling = replicator(standby.engine.wal, () => server.url)
    pulling.start()
    const placed = async (id: string): Promise<string> => {
      const result = await drive(world, world.gateway.place(traderA, { ...BUY, client_order_id: id }, null))
      if (result.reply.kind !== 'accepted') throw new Error(`not accepted: ${JSON.stringify(result.reply)}`)
      return result.reply.orderId
    }
    const resting = await placed('rest')
    await run(world, 300)
    expect(world.gateway.engine.state.orders.get(resting)?.status).toBe('AckedOpen')
    // Still queued when the leader dies: the executor no longer picks anything.
    world.gateway.executor.stop()
    const queued = await placed('queued')
    await waitFor(() => standby.engine.wal.lastLsn === world.gateway.engine.wal.lastLsn, 5_000, 'standby catch-up')
    await pulling.stop()
    await crashWorld(world)
    // The standby follows past the expiry and decides nothing: its timer never runs.
    await world.clock.advanceAsync(TTL_MS + 500)
    expect(standby.engine.state.orders.get(resting)?.status).toBe('AckedOpen')
    expect(standby.engine.state.orders.get(queued)?.status).toBe('Enqueued')
    await standby.stop()

    // The world led at epoch 1 (its log's frames are of it) and is gone: the takeover is at epoch 2.
    Lease.acquire({ dir: leaseDir, holderId: 'world http://127.0.0.1:1', ttlMs: 60_000, clockSkewMsMax: 10 }).release()
    const lease = Lease.acquire({ dir: leaseDir, holderId: 'standby http://127.0.0.1:2', ttlMs: 60_000, clockSkewMsMax: 10 })
    leader = await drive(world, Gateway.start({ ...leaderOptionsOf(world, dataDir, errors, lease), commandRecords: true }))
    await run({ ...world, gateway: leader }, 1_500)
    const state = leader.engine.state
    expect(state.orders.get(resting)?.status).toBe('Canceled')
    expect(state.orders.get(queued)).toMatchObject({ status: 'Canceled', lastReason: 'TTL_EXPIRED', sendAttempts: 0 })
    expect(state.accounts.get('acct-a')?.reserved.get('USD') ?? 0n).toBe(0n)
    await leader.engine.settled()
    const events = logEvents(dataDir)
    expect(events.find((event) => event.type === 'order.cancel_requested' && event.orderId === resting)).toMatchObject({ reason: 'TTL_EXPIRED', principalId: 'egress:ttl' })
    expect(events.filter((event) => event.type === 'order.send_requested').map((event) => (event as { orderId: string }).orderId)).toEqual([resting])
    expect(world.venue.inspect().orders.map((order) => order.clientOrderId)).toEqual([`eg-${resting}`])
    const report = redecideLog(join(dataDir, 'log'))
    expect([report.mismatches, report.lastMismatches]).toEqual([0, []])
    expect(errors).toEqual([])
  } finally {
    await leader?.stop()
    server.stop()
    removeDir(leaseDir)
    removeDir(dataDir)
    removeDir(world.dir)
  }
})
