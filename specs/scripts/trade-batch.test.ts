/**
 * scripts/support/trade-batch.ts places a batch's buys and sells of one account and symbol together, so they cross:
 * under the default policy (self-trade prevention on) part of the batch is refused SELF_TRADE_PREVENTED and a bench
 * built on it would measure refusals. The benches' worlds allow self-trades (allowSelfTrade): every order of a batch
 * is accepted and fills; on a world that does not, the batch throws instead of measuring the wrong thing.
 */

import { expect, test } from 'bun:test'
import { allowSelfTrade } from '../../scripts/support/self-trade-allowed.ts'
import { tradeBatch } from '../../scripts/support/trade-batch.ts'
import { startWorld, worldsStoppedAfterEach } from '../runtime/harness.ts'

const worlds = worldsStoppedAfterEach()

test('on a world allowing self-trades every order of a batch is accepted, none refused SELF_TRADE_PREVENTED', async () => {
  const world = await startWorld({ seed: 5, configure: allowSelfTrade })
  worlds.push(world)
  for (const policy of world.gateway.engine.state.policies.values()) expect(policy.selfTrade).toBe('allow')
  expect(await tradeBatch(world, 0, 24, { clientOrderIdPrefix: 't-' })).toBe(24)
  const orders = [...world.gateway.engine.state.orders.values()]
  expect(orders.every((order) => order.status === 'Filled')).toBe(true)
  // acct-a's buys and sells of each symbol, in flight together, all accepted and filled (acct-b holds no ETH or AAPL
  // before its buys fill, so its sells of them are refused INSUFFICIENT_POSITION, as they always were).
  const ofA = orders.filter((order) => order.accountId === 'acct-a')
  expect(ofA.length).toBe(12)
  for (const symbol of ['BTC-USD', 'ETH-USD', 'AAPL']) expect(new Set(ofA.filter((order) => order.symbol === symbol).map((order) => order.side))).toEqual(new Set(['buy', 'sell']))
})

test('on a world with the default policy the batch meets refusals and throws, naming them', async () => {
  const world = await startWorld({ seed: 5 })
  worlds.push(world)
  await expect(tradeBatch(world, 0, 24, { clientOrderIdPrefix: 't-' })).rejects.toThrow(/orders were refused SELF_TRADE_PREVENTED/)
})
