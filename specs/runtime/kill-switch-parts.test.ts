/**
 * A kill switch with more waiting work than the log's queue takes records: its one decision (each waiting place ended,
 * each waiting amend failed, then switch.changed) never fit, and HALT — or an auto-stop's trip — was refused OVERLOADED
 * exactly when it was needed, the switch left normal. The gateway now decides it in parts sized to the queue
 * (decision-parts.ts, kernel kill-switch.ts): the switch engages with the first part, so nothing waiting goes out from
 * then on (the gate holds it), and the rest is ended by the parts that follow. A RESUME asked between the parts ends
 * what is left and lifts the switch, and no part after it touches the work decided since. A standby re-deciding the
 * command records decides the same.
 */

import { expect, test } from 'bun:test'
import { join } from 'node:path'
import { redecideLog } from '../../src/runtime/ha/index.ts'
import { domainEventOf } from '../../src/runtime/records.ts'
import { switchWorkLeft } from '../../src/kernel/index.ts'
import { drive, opsUser, run, startWorld, traderA, worldsStoppedAfterEach, type World } from './harness.ts'

const worlds = worldsStoppedAfterEach()

const QUEUE_RECORDS_MAX = 64
const PLACES = 160

/** `PLACES` buys in a burst at a venue that answers none: as many in flight as may be, the rest waiting in Lane2. */
async function burstWaiting(world: World): Promise<string[]> {
  const orderIds: string[] = []
  for (let index = 0; index < PLACES; index++) {
    const body = { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.001', price: '59000', tif: 'GTC', client_order_id: `k${index}` }
    const { reply } = await world.gateway.place(traderA, body, null)
    if (reply.kind !== 'accepted') throw new Error(`not accepted: ${JSON.stringify(reply)}`)
    orderIds.push(reply.orderId)
  }
  await run(world, 20)
  // More waiting than one decision's records fit in the queue.
  expect(world.gateway.engine.state.queues[2].size).toBeGreaterThan(QUEUE_RECORDS_MAX)
  return orderIds
}

function logTypes(world: World, fromLsn: number): { lsn: number; type: string }[] {
  const found: { lsn: number; type: string }[] = []
  for (const frame of world.gateway.engine.wal.read(fromLsn)) {
    const event = domainEventOf(frame)
    if (event !== null) found.push({ lsn: frame.lsn, type: event.type })
  }
  return found
}

test('HALT with more waiting places than the log queue takes records engages at once and ends them in parts', async () => {
  const world = await startWorld({ seed: 7, wal: { queueRecordsMax: QUEUE_RECORDS_MAX }, faults: { dropRequestProbability: 1 }, reconcileSweepMs: 0, commandRecords: true })
  worlds.push(world)
  const { engine } = world.gateway
  const orderIds = await burstWaiting(world)
  const waiting = [...engine.state.queues[2].keys()]
  const firstLsn = engine.appendedLsn + 1

  const halted = await drive(world, world.gateway.killSwitch(opsUser, 'HALT', 'stop'))
  expect(halted.reply).toEqual({ kind: 'done' })
  expect(engine.state.tradingSwitch).toBe('halted')
  // Every place that waited is ended, none left in a lane.
  expect(switchWorkLeft(engine.state)).toBe(false)
  for (const orderId of waiting) expect(engine.state.orders.get(orderId)).toMatchObject({ status: 'Canceled', lastReason: 'KILL_SWITCH_HALT' })

  // The switch is recorded once, in the first decision (ahead of most of the ends), and nothing is sent after it.
  const records = logTypes(world, firstLsn)
  const switched = records.filter((record) => record.type === 'switch.changed')
  expect(switched).toHaveLength(1)
  const switchLsn = (switched[0] as { lsn: number }).lsn
  const canceled = records.filter((record) => record.type === 'order.canceled')
  expect(canceled).toHaveLength(waiting.length)
  expect(canceled.filter((record) => record.lsn > switchLsn).length).toBeGreaterThan(0)
  expect(halted.lsn).toBe((canceled.at(-1) as { lsn: number }).lsn)
  await run(world, 500)
  expect(logTypes(world, switchLsn).filter((record) => record.type === 'order.send_requested')).toEqual([])
  for (const orderId of orderIds) expect(engine.state.queues[2].has(orderId)).toBe(false)

  // Asked again, the switch decides nothing.
  const lastLsn = engine.appendedLsn
  expect(await drive(world, world.gateway.killSwitch(opsUser, 'HALT', 'again'))).toEqual({ reply: { kind: 'done' }, lsn: null })
  expect(engine.appendedLsn).toBe(lastLsn)

  // A standby deciding the command records again decides every part the same.
  await engine.settled()
  const report = redecideLog(join(world.dir, 'log'))
  expect([report.mismatches, report.lastMismatches, report.eventsWithoutCommand]).toEqual([0, [], 0])
  expect(world.errors).toEqual([])
})

test('a RESUME asked between the parts ends what is left before it lifts the switch; work decided after it stands', async () => {
  const world = await startWorld({ seed: 7, wal: { queueRecordsMax: QUEUE_RECORDS_MAX }, faults: { dropRequestProbability: 1 }, reconcileSweepMs: 0, commandRecords: true })
  worlds.push(world)
  const { engine } = world.gateway
  await burstWaiting(world)
  const waiting = [...engine.state.queues[2].keys()]

  const halt = world.gateway.killSwitch(opsUser, 'HALT', 'stop')
  // The first part is decided in the caller's tick: the switch holds at once, work is left for the parts.
  expect(engine.state.tradingSwitch).toBe('halted')
  expect(switchWorkLeft(engine.state)).toBe(true)
  const resume = world.gateway.killSwitch(opsUser, 'RESUME', 'go on')
  expect((await drive(world, resume)).reply).toEqual({ kind: 'done' })
  expect(engine.state.tradingSwitch).toBe('normal')
  for (const orderId of waiting) expect(engine.state.orders.get(orderId)?.status).toBe('Canceled')

  // Placed after the RESUME: no part of the HALT still under way ends it.
  const { reply } = await world.gateway.place(traderA, { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.001', price: '59000', tif: 'GTC', client_order_id: 'after' }, null)
  if (reply.kind !== 'accepted') throw new Error(`not accepted: ${JSON.stringify(reply)}`)
  expect((await drive(world, halt)).reply).toEqual({ kind: 'done' })
  await run(world, 20)
  expect(engine.state.orders.get(reply.orderId)?.status).not.toBe('Canceled')
  expect(engine.state.tradingSwitch).toBe('normal')

  await engine.settled()
  const report = redecideLog(join(world.dir, 'log'))
  expect([report.mismatches, report.lastMismatches, report.eventsWithoutCommand]).toEqual([0, [], 0])
  expect(world.errors).toEqual([])
})
