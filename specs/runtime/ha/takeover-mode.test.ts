/**
 * A takeover never escalates the mode beyond what the log says an operator last chose (src/runtime/start-mode.ts).
 * The standby replicates the leader's log, an admin's switch to shadow included; on takeover, Gateway.start (what
 * HaNode runs with the lease at epoch + 1) bootstraps on that log with the config's mode. The config's paper used to
 * be recorded over the operator's shadow before the executor started, so the new leader sent what the old one held.
 */

import { expect, test } from 'bun:test'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Lease } from '../../../wal/index.ts'
import type { Principal } from '../../../src/domain/accounts.ts'
import { Gateway } from '../../../src/runtime/index.ts'
import { crashWorld, drive, removeDir, run, startStandbyOf, startWorld, traderA } from '../harness.ts'
import { replicator, serveReplication, waitFor } from './support.ts'
import { leaderOptionsOf } from './takeover-node.ts'

const admin: Principal = { id: 'ada', roles: ['admin'], accounts: [], liveAllowed: false }
const BUY = { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '59000' } as const

test("after a takeover the new leader keeps the operator's shadow though its config asks for paper: nothing is sent", async () => {
  const world = await startWorld({ seed: 41, mode: 'paper' })
  const server = serveReplication(() => world.gateway.engine.wal)
  const { standby, dataDir, errors } = await startStandbyOf(world)
  const leaseDir = mkdtempSync(join(tmpdir(), 'egress-lease-'))
  let leader: Gateway | null = null
  try {
    const pulling = replicator(standby.engine.wal, () => server.url)
    pulling.start()
    await drive(world, world.gateway.setMode(admin, 'shadow', 'stop sending'))
    // Accepted in shadow and still queued when the leader dies: the new leader must not send it in paper.
    world.gateway.executor.stop()
    expect((await drive(world, world.gateway.place(traderA, { ...BUY, client_order_id: 'held' }, null))).reply.kind).toBe('accepted')
    await waitFor(() => standby.engine.wal.lastLsn === world.gateway.engine.wal.lastLsn, 5_000, 'standby catch-up')
    expect(standby.engine.state.mode).toBe('shadow')
    await pulling.stop()
    await crashWorld(world)
    await standby.stop()

    // The world led at epoch 1 (its log's frames are of it) and is gone: the takeover is at epoch 2.
    Lease.acquire({ dir: leaseDir, holderId: 'world http://127.0.0.1:1', ttlMs: 60_000, clockSkewMsMax: 10 }).release()
    const lease = Lease.acquire({ dir: leaseDir, holderId: 'standby http://127.0.0.1:2', ttlMs: 60_000, clockSkewMsMax: 10 })
    // standbyOptionsOf carries the world's options, its `mode: 'paper'` included: the takeover's config.
    const options = leaderOptionsOf(world, dataDir, errors, lease)
    expect(options.mode).toBe('paper')
    leader = await drive(world, Gateway.start(options))
    await run({ ...world, gateway: leader }, 1_000)
    expect(leader.engine.state.mode).toBe('shadow')
    expect(leader.bootstrapReport?.mode).toEqual({ asked: 'paper', logged: 'shadow', effective: 'shadow', rule: 'escalation_held' })
    expect(leader.executor.stats.sends).toBe(0)
    expect(world.venue.inspect().orders).toEqual([])
    expect(errors).toEqual([])
  } finally {
    await leader?.stop()
    server.stop()
    removeDir(leaseDir)
    removeDir(dataDir)
    removeDir(world.dir)
  }
})
