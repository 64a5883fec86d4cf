/**
 * The auto-stop breakers beside self-trade prevention (src/runtime/auto-stop.ts, src/kernel/intake/self-trade.ts), two
 * features of one session that no single-feature spec holds together: an order refused SELF_TRADE_PREVENTED is no new
 * order accepted, so the order-rate breaker does not count it; and a flatten under the HALT a breaker engaged sends
 * its closes though the account's resting buys would cross them (the closes bypass intake), with no second trip.
 */

import { expect, test } from 'bun:test'
import { accountSwitchRecords, autoStopWorld, expectNoErrors, placeResting } from './auto-stop-support.ts'
import { opsUser, run, traderA, worldsStoppedAfterEach } from './harness.ts'

const worlds = worldsStoppedAfterEach()

/** A sell of acct-a at or below its resting buys (59000): it would trade with them. */
const crossingSell = (key: string) => ({ account: 'acct-a', symbol: 'BTC-USD', side: 'sell', type: 'limit', qty: '0.001', price: '58000', tif: 'GTC', client_order_id: key })

test('orders refused SELF_TRADE_PREVENTED are not counted by the order-rate breaker; the next accepted one is', async () => {
  const { world } = await autoStopWorld({ evaluateEveryMs: 1_000, orderRate: { windowMs: 10_000, ordersMax: 3, scope: 'account', action: 'HALT' } })
  worlds.push(world)
  for (let index = 0; index < 3; index++) await placeResting(world, traderA)
  for (let index = 0; index < 5; index++) {
    const { reply } = await world.gateway.place(traderA, crossingSell(`st-${index}`), null)
    expect(reply).toMatchObject({ kind: 'rejected', reason: 'SELF_TRADE_PREVENTED' })
  }
  await run(world, 300)
  expect(world.gateway.engine.state.accountSwitches.size).toBe(0)
  await placeResting(world, traderA)
  expect(world.gateway.engine.state.accountSwitches.get('acct-a')?.switch).toBe('halted')
  expect((await accountSwitchRecords(world)).map((record) => record.note)).toEqual(['auto-stop order_rate: 4 new orders accepted for account acct-a in the last 10000 ms, above 3'])
  expectNoErrors(world)
})

test("a flatten under a breaker's HALT of the account closes the position although the account's open buys cross the closes, and trips nothing again", async () => {
  const { world } = await autoStopWorld({ evaluateEveryMs: 1_000, orderRate: { windowMs: 10_000, ordersMax: 2, scope: 'account', action: 'HALT' } })
  worlds.push(world)
  for (let index = 0; index < 3; index++) await placeResting(world, traderA)
  expect(world.gateway.engine.state.accountSwitches.get('acct-a')?.switch).toBe('halted')
  const flattened = await world.gateway.flatten(opsUser, 'acct-a', 'f-under-halt')
  expect(flattened.reply.kind).toBe('done')
  await run(world, 2_000)
  const orders = [...world.gateway.engine.state.orders.values()]
  const closes = orders.filter((order) => order.flattenId === 'f-under-halt')
  expect(closes.length).toBeGreaterThan(0)
  expect(closes.every((order) => order.side === 'sell' && order.status !== 'Rejected')).toBe(true)
  expect(closes.some((order) => order.cumQty > 0n)).toBe(true)
  expect(world.gateway.engine.state.accountSwitches.get('acct-a')?.switch).toBe('halted')
  expect((await accountSwitchRecords(world)).map((record) => record.principalId)).toEqual(['egress-auto-stop'])
  expectNoErrors(world)
})
