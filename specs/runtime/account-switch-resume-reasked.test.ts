/**
 * An account's own switch asked while that account's RESUME ends its held work in parts (decision-parts.ts
 * accountSwitchInParts). The account's RESUME lifts with its last part, so an operator's HALT of the account asked
 * between its parts (POST /v1/accounts/:id/halt: the same switch again, or a move from CANCEL_ONLY) was answered done
 * and then lifted by the RESUME asked before it: the account traded again. The RESUME now gives up when the account's
 * switch is asked after it began (not lifted, answered ACCOUNT_HALTED), as the gateway's RESUME does for the gateway's
 * switch (kill-switch-parts-reengaged.test.ts) and for the accounts' (account-switch-resume-parts.test.ts).
 */

import { expect, test } from 'bun:test'
import { switchWorkLeft } from '../../src/kernel/index.ts'
import { drive, opsUser, run, startWorld, traderA, worldsStoppedAfterEach, type World } from './harness.ts'

const worlds = worldsStoppedAfterEach()

const QUEUE_RECORDS_MAX = 64
const PLACES = 160

/** acct-a stopped with `action` by one part only (its parts cut short): most of its waiting places are left held. */
async function startWithAccountWorkLeftHeld(action: 'HALT' | 'CANCEL_ONLY'): Promise<World> {
  const world = await startWorld({ seed: 7, wal: { queueRecordsMax: QUEUE_RECORDS_MAX }, faults: { dropRequestProbability: 1 }, reconcileSweepMs: 0 })
  worlds.push(world)
  const { engine } = world.gateway
  for (let index = 0; index < PLACES; index++) {
    const body = { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.001', price: '59000', tif: 'GTC', client_order_id: `k${index}` }
    const { reply } = await world.gateway.place(traderA, body, null)
    if (reply.kind !== 'accepted') throw new Error(`not accepted: ${JSON.stringify(reply)}`)
  }
  await run(world, 20)
  const stop = engine.submit({ kind: 'kill_switch', nowMs: world.clock.nowMs(), principal: opsUser, action, note: 'runaway', accountId: 'acct-a', ordersMax: 1 })
  await drive(world, stop)
  expect(switchWorkLeft(engine.state, 'acct-a')).toBe(true)
  return world
}

for (const [held, asked] of [['HALT', 'HALT'], ['CANCEL_ONLY', 'HALT']] as const) {
  test(`an account's ${asked} asked while its RESUME ends held work in parts (switch ${held}) is not lifted by that RESUME`, async () => {
    const world = await startWithAccountWorkLeftHeld(held)
    const { engine } = world.gateway
    const resume = world.gateway.accountSwitch(opsUser, 'acct-a', 'RESUME', 'go on')
    // The RESUME's first part did not lift it: work is left held.
    expect(engine.state.accountSwitches.has('acct-a')).toBe(true)
    // Asked after the RESUME: this HALT is the operator's last word.
    const halt = world.gateway.accountSwitch(opsUser, 'acct-a', asked, 'stop again')
    expect((await drive(world, halt)).reply).toEqual({ kind: 'done' })
    const resumed = await drive(world, resume)
    await run(world, 20)
    expect(engine.state.accountSwitches.get('acct-a')?.switch).toBe('halted')
    expect(resumed.reply).toMatchObject({ kind: 'refused', reason: 'ACCOUNT_HALTED' })
    expect(world.errors).toEqual([])
  })
}

test("an account's RESUME with another account's switch asked meanwhile still lifts it after its parts", async () => {
  const world = await startWithAccountWorkLeftHeld('HALT')
  const { engine } = world.gateway
  const resume = world.gateway.accountSwitch(opsUser, 'acct-a', 'RESUME', 'go on')
  expect((await drive(world, world.gateway.accountSwitch(opsUser, 'acct-b', 'HALT', 'other'))).reply).toEqual({ kind: 'done' })
  expect((await drive(world, resume)).reply).toEqual({ kind: 'done' })
  expect(engine.state.accountSwitches.has('acct-a')).toBe(false)
  expect(engine.state.accountSwitches.get('acct-b')?.switch).toBe('halted')
  expect(switchWorkLeft(engine.state, 'acct-a')).toBe(false)
  expect(world.errors).toEqual([])
})
