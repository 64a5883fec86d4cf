/**
 * paper → live after a venue outage left more never-acknowledged places Unknown than the log's queue takes records:
 * the escalation's one decision (a cancel asked for each, then mode.changed) never fit, and the change was refused
 * OVERLOADED however often it was asked. The gateway now decides it in parts sized to the queue (setMode, kernel
 * mode-escalation.ts), each recorded; the change goes through and every such place has its cancel wanted.
 */

import { expect, test } from 'bun:test'
import { domainEventOf } from '../../src/runtime/records.ts'
import { drive, run, startWorld, traderA, worldsStoppedAfterEach } from './harness.ts'

const worlds = worldsStoppedAfterEach()

const ADMIN = { id: 'admin-1', roles: ['admin' as const], accounts: [], liveAllowed: true }
const QUEUE_RECORDS_MAX = 64
const ORDERS = 80

test('an escalation with more Unknown places than the log queue takes records is decided in parts and goes through', async () => {
  // Every call is dropped: each place times out Unknown, and each read-back too, so they stay Unknown.
  const world = await startWorld({ seed: 7, wal: { queueRecordsMax: QUEUE_RECORDS_MAX }, faults: { dropRequestProbability: 1 }, reconcileSweepMs: 0 })
  worlds.push(world)
  const { engine } = world.gateway
  const orderIds: string[] = []
  for (let index = 0; index < ORDERS; index++) {
    const body = { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.001', price: '59000', tif: 'GTC', client_order_id: `k${index}` }
    const { reply } = await world.gateway.place(traderA, body, null)
    if (reply.kind !== 'accepted') throw new Error(`not accepted: ${JSON.stringify(reply)}`)
    orderIds.push(reply.orderId)
    await run(world, 20)
  }
  await run(world, 30_000)
  for (const orderId of orderIds) expect(engine.state.orders.get(orderId)).toMatchObject({ status: 'Unknown', venueOrderId: null, cancelWanted: false })
  const firstLsn = engine.appendedLsn + 1

  const changed = await drive(world, world.gateway.setMode(ADMIN, 'live', 'outage over'))
  expect(changed.reply.kind).toBe('done')
  expect(engine.state.mode).toBe('live')
  for (const orderId of orderIds) expect(engine.state.orders.get(orderId)).toMatchObject({ cancelWanted: true, lastReason: 'MODE_ESCALATED' })
  // Recorded: one cancel asked per order, and the change once, after them all.
  const types: string[] = []
  for (const frame of engine.wal.read(firstLsn)) {
    const event = domainEventOf(frame)
    if (event?.type === 'order.cancel_requested' || event?.type === 'mode.changed') types.push(event.type)
  }
  expect(types.filter((type) => type === 'order.cancel_requested')).toHaveLength(ORDERS)
  expect(types.at(-1)).toBe('mode.changed')
  expect(types.filter((type) => type === 'mode.changed')).toHaveLength(1)
  expect(world.errors).toEqual([])
})
