/**
 * A send decision that throws (a kernel assertion in decide, a market or gate-facts source that fails) holds only its
 * own order, backing off (src/runtime/send-throws.ts). Released at once, the same item was the next pick again, threw
 * again, up to the pump's guard of 10,000 — every pump: 20,000 errors in 200 simulated ms, and no item behind it (later
 * in its lane, or in a later lane) was ever sent. Held a fixed SEND_REFUSED_RETRY_MS after that, one order whose
 * decision throws for good was decided again ten times a second, each an error line: 864,000 a day.
 */

import { expect, test } from 'bun:test'
import { SEND_THROW_RETRY_MS_MAX, SEND_THROW_SUMMARY_MS } from '../../src/runtime/send-throws.ts'
import { run, startWorld, traderA, worldsStoppedAfterEach, type World } from './harness.ts'

const worlds = worldsStoppedAfterEach()

/** Makes the executor's reference price source throw for `symbol` while `failing()`; counts the throws. */
function failMarket(world: World, symbol: string, failing: () => boolean = () => true): { throws: number } {
  const counted = { throws: 0 }
  const options = (world.gateway.executor as unknown as { options: { market: (venue: string, symbol: string) => unknown } }).options
  const market = options.market
  options.market = (venue, asked) => {
    if (asked === symbol && failing()) {
      counted.throws++
      throw new Error('price source failed')
    }
    return market(venue, asked)
  }
  return counted
}

async function place(world: World, symbol: string, price: string, qty: string, clientOrderId: string): Promise<string> {
  const placed = await world.gateway.place(traderA, { account: 'acct-a', symbol, side: 'buy', type: 'limit', qty, price, client_order_id: clientOrderId }, null)
  if (placed.reply.kind !== 'accepted') throw new Error(`expected accepted, got ${JSON.stringify(placed.reply)}`)
  return placed.reply.orderId
}

test('a send decision that throws holds only its own order: the orders behind it are sent, it is tried again after a pause', async () => {
  const world = await startWorld({ seed: 4041 })
  worlds.push(world)
  let failing = true
  const counted = failMarket(world, 'ETH-USD', () => failing)
  const eth = await place(world, 'ETH-USD', '2950', '0.1', 'throws')
  const btc = await place(world, 'BTC-USD', '59000', '0.01', 'behind')
  await run(world, 1_000)
  const { state } = world.gateway.engine
  expect(state.orders.get(btc)?.status).toBe('AckedOpen')
  expect(state.orders.get(eth)?.status).toBe('Enqueued')
  // Tried at 0, 0.1, 0.3 and 0.7 s; reported once.
  expect(counted.throws).toBe(4)
  expect(world.errors).toEqual([`send decision for ${eth}: Error: price source failed`])

  // The source back, the order goes out at its next try.
  failing = false
  await run(world, 2 * 800 + 100)
  expect(state.orders.get(eth)?.status).toBe('AckedOpen')
  world.errors.length = 0
})

test('a send decision that throws for good: tried again at most every SEND_THROW_RETRY_MS_MAX, reported once and then as a count, never dropped', async () => {
  const world = await startWorld({ seed: 4042 })
  worlds.push(world)
  const counted = failMarket(world, 'ETH-USD')
  const eth = await place(world, 'ETH-USD', '2950', '0.1', 'throws-for-good')
  const runMs = SEND_THROW_SUMMARY_MS + 30_000
  await run(world, runMs, 50)
  // 0.1, 0.2 … 6.4 s, then every 10 s: was one try (and one error line) every 100 ms, 6,300 here.
  expect(counted.throws).toBeGreaterThan(runMs / SEND_THROW_RETRY_MS_MAX)
  expect(counted.throws).toBeLessThanOrEqual(runMs / SEND_THROW_RETRY_MS_MAX + 8)
  expect(world.errors).toHaveLength(2)
  expect(world.errors[0]).toBe(`send decision for ${eth}: Error: price source failed`)
  expect(world.errors[1]).toMatch(new RegExp(`^send decision for ${eth}: threw again, \\d+ times in the last 60\\d s \\(tried again every 10000 ms at most\\): Error: price source failed$`))
  // Still in its lane, never sent.
  expect(world.gateway.engine.state.orders.get(eth)?.status).toBe('Enqueued')
  expect(world.gateway.executor.stats.sends).toBe(0)
  expect(world.venue.inspect().orders).toEqual([])
  world.errors.length = 0
})

test("a cancel of an order whose amend's send decision keeps throwing goes at once: the back-off holds only while the order is unchanged", async () => {
  const world = await startWorld({ seed: 4043 })
  worlds.push(world)
  const eth = await place(world, 'ETH-USD', '2900', '0.1', 'rests')
  await run(world, 200)
  const { state } = world.gateway.engine
  expect(state.orders.get(eth)?.status).toBe('AckedOpen')
  // The amend's send decision reads the price source, which now fails; a cancel's reads none.
  const counted = failMarket(world, 'ETH-USD')
  const amended = await world.gateway.amend(traderA, eth, { qty: 2_000_000n, price: null })
  expect(amended.reply.kind).toBe('amend_accepted')
  await run(world, 60_000, 50)
  expect(counted.throws).toBeGreaterThan(5)
  // The amend waits up to SEND_THROW_RETRY_MS_MAX now; the cancel does not wait for it.
  await world.gateway.cancel(traderA, eth)
  await run(world, 100)
  expect(state.orders.get(eth)?.status).toBe('Canceled')
  world.errors.length = 0
})
