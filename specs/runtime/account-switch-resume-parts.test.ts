/**
 * An account's own switch engaged while a gateway RESUME ends held work in parts (decision-parts.ts liftInParts). The
 * gateway's RESUME lifts every account's own switch with its last part (kernel account-switch.ts liftAccountSwitches),
 * so an account the auto-stop stopped between its parts (order_rate, scope account: decideSwitchInParts with the
 * account) was lifted by a RESUME asked before that stop: the runaway traded on. The RESUME now gives up when an
 * account's switch is asked after it began (not lifted, answered ACCOUNT_HALTED), as it does for the gateway's switch
 * (kill-switch-parts-reengaged.test.ts).
 */

import { expect, test } from 'bun:test'
import { switchWorkLeft } from '../../src/kernel/index.ts'
import { decideSwitchInParts } from '../../src/runtime/decision-parts.ts'
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

async function startWithAccountWorkLeftHeld(): Promise<World> {
  const world = await startWorld({ seed: 7, wal: { queueRecordsMax: QUEUE_RECORDS_MAX }, faults: { dropRequestProbability: 1 }, reconcileSweepMs: 0 })
  worlds.push(world)
  const { engine } = world.gateway
  await burstWaiting(world)
  // acct-a's own switch engaged by one part only (its parts cut short): most of its waiting places are left held.
  const stop = engine.submit({ kind: 'kill_switch', nowMs: world.clock.nowMs(), principal: opsUser, action: 'HALT', note: 'runaway', accountId: 'acct-a', ordersMax: 1 })
  await drive(world, stop)
  expect(engine.state.accountSwitches.get('acct-a')?.switch).toBe('halted')
  expect(switchWorkLeft(engine.state, 'acct-a')).toBe(true)
  return world
}

test("an account stopped while a gateway RESUME ends held work in parts is not lifted by that RESUME", async () => {
  const world = await startWithAccountWorkLeftHeld()
  const { engine } = world.gateway
  const resume = world.gateway.killSwitch(opsUser, 'RESUME', 'go on')
  // Between the RESUME's parts, the auto-stop stops acct-b (as AutoStop.tripAccount asks it).
  const stopB = decideSwitchInParts(engine, world.clock, { principal: opsUser, action: 'HALT', note: 'auto-stop order_rate: acct-b', accountId: 'acct-b' })
  expect((await drive(world, stopB)).reply).toEqual({ kind: 'done' })
  const resumed = await drive(world, resume)
  await run(world, 20)
  // Asked after the RESUME began, acct-b's stop stands (and acct-a's, the RESUME not finished).
  expect(engine.state.accountSwitches.get('acct-b')?.switch).toBe('halted')
  expect(engine.state.accountSwitches.get('acct-a')?.switch).toBe('halted')
  expect(resumed.reply).toMatchObject({ kind: 'refused', reason: 'ACCOUNT_HALTED' })
  expect(world.errors).toEqual([])
})

test('a gateway RESUME with no switch asked meanwhile still lifts the accounts after its parts', async () => {
  const world = await startWithAccountWorkLeftHeld()
  const { engine } = world.gateway
  const resumed = await drive(world, world.gateway.killSwitch(opsUser, 'RESUME', 'go on'))
  expect(resumed.reply).toEqual({ kind: 'done' })
  expect(engine.state.accountSwitches.size).toBe(0)
  expect(switchWorkLeft(engine.state)).toBe(false)
  expect(world.errors).toEqual([])
})
