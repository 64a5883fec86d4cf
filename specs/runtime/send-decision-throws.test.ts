/**
 * A send decision that throws (a kernel assertion in decide, a market or gate-facts source that fails) is held as a
 * refused send is: picked again after SEND_REFUSED_RETRY_MS. Released at once, the same item was the next pick again,
 * threw again, up to the pump's guard of 10,000 — every pump: 20,000 errors in 200 simulated ms, and no item behind it
 * (later in its lane, or in a later lane) was ever sent. One order whose decision throws stopped the executor.
 */

import { expect, test } from 'bun:test'
import { SEND_REFUSED_RETRY_MS } from '../../src/runtime/executor.ts'
import { run, startWorld, traderA, worldsStoppedAfterEach } from './harness.ts'

const worlds = worldsStoppedAfterEach()
const RUN_MS = 1_000

test('a send decision that throws holds only its own order: the orders behind it are sent, it is tried again after a pause', async () => {
  const world = await startWorld({ seed: 4041 })
  worlds.push(world)
  // The reference price source fails for ETH-USD: its place's send decision throws.
  const options = (world.gateway.executor as unknown as { options: { market: (venue: string, symbol: string) => unknown } }).options
  const market = options.market
  options.market = (venue, symbol) => {
    if (symbol === 'ETH-USD') throw new Error('price source failed')
    return market(venue, symbol)
  }
  const place = async (symbol: string, price: string, qty: string, clientOrderId: string): Promise<string> => {
    const placed = await world.gateway.place(traderA, { account: 'acct-a', symbol, side: 'buy', type: 'limit', qty, price, client_order_id: clientOrderId }, null)
    if (placed.reply.kind !== 'accepted') throw new Error(`expected accepted, got ${JSON.stringify(placed.reply)}`)
    return placed.reply.orderId
  }
  const eth = await place('ETH-USD', '2950', '0.1', 'throws')
  const btc = await place('BTC-USD', '59000', '0.01', 'behind')
  await run(world, RUN_MS)
  const { state } = world.gateway.engine
  expect(state.orders.get(btc)?.status).toBe('AckedOpen')
  expect(state.orders.get(eth)?.status).toBe('Enqueued')
  // About one try per SEND_REFUSED_RETRY_MS, each reported.
  expect(world.errors.length).toBeGreaterThan(1)
  expect(world.errors.length).toBeLessThanOrEqual(RUN_MS / SEND_REFUSED_RETRY_MS + 2)
  expect(world.errors.every((error) => error.includes(`send decision for ${eth}`))).toBe(true)

  // The source back, the order goes out at its next try.
  options.market = market
  await run(world, 2 * SEND_REFUSED_RETRY_MS + 100)
  expect(state.orders.get(eth)?.status).toBe('AckedOpen')
  world.errors.length = 0
})
