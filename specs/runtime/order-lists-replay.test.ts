/**
 * OCO lists (order_list.accepted 263, order_list.triggered 264) are part of the kernel state: an open list survives a
 * restart and a snapshot with the log compacted past its records (and still fires after it), a standby following the
 * log holds the same lists, and the standby's re-decision (redecide) and replay-verify agree with the leader's records.
 */

import { afterAll, expect, test } from 'bun:test'
import { join } from 'node:path'
import { redecideLog } from '../../src/runtime/ha/index.ts'
import { replayVerify } from '../../src/runtime/snapshot/index.ts'
import { removeDir, run, startStandbyOf, startWorld, traderA, type World } from './harness.ts'
import { replicator, serveReplication, waitFor } from './ha/support.ts'

const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) removeDir(dir)
})

const leg = (price: string, extra: Record<string, unknown> = {}) => ({ account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price, ...extra })

async function placeList(world: World, key: string, legs: Record<string, unknown>[]): Promise<{ listId: string; a: string; b: string }> {
  const result = await world.gateway.placeList(traderA, { type: 'oco', account: 'acct-a', client_list_id: key, orders: legs }, null)
  if (result.reply.kind !== 'list_accepted') throw new Error(`expected the list accepted, got ${JSON.stringify(result.reply)}`)
  const [a, b] = result.reply.orderIds as [string, string]
  return { listId: result.reply.listId, a, b }
}

test('an open list survives a restart and a snapshot with its records compacted away, and fires after it', async () => {
  const snapshots = { atShutdown: false, keep: 1, compaction: 'delete' as const }
  const wal = { segmentBytesMax: 4096 }
  const world = await startWorld({ seed: 81, snapshots, wal })
  dirs.push(world.dir)
  const { listId, a, b } = await placeList(world, 'kept', [leg('59000'), leg('58500')])
  await run(world, 500)
  const listedLsn = world.gateway.engine.wal.lastLsn
  const held = (state = world.gateway.engine.state) => state.orderLists.lists.get(listId)
  expect(held()?.endedAtMs).toBeNull()

  await world.gateway.stop()
  const restarted = await startWorld({ seed: 81, dir: world.dir, clock: world.clock, venue: world.venue, snapshots, wal })
  expect(held(restarted.gateway.engine.state)).toEqual(held())
  for (let index = 0; index < 30; index++) {
    await restarted.gateway.place(traderA, { ...leg('59000'), client_order_id: `roll-${index}` }, null)
  }
  await run(restarted, 500)
  await restarted.gateway.snapshot()
  expect(restarted.gateway.engine.wal.firstLsn).toBeGreaterThan(listedLsn)
  await restarted.gateway.stop()

  const fromSnapshot = await startWorld({ seed: 81, dir: world.dir, clock: world.clock, venue: world.venue, snapshots, wal })
  const state = fromSnapshot.gateway.engine.state
  expect(state.orderLists.lists.get(listId)?.endedAtMs).toBeNull()
  expect(state.orderLists.byLeg.get(a)).toBe(listId)
  // The list still fires from the snapshot: a cancel of leg A cancels leg B.
  await fromSnapshot.gateway.cancel(traderA, a)
  await run(fromSnapshot, 1_000)
  expect(state.orders.get(b)?.status).toBe('Canceled')
  expect(state.orderLists.lists.get(listId)?.triggered).toMatchObject({ legOrderId: a, cause: 'canceled' })
  await fromSnapshot.gateway.stop()
  expect([...world.errors, ...restarted.errors, ...fromSnapshot.errors]).toEqual([])
}, 60_000)

test('a standby following the log holds the same lists; redecide and replay-verify agree with the sibling cancels', async () => {
  const world = await startWorld({ seed: 82, commandRecords: true })
  dirs.push(world.dir)
  const server = serveReplication(() => world.gateway.engine.wal)
  const { standby, dataDir, errors } = await startStandbyOf(world)
  dirs.push(dataDir)
  const pulling = replicator(standby.engine.wal, () => server.url)
  pulling.start()
  // One list fired by a fill (leg A crosses the sim's book), one by a user's cancel, one left open.
  const filled = await placeList(world, 'filled', [leg('61000', { tif: 'IOC' }), leg('58500')])
  const canceled = await placeList(world, 'canceled', [leg('59000'), leg('58500')])
  const open = await placeList(world, 'open', [leg('59100'), leg('58600')])
  await run(world, 1_000)
  await world.gateway.cancel(traderA, canceled.a)
  await run(world, 1_000)
  const lists = world.gateway.engine.state.orderLists.lists
  expect(lists.get(filled.listId)?.triggered?.cause).toBe('fill')
  expect(world.gateway.engine.state.orders.get(filled.b)?.status).toBe('Canceled')
  expect(lists.get(canceled.listId)?.triggered?.cause).toBe('canceled')
  expect(lists.get(open.listId)?.triggered).toBeNull()
  await waitFor(() => standby.engine.wal.lastLsn === world.gateway.engine.wal.lastLsn, 5_000, 'standby catch-up')
  await waitFor(() => standby.engine.state.lastLsn === world.gateway.engine.state.lastLsn, 5_000, 'standby applied')
  expect(standby.engine.state.orderLists).toEqual(world.gateway.engine.state.orderLists)
  await pulling.stop()
  server.stop()
  await standby.stop()
  await world.gateway.stop()
  expect([...errors, ...world.errors]).toEqual([])

  const redecided = redecideLog(join(world.dir, 'log'))
  expect(redecided.mismatches).toBe(0)
  const report = replayVerify(world.dir, { from: 'auto' })
  expect(report.problems).toEqual([])
  expect(report.ok).toBe(true)
}, 30_000)
