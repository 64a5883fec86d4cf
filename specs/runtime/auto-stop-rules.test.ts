/**
 * The auto-stop's rules (src/runtime/auto-stop.ts): it never loosens a switch engaged already (an operator's HALT stays
 * HALT whatever a CANCEL_ONLY breaker sees, and the other way round), it re-arms after an operator's RESUME with its
 * windows started again (the figures from before the RESUME do not trip it, new ones do), and a standby never runs it.
 */

import { expect, test } from 'bun:test'
import { Gateway } from '../../src/runtime/index.ts'
import { autoStopWorld, expectNoErrors, placeResting, switchRecords } from './auto-stop-support.ts'
import { opsUser, removeDir, run, standbyOptionsOf, tempDataDir, traderA, worldsStoppedAfterEach } from './harness.ts'

const worlds = worldsStoppedAfterEach()

test('a breaker never loosens a switch engaged already: HALT stays under a CANCEL_ONLY breaker, CANCEL_ONLY under a HALT one', async () => {
  for (const [operator, breaker, engaged] of [
    ['HALT', 'CANCEL_ONLY', 'halted'],
    ['CANCEL_ONLY', 'HALT', 'cancel_only'],
  ] as const) {
    const { world, venue } = await autoStopWorld({ evaluateEveryMs: 250, unknownOrders: { ordersMax: 0, dwellMs: 1_000, action: breaker } })
    worlds.push(world)
    venue.statusUnanswered = true
    venue.placeAnswers.push({ kind: 'unknown', reason: 'timeout' })
    await placeResting(world, traderA)
    await world.gateway.killSwitch(opsUser, operator, 'the operator first')
    await run(world, 3_000)
    expect(world.gateway.engine.state.tradingSwitch).toBe(engaged)
    expect(await switchRecords(world)).toEqual([{ action: operator, principalId: opsUser.id, note: 'the operator first' }])
    expect(world.gateway.autoStop?.status()).toMatchObject({ running: true, armed: false, breakers: [{ breaker: 'unknown_orders', orders: 1, trips: 0 }] })
    expectNoErrors(world)
  }
})

test('after an operator\'s RESUME the breaker re-arms with its window started again, and trips again on new figures', async () => {
  // Scope all: the trip engages the trading switch (scope account stops the account alone: auto-stop-account.test.ts).
  const { world } = await autoStopWorld({ evaluateEveryMs: 1_000, orderRate: { windowMs: 60_000, ordersMax: 2, scope: 'all', action: 'HALT' } })
  worlds.push(world)
  const { gateway } = world
  for (let index = 0; index < 3; index++) await placeResting(world, traderA)
  expect(gateway.engine.state.tradingSwitch).toBe('halted')
  expect(gateway.autoStop?.armed).toBe(false)
  await gateway.killSwitch(opsUser, 'RESUME', 'looked at it')
  await run(world, 100)
  expect(gateway.autoStop?.armed).toBe(true)
  // Three orders were accepted within the window, but before the RESUME: two more are within ordersMax.
  await placeResting(world, traderA)
  await placeResting(world, traderA)
  expect(gateway.engine.state.tradingSwitch).toBe('normal')
  await placeResting(world, traderA)
  expect(gateway.engine.state.tradingSwitch).toBe('halted')
  expect((await switchRecords(world)).map((record) => `${record.principalId} ${record.action}`)).toEqual(['egress-auto-stop HALT', 'olga RESUME', 'egress-auto-stop HALT'])
  expect(gateway.autoStop?.trips('order_rate')).toBe(2)
  expect(gateway.autoStop?.status()).toMatchObject({ last_trip: { breaker: 'order_rate', note: 'auto-stop order_rate: 3 new orders accepted over all accounts in the last 60000 ms, above 2', account: null } })
  expectNoErrors(world)
})

test('a standby never runs the breakers, whatever its state shows', async () => {
  // A leader leaves an order Unknown in its log and stops; a standby then opens that log, its breaker at 0 orders.
  const { world, venue } = await autoStopWorld({ evaluateEveryMs: 250, unknownOrders: { ordersMax: 5, dwellMs: 1_000, action: 'HALT' } })
  venue.statusUnanswered = true
  venue.placeAnswers.push({ kind: 'unknown', reason: 'timeout' })
  await placeResting(world, traderA)
  await world.gateway.stop()
  const errors: string[] = []
  const dataDir = tempDataDir()
  const standby = await Gateway.start({ ...standbyOptionsOf(world, dataDir, errors), dataDir: world.dir, autoStop: { evaluateEveryMs: 250, unknownOrders: { ordersMax: 0, dwellMs: 0, action: 'HALT' } } })
  try {
    expect([...standby.engine.state.orders.values()].filter((order) => order.status === 'Unknown').length).toBe(1)
    await world.clock.advanceAsync(5_000)
    expect(standby.engine.state.tradingSwitch).toBe('normal')
    expect(standby.autoStop?.status()).toMatchObject({ running: false, armed: false })
    expect(errors).toEqual([])
  } finally {
    await standby.stop()
    removeDir(dataDir)
    removeDir(world.dir)
  }
})
