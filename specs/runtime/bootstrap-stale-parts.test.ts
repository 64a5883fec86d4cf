/**
 * Places still waiting from before a stop, more than one decision's records fit in the log's queue: a start ends them
 * all (STALE_AT_START, src/kernel/stale-at-start.ts) in parts sized to the queue, as a mode escalation or a flatten
 * ends its work (gateway-commands.ts decisionOrdersMax). One decision ending them all was refused OVERLOADED by the
 * log's queue, and the start failed — every start after it too, the stale places only growing older.
 */

import { expect, test } from 'bun:test'
import { join } from 'node:path'
import { stateDigest } from '../../src/kernel/index.ts'
import { redecideLog } from '../../src/runtime/ha/index.ts'
import { rebuildState } from '../../src/runtime/snapshot/index.ts'
import { openReadOnly } from '../../wal/index.ts'
import { crashWorld, run, startWorld, traderA, worldsStoppedAfterEach } from './harness.ts'

const worlds = worldsStoppedAfterEach()
const SEED = 62
const QUEUE_RECORDS_MAX = 24
const ORDERS = 40

test('more stale places than the log queue takes records: the start ends them all in parts, none is sent', async () => {
  const world = await startWorld({ seed: SEED, commandRecords: true, wal: { queueRecordsMax: QUEUE_RECORDS_MAX } })
  world.gateway.executor.stop()
  const ids: string[] = []
  for (let index = 0; index < ORDERS; index++) {
    const body = { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.001', price: '59000', tif: 'GTC', client_order_id: `s${index}` }
    const { reply } = await world.gateway.place(traderA, body, null)
    if (reply.kind !== 'accepted') throw new Error(`not accepted: ${JSON.stringify(reply)}`)
    ids.push(reply.orderId)
  }
  await crashWorld(world)
  // Past the harness's resend window (60 s).
  await world.clock.advanceAsync(120_000)
  const restarted = await startWorld({ seed: SEED, dir: world.dir, clock: world.clock, venue: world.venue, commandRecords: true, wal: { queueRecordsMax: QUEUE_RECORDS_MAX } })
  worlds.push(restarted)
  await run(restarted, 1_000)
  const state = restarted.gateway.engine.state
  for (const orderId of ids) expect(state.orders.get(orderId)).toMatchObject({ status: 'Canceled', lastReason: 'STALE_AT_START', sendAttempts: 0 })
  expect(restarted.gateway.bootstrapReport?.staleEnded).toBe(ORDERS)
  expect(world.venue.inspect().requests.calls.place).toBe(0)
  expect(restarted.errors).toEqual([])

  // Each part is in the command records with its bound: replay and a standby deciding them again reach the same state.
  await restarted.gateway.engine.settled()
  const logDir = join(restarted.dir, 'log')
  expect(stateDigest(rebuildState(openReadOnly(logDir)).state)).toBe(stateDigest(state))
  const report = redecideLog(logDir)
  expect([report.mismatches, report.lastMismatches, report.eventsWithoutCommand]).toEqual([0, [], 0])
})
