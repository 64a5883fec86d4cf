// Two accounts each holding an order at the venue that egress does not hold, under the same client order id (a venue's
// client ids are unique per account only: src/venues/sim/order-store.ts), made one break keyed
// `venue_open_orders:<venue>:<client id>`: recorded for the account checked last, never shown to the other account's
// readers, and kept open by one account's order after the other's had gone. Each account's order is a break of its own.

import { describe, expect, test } from 'bun:test'
import { backOfficeOf } from '../../src/backoffice/backoffice-of.ts'
import { formatDecimal, parseDecimal, type Units } from '../../src/domain/decimal.ts'
import { drive, run, startWorld, traderA, traderB, worldsStoppedAfterEach, type World } from '../runtime/harness.ts'

const worlds = worldsStoppedAfterEach()

/** A BTC buy resting 1 % under the price, placed straight at the venue under `clientOrderId`, around egress. */
async function placeAtVenue(world: World, account: string, clientOrderId: string, price: Units): Promise<void> {
  const placed = await drive(
    world,
    world.venue.place({ clientOrderId, account, symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: parseDecimal('0.1'), price, tif: 'GTC', postOnly: false, reduceOnly: false }),
  )
  expect(placed.kind).toBe('ok')
}

describe('an order open at the venue that egress does not hold', () => {
  test('two accounts’ orders under one client id are a break each, for its account, and each clears on its own', async () => {
    const world = await startWorld({ seed: 47 })
    worlds.push(world)
    const office = backOfficeOf(world.gateway, { reconcileIntervalMs: null })
    const reference = world.venue.referencePrice('BTC-USD')?.price ?? 0n
    const price = (reference * 99n) / 100n - ((reference * 99n) / 100n) % parseDecimal('0.01')
    // Each account places an order of its own through egress, so the venue checks run for both.
    for (const [trader, account] of [[traderA, 'acct-a'], [traderB, 'acct-b']] as const) {
      const placed = await world.gateway.place(trader, { account, symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: formatDecimal(price), client_order_id: `own-${account}` }, null)
      expect(placed.reply.kind).toBe('accepted')
    }
    await placeAtVenue(world, 'acct-a', 'manual-1', price)
    await placeAtVenue(world, 'acct-b', 'manual-1', price)
    await run(world, 200)
    // A venue check's difference is a suspect first, a break at the next run that sees it again.
    await drive(world, office.reconcile())
    const second = await drive(world, office.reconcile())
    const foreign = (): { accountId: string | undefined; actual: string }[] =>
      office.openBreaks.filter((item) => item.check === 'venue_open_orders').map(({ accountId, actual }) => ({ accountId, actual })).sort((a, b) => String(a.accountId).localeCompare(String(b.accountId)))
    expect(second.opened.filter((key) => key.startsWith('venue_open_orders:')).length).toBe(2)
    expect(foreign()).toEqual([
      { accountId: 'acct-a', actual: 'open buy 0/0.1 as manual-1' },
      { accountId: 'acct-b', actual: 'open buy 0/0.1 as manual-1' },
    ])
    const aKey = office.openBreaks.find((item) => item.check === 'venue_open_orders' && item.accountId === 'acct-a')?.key
    // acct-a's order goes; acct-b's stays open at the venue: only acct-a's break clears.
    const canceled = await drive(world, world.venue.cancel({ clientOrderId: 'manual-1-c', origClientOrderId: 'manual-1', account: 'acct-a', symbol: 'BTC-USD' }))
    expect(canceled.kind).toBe('ok')
    await run(world, 200)
    const third = await drive(world, office.reconcile())
    expect(aKey).toBeDefined()
    expect(third.cleared).toEqual([aKey as string])
    expect(foreign()).toEqual([{ accountId: 'acct-b', actual: 'open buy 0/0.1 as manual-1' }])
  })
})
