/**
 * A venue trade egress never placed, for the venue checks' specs: acct-a has one order of its own at the venue (an
 * ETH buy resting 1 % under the price), and a BTC buy placed straight at the venue under a client id egress never
 * issued fills. Its account's traded BTC then differs from the ledger's, and no report is on its way to explain it.
 */

import { expect } from 'bun:test'
import { formatDecimal, parseDecimal } from '../../src/domain/decimal.ts'
import { drive, run, traderA, type World } from '../runtime/harness.ts'

export async function foreignTrade(world: World): Promise<void> {
  const reference = world.venue.referencePrice('ETH-USD')?.price ?? 0n
  const price = (reference * 99n) / 100n - ((reference * 99n) / 100n) % parseDecimal('0.01')
  const placed = await world.gateway.place(traderA, { account: 'acct-a', symbol: 'ETH-USD', side: 'buy', type: 'limit', qty: '0.1', price: formatDecimal(price), client_order_id: 'known-1' }, null)
  expect(placed.reply.kind).toBe('accepted')
  const foreign = await drive(
    world,
    world.venue.place({ clientOrderId: 'foreign-1', account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: parseDecimal('0.1'), price: parseDecimal('61000'), tif: 'GTC', postOnly: false, reduceOnly: false }),
  )
  expect(foreign.kind).toBe('ok')
  await run(world, 200)
}
