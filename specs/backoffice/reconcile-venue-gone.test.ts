/**
 * A break stays open until a run of its check finds it matching (breaks.ts). A venue check ran per venue configured,
 * and its breaks cleared when their keys were not seen: a venue no longer configured (taken out of the config, the
 * gateway restarted without it) had every venue_balances and venue_open_orders break cleared by the next run of
 * another venue's checks, which never asked it — break_cleared in the log for a difference nobody looked at again.
 * Now a venue check's break clears only in a run that checked its venue.
 */

import { expect, test } from 'bun:test'
import { join } from 'node:path'
import { BackOffice, backOfficeOf } from '../../src/backoffice/backoffice.ts'
import { parseDecimal } from '../../src/domain/decimal.ts'
import type { VenueAdapter } from '../../src/venues/adapter.ts'
import { drive, run, startWorld, traderA, worldsStoppedAfterEach } from '../runtime/harness.ts'

const worlds = worldsStoppedAfterEach()

test("a venue no longer checked keeps its breaks open: another venue's run does not clear them", async () => {
  const world = await startWorld({ seed: 21 })
  worlds.push(world)
  const placed = await world.gateway.place(traderA, { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.5', price: '61000', client_order_id: 'gone-1' }, null)
  expect(placed.reply.kind).toBe('accepted')
  await run(world, 300)
  const office = backOfficeOf(world.gateway, { reconcileIntervalMs: null })
  const venue = world.venue as unknown as { balances: (account: string) => Promise<{ kind: string; value?: unknown[] }> }
  const balances = venue.balances.bind(world.venue)
  venue.balances = async (account) => {
    const answer = await balances(account)
    return answer.kind === 'ok' ? { kind: 'ok', value: [...(answer.value ?? []), { account, asset: 'ETH', total: parseDecimal('3') }] } : answer
  }
  await drive(world, office.reconcile())
  await run(world, 300)
  await drive(world, office.reconcile())
  await run(world, 300)
  const opened = office.openBreaks.map((item) => item.key)
  expect(opened).toEqual(['venue_balances:sim:acct-a:ETH'])

  // The same log read by a back office whose only venue is another one: the sim venue is not asked.
  const other = Object.create(world.venue, { venue: { value: 'other' } }) as VenueAdapter
  const elsewhere = new BackOffice({
    engine: world.gateway.engine, clock: world.clock, storePath: join(world.dir, 'elsewhere.sqlite'), reconcileIntervalMs: null,
    venues: [{ adapter: other, prices: { referencePrice: () => null }, balanceBasis: 'trading' }],
  })
  try {
    expect(elsewhere.openBreaks.map((item) => item.key)).toEqual(opened)
    const result = await drive(world, elsewhere.reconcile())
    await run(world, 300)
    expect(result.checks).toContain('venue_balances')
    expect(result.cleared).toEqual([])
    expect(elsewhere.openBreaks.map((item) => item.key)).toEqual(opened)
    expect(office.openBreaks.map((item) => item.key)).toEqual(opened)
  } finally {
    elsewhere.close()
  }
  // The venue asked again, and matching: the break clears.
  venue.balances = balances
  const matching = await drive(world, office.reconcile())
  await run(world, 300)
  expect(matching.cleared).toEqual(opened)
  expect(world.errors).toEqual([])
}, 60_000)
