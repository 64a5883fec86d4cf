/**
 * A standby started on a config that lost a venue with orders open there said nothing until a failover, when its
 * takeover was refused (VENUE_GONE_ORDERS_OPEN). Caught up with the leader, it now checks its log the way a leader
 * start on its config would (src/runtime/ha/takeover-would-refuse.ts, venue-gone.ts's check) and says so once — a log
 * line and /health `ha.takeover_would_refuse` — until those orders end.
 */

import { afterEach, expect, test } from 'bun:test'
import { Lease } from '../../../wal/index.ts'
import { drive, run, startWorld, traderA, worldsStoppedAfterEach, type World } from '../harness.ts'
import { serveReplication, waitFor } from './support.ts'
import { takeoverNode, worldGateways } from './takeover-node.ts'

const worlds = worldsStoppedAfterEach()
const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const BUY = { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '59000' } as const

/** A standby node following `world`'s leader (named by a long lease in its lease directory), told `leaderVenues`. */
async function standbyOf(world: World, leaderVenues: ReadonlySet<string>): Promise<ReturnType<typeof takeoverNode>> {
  const server = serveReplication(() => world.gateway.engine.wal)
  cleanups.push(() => server.stop())
  const standby = takeoverNode(cleanups, worldGateways(world), { oldLeader: false, leaderVenues: () => leaderVenues })
  Lease.acquire({ dir: standby.leaseDir, holderId: `leader ${server.url}`, ttlMs: 60_000, clockSkewMsMax: 10 })
  await standby.node.start()
  return standby
}

async function openOrderOn(world: World, clientOrderId: string): Promise<string> {
  const result = await drive(world, world.gateway.place(traderA, { ...BUY, client_order_id: clientOrderId }, null))
  expect(result.reply.kind).toBe('accepted')
  const order = [...world.gateway.engine.state.orders.values()].find((each) => each.clientOrderId === clientOrderId)
  if (order === undefined) throw new Error('no order')
  return order.orderId
}

test('a caught-up standby whose config lacks a venue with orders open warns once, in its log and /health, until they end', async () => {
  const world = await startWorld({ seed: 161 })
  worlds.push(world)
  const venue = world.venue.venue
  const orderId = await openOrderOn(world, 'gone-1')
  const { node, logLines } = await standbyOf(world, new Set(['another-venue']))
  await waitFor(() => node.status().takeover_would_refuse !== null, 5_000, 'the standby warned')
  expect(node.role).toBe('standby')
  expect(node.status().takeover_would_refuse).toMatchObject({ code: 'VENUE_GONE_ORDERS_OPEN', venues: [{ venue, count: 1, order_ids: [orderId] }] })
  // Said once, however many ticks find it again.
  const warned = (): number => logLines.filter((line) => line.includes('would be refused (VENUE_GONE_ORDERS_OPEN)')).length
  const lsn = node.gateway?.engine.wal.lastLsn ?? 0
  await drive(world, world.gateway.place(traderA, { ...BUY, price: '58000', client_order_id: 'other-1' }, null))
  await waitFor(() => (node.gateway?.engine.wal.lastLsn ?? 0) > lsn && node.status().takeover_would_refuse?.venues[0]?.count === 2, 5_000, 'the second order seen')
  const afterSecond = warned()
  expect(afterSecond).toBeGreaterThanOrEqual(1)
  expect(afterSecond).toBeLessThanOrEqual(2) // the first, and the change (a second order)
  await Bun.sleep(300)
  expect(warned()).toBe(afterSecond)

  // The orders end on the leader: the warning clears.
  for (const order of [...world.gateway.engine.state.orders.values()]) await drive(world, world.gateway.cancel(traderA, order.orderId))
  await run(world, 2_000)
  expect([...world.gateway.engine.state.orders.values()].map((order) => order.status)).toEqual(['Canceled', 'Canceled'])
  await waitFor(() => node.status().takeover_would_refuse === null, 10_000, 'the warning cleared')
  expect(logLines.some((line) => line.includes('would no longer be refused'))).toBe(true)
}, 30_000)

test('a standby whose config serves the venue says nothing', async () => {
  const world = await startWorld({ seed: 162 })
  worlds.push(world)
  await openOrderOn(world, 'kept-1')
  const { node, logLines } = await standbyOf(world, new Set([world.venue.venue]))
  await waitFor(() => node.status().replicating && node.status().lag_records === 0 && node.gateway?.engine.wal.lastLsn === world.gateway.engine.wal.lastLsn, 5_000, 'caught up')
  await Bun.sleep(300)
  expect(node.status().takeover_would_refuse).toBeNull()
  expect(logLines.some((line) => line.includes('would be refused'))).toBe(false)
}, 30_000)
