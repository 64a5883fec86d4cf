/**
 * A switch asked while a RESUME ends held work in parts (decision-parts.ts liftInParts). The RESUME lifts with its last
 * part, so a HALT asked between its parts — another operator's, an auto-stop's, the tamper response's — finds the switch
 * still halted: its decision ends a part of the held work and answers done, engaging nothing. Before, the RESUME's last
 * part then lifted the switch the later HALT had been answered for: the halt asked last was lost, trading resumed.
 * The RESUME now gives up when a switch is asked after it began (not lifted, answered KILL_SWITCH_HALT), as it does
 * when another switch is engaged between its parts.
 */

import { expect, test } from 'bun:test'
import { switchWorkLeft } from '../../src/kernel/index.ts'
import { drive, opsUser, run, startWorld, traderA, worldsStoppedAfterEach, type World } from './harness.ts'

const worlds = worldsStoppedAfterEach()

const QUEUE_RECORDS_MAX = 64
const PLACES = 160

async function burstWaiting(world: World): Promise<void> {
  for (let index = 0; index < PLACES; index++) {
    const body = { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.001', price: '59000', tif: 'GTC', client_order_id: `k${index}` }
    const { reply } = await world.gateway.place(traderA, body, null)
    if (reply.kind !== 'accepted') throw new Error(`not accepted: ${JSON.stringify(reply)}`)
  }
  await run(world, 20)
  expect(world.gateway.engine.state.queues[2].size).toBeGreaterThan(QUEUE_RECORDS_MAX)
}

test('a HALT asked while a RESUME ends held work in parts is not lifted by the RESUME', async () => {
  const world = await startWorld({ seed: 7, wal: { queueRecordsMax: QUEUE_RECORDS_MAX }, faults: { dropRequestProbability: 1 }, reconcileSweepMs: 0 })
  worlds.push(world)
  const { engine } = world.gateway
  await burstWaiting(world)

  const halt = world.gateway.killSwitch(opsUser, 'HALT', 'stop')
  const resume = world.gateway.killSwitch(opsUser, 'RESUME', 'go on')
  // The RESUME's first part did not lift it: work is left held.
  expect(engine.state.tradingSwitch).toBe('halted')
  expect(switchWorkLeft(engine.state)).toBe(true)
  // Asked after the RESUME: this HALT is the operator's last word.
  const haltAgain = world.gateway.killSwitch(opsUser, 'HALT', 'stop again')

  expect((await drive(world, haltAgain)).reply).toEqual({ kind: 'done' })
  expect((await drive(world, halt)).reply).toEqual({ kind: 'done' })
  const resumed = await drive(world, resume)
  expect(resumed.reply).toMatchObject({ kind: 'refused', reason: 'KILL_SWITCH_HALT' })
  await run(world, 20)
  expect(engine.state.tradingSwitch).toBe('halted')
  expect(switchWorkLeft(engine.state)).toBe(false)
  expect(world.errors).toEqual([])
})

test('a RESUME with no switch asked meanwhile still lifts after its parts', async () => {
  const world = await startWorld({ seed: 7, wal: { queueRecordsMax: QUEUE_RECORDS_MAX }, faults: { dropRequestProbability: 1 }, reconcileSweepMs: 0 })
  worlds.push(world)
  const { engine } = world.gateway
  await burstWaiting(world)

  const halt = world.gateway.killSwitch(opsUser, 'HALT', 'stop')
  const resume = world.gateway.killSwitch(opsUser, 'RESUME', 'go on')
  expect((await drive(world, resume)).reply).toEqual({ kind: 'done' })
  expect((await drive(world, halt)).reply).toEqual({ kind: 'done' })
  expect(engine.state.tradingSwitch).toBe('normal')
  expect(world.errors).toEqual([])
})
