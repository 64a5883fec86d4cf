/**
 * A standby that cannot apply a frame its replica log made durable (here a record type its build does not know, as
 * a newer leader would write) stops following. It used to log the error and go on copying the log with its
 * projections stopped at that batch — every later batch failing too (the engine's next LSN no longer matched) — while
 * it served reads from that state as current.
 */

import { afterEach, expect, test } from 'bun:test'
import { Lease } from '../../../wal/index.ts'
import { Gateway, ReplicaApplyError } from '../../../src/runtime/index.ts'
import { startStandbyOf, startWorld, standbyOptionsOf, traderA, worldsStoppedAfterEach, removeDir, type World } from '../harness.ts'
import { serveReplication, replicator, waitFor } from './support.ts'
import { takeoverNode } from './takeover-node.ts'

const worlds = worldsStoppedAfterEach()
const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** A domain record type code no build has (below the skipped 0xA000 range, so replay and projections read it). */
const UNKNOWN_CODE = 0x1ff

/** Places two orders on the world's leader, then appends a record of a type this build does not know. */
async function leaderWithUnknownRecord(world: World): Promise<number> {
  for (const index of [1, 2]) {
    await world.gateway.place(traderA, { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.1', price: '61000', client_order_id: `apply-${index}` }, null)
  }
  await world.gateway.engine.settled()
  const [lsn] = await world.gateway.engine.wal.append([{ type: UNKNOWN_CODE, version: 1, payload: new Uint8Array([1, 2, 3]) }])
  return lsn as number
}

test('the standby gateway reports the batch it could not apply once (REPLICA_APPLY_FAILED), and applies nothing after it', async () => {
  const world = await startWorld({ seed: 61 })
  worlds.push(world)
  const unknownLsn = await leaderWithUnknownRecord(world)
  const server = serveReplication(() => world.gateway.engine.wal)
  cleanups.push(() => server.stop())
  const { standby, dataDir, errors } = await startStandbyOf(world)
  cleanups.push(async () => {
    await standby.stop()
    removeDir(dataDir)
  })
  const pulling = replicator(standby.engine.wal, () => server.url)
  cleanups.push(() => pulling.stop())
  pulling.start()
  const failed = await Promise.race([standby.replicaApplyFailed, Bun.sleep(5_000).then(() => null)])
  expect(failed).toBeInstanceOf(ReplicaApplyError)
  expect(failed?.code).toBe('REPLICA_APPLY_FAILED')
  expect(failed !== null && failed.firstLsn <= unknownLsn && unknownLsn <= failed.lastLsn).toBe(true)
  expect(failed?.message).toContain(`unknown record type code ${UNKNOWN_CODE}`)
  // More records arrive and are copied; none is applied, and no second error is reported.
  await world.gateway.place(traderA, { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.1', price: '61000', client_order_id: 'apply-3' }, null).catch(() => {})
  const appliedAt = standby.engine.state.lastLsn
  await world.gateway.engine.wal.append([{ type: UNKNOWN_CODE, version: 1, payload: new Uint8Array([4]) }])
  await waitFor(() => standby.engine.wal.lastLsn === world.gateway.engine.wal.lastLsn, 5_000, 'the standby copied the rest')
  await Bun.sleep(50)
  expect(standby.engine.state.lastLsn).toBe(appliedAt)
  expect(errors.length).toBe(1)
}, 30_000)

test('an HA standby node whose replicated frames cannot be applied fails (role failed, `died` resolves), rather than copy on with stopped projections', async () => {
  const world = await startWorld({ seed: 62 })
  worlds.push(world)
  await leaderWithUnknownRecord(world)
  const server = serveReplication(() => world.gateway.engine.wal)
  cleanups.push(() => server.stop())
  const { node, leaseDir } = takeoverNode(cleanups, (dataDir, errors) => async (role) => {
    if (role !== 'standby') throw new Error(`expected to follow, asked for a ${role} gateway`)
    return Gateway.start(standbyOptionsOf(world, dataDir, errors))
  }, { oldLeader: false })
  // The world's leader, named by a lease the node sees held (nobody renews it: the spec ends well before it expires).
  Lease.acquire({ dir: leaseDir, holderId: `old ${server.url}`, ttlMs: 60_000, clockSkewMsMax: 10 })
  await node.start()
  expect(node.role).toBe('standby')
  const died = await Promise.race([node.died, Bun.sleep(5_000).then(() => null)])
  expect({ died: died?.constructor.name ?? null, role: node.role }).toEqual({ died: 'ReplicaApplyError', role: 'failed' })
}, 30_000)
