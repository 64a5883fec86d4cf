/**
 * A flatten of an account with more open orders than the log's queue takes records: its one decision (a cancel asked
 * for each, the flatten's record, the closes) never fit, and the flatten — a kill switch — was refused OVERLOADED
 * however often it was asked. The gateway now decides it in parts sized to the queue (GatewayCommands.flatten, kernel
 * flatten.ts), each recorded; the last records the flatten and its closes, and its lsn is the answer. A repeat asked
 * while the parts are decided waits for them and answers that answer, deciding nothing.
 */

import { expect, test } from 'bun:test'
import { domainEventOf } from '../../src/runtime/records.ts'
import { drive, opsUser, run, startWorld, traderA, worldsStoppedAfterEach, type World } from './harness.ts'

const worlds = worldsStoppedAfterEach()

const QUEUE_RECORDS_MAX = 64
const ORDERS = 80
const FIRST_TRACE = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'
const REPEAT_TRACE = '00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-01'

/** `ORDERS` buys resting at the venue, below the market. */
async function openOrders(world: World): Promise<string[]> {
  const orderIds: string[] = []
  for (let index = 0; index < ORDERS; index++) {
    const body = { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.001', price: '59000', tif: 'GTC', client_order_id: `k${index}` }
    const { reply } = await world.gateway.place(traderA, body, null)
    if (reply.kind !== 'accepted') throw new Error(`not accepted: ${JSON.stringify(reply)}`)
    orderIds.push(reply.orderId)
    await run(world, 20)
  }
  await run(world, 2_000)
  for (const orderId of orderIds) expect(world.gateway.engine.state.orders.get(orderId)?.status).toBe('AckedOpen')
  return orderIds
}

test('a flatten of more open orders than the log queue takes records is decided in parts and goes through', async () => {
  const world = await startWorld({ seed: 7, wal: { queueRecordsMax: QUEUE_RECORDS_MAX } })
  worlds.push(world)
  const { engine } = world.gateway
  const orderIds = await openOrders(world)
  const firstLsn = engine.appendedLsn + 1

  const first = world.gateway.flatten(opsUser, 'acct-a', 'f-1', { traceparent: FIRST_TRACE })
  // The same flatten asked again while its parts are decided (a client's retry).
  const repeat = world.gateway.flatten(opsUser, 'acct-a', 'f-1', { traceparent: REPEAT_TRACE })
  const flattened = await drive(world, first)
  expect(flattened.reply).toEqual({ kind: 'done' })
  expect(await drive(world, repeat)).toEqual({ reply: { kind: 'flatten_repeat', lsn: flattened.lsn as number, notClosed: [] }, lsn: null })
  await run(world, 2_000)
  for (const orderId of orderIds) expect(engine.state.orders.get(orderId)?.status).toBe('Canceled')

  // Recorded: one cancel asked per order, then the flatten once, with its closes; all under the first request's trace.
  const types: string[] = []
  let requestedLsn = 0
  for (const frame of engine.wal.read(firstLsn)) {
    const event = domainEventOf(frame)
    if (event === null || frame.lsn > (flattened.lsn as number)) continue
    types.push(event.type)
    if ('traceparent' in event) expect(event.traceparent).toBe(FIRST_TRACE)
    if (event.type === 'account.flatten_requested') requestedLsn = frame.lsn
  }
  expect(types.filter((type) => type === 'order.cancel_requested')).toHaveLength(ORDERS)
  expect(types.filter((type) => type === 'account.flatten_requested')).toHaveLength(1)
  expect(types.at(-1)).toBe('order.accepted')
  // The answer is the last record of the last part, as the kernel holds it.
  expect(engine.state.flattens.get('acct-a')?.get('f-1')?.lsn).toBe(flattened.lsn as number)
  expect(requestedLsn).toBeGreaterThan(firstLsn)
  // A repeat after the parts decides nothing either.
  const lastLsn = engine.appendedLsn
  expect(await drive(world, world.gateway.flatten(opsUser, 'acct-a', 'f-1'))).toMatchObject({ reply: { kind: 'flatten_repeat', lsn: flattened.lsn }, lsn: null })
  expect(engine.appendedLsn).toBe(lastLsn)
  expect(world.errors).toEqual([])
})
