/**
 * The gateway's RESUME with more accounts stopped on their own than one part may lift (kernel account-switch.ts
 * liftAccountSwitches, runtime decision-parts.ts). Its last part wrote every account's `account.switch_changed` at once,
 * past the part's records (half the log's queue): with more stopped accounts than the queue takes records, that part was
 * refused as overloaded however often the RESUME was asked, and neither the accounts nor the trading switch were ever
 * lifted. The accounts are now lifted at most ordersMax per part, the trading switch with the last.
 */

import { expect, test } from 'bun:test'
import type { KernelConfig } from '../../src/domain/kernel-config.ts'
import { decisionOrdersMax } from '../../src/runtime/decision-parts.ts'
import { drive, opsUser, startWorld, worldsStoppedAfterEach, type World } from './harness.ts'

const worlds = worldsStoppedAfterEach()

const QUEUE_RECORDS_MAX = 64
const STOPPED = 80
const accountIds = Array.from({ length: STOPPED }, (_, index) => `acct-s${String(index).padStart(2, '0')}`)

function withManyAccounts(config: KernelConfig): KernelConfig {
  const first = config.policies[0]
  if (first === undefined) throw new Error('the paper config has no policy')
  return { ...config, policies: [...config.policies, ...accountIds.map((accountId) => ({ ...first, accountId }))] }
}

async function startWithManyStopped(): Promise<World> {
  const world = await startWorld({ seed: 7, wal: { queueRecordsMax: QUEUE_RECORDS_MAX }, configure: withManyAccounts, reconcileSweepMs: 0 })
  worlds.push(world)
  const { engine } = world.gateway
  for (const accountId of accountIds) {
    const stop = engine.submit({ kind: 'kill_switch', nowMs: world.clock.nowMs(), principal: opsUser, action: 'HALT', note: 'runaway', accountId, ordersMax: 1 })
    await drive(world, stop)
  }
  expect(engine.state.accountSwitches.size).toBe(STOPPED)
  return world
}

for (const tradingSwitch of ['HALT', null] as const) {
  test(`${STOPPED} accounts stopped, a queue of ${QUEUE_RECORDS_MAX} records, the trading switch ${tradingSwitch ?? 'normal'}: RESUME lifts them all, no part past half the queue`, async () => {
    const world = await startWithManyStopped()
    const { engine } = world.gateway
    if (tradingSwitch !== null) expect((await drive(world, world.gateway.killSwitch(opsUser, tradingSwitch, 'everything'))).reply).toEqual({ kind: 'done' })
    const parts: number[] = []
    const submit = engine.submit.bind(engine)
    engine.submit = async (command) => {
      const committed = await submit(command)
      parts.push(committed.decision.events.length)
      return committed
    }
    const resumed = await drive(world, world.gateway.killSwitch(opsUser, 'RESUME', 'all clear'))
    expect(resumed.reply).toEqual({ kind: 'done' })
    expect(engine.state.accountSwitches.size).toBe(0)
    expect(engine.state.tradingSwitch).toBe('normal')
    expect(Math.max(...parts)).toBeLessThanOrEqual(decisionOrdersMax(QUEUE_RECORDS_MAX) + 1)
    expect(world.errors).toEqual([])
  })
}
