/**
 * The balances check read a venue's answer as asset → total, the last row of an asset winning and the row's account
 * not read: an answer listing an asset twice (another wallet, a venue's bug) or naming another account was compared
 * as if whole, and a difference could pass unseen — the ledger's figure listed last matched, the other row ignored.
 * Now such an answer is refused: the check is skipped for the run (its breaks stay as they are), with why.
 */

import { expect, test } from 'bun:test'
import { backOfficeOf } from '../../src/backoffice/backoffice-of.ts'
import { parseDecimal } from '../../src/domain/decimal.ts'
import { drive, run, startWorld, traderA, worldsStoppedAfterEach, type World } from '../runtime/harness.ts'

const worlds = worldsStoppedAfterEach()

type Balances = (account: string) => Promise<{ kind: string; value?: { account: string; asset: string; total: bigint }[] }>

async function tradedWorld(seed: number): Promise<{ world: World; venue: { balances: Balances }; balances: Balances }> {
  const world = await startWorld({ seed })
  worlds.push(world)
  const placed = await world.gateway.place(traderA, { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.5', price: '61000', client_order_id: 'answer-1' }, null)
  expect(placed.reply.kind).toBe('accepted')
  await run(world, 300)
  const venue = world.venue as unknown as { balances: Balances }
  return { world, venue, balances: venue.balances.bind(world.venue) }
}

for (const [name, extra] of [
  ['an asset listed twice', (account: string) => ({ account, asset: 'BTC', total: parseDecimal('7') })],
  ["another account's row", () => ({ account: 'acct-b', asset: 'ETH', total: parseDecimal('7') })],
] as const) {
  test(`a balances answer with ${name} is refused: the check is skipped, not passed`, async () => {
    const { world, venue, balances } = await tradedWorld(31)
    const office = backOfficeOf(world.gateway, { reconcileIntervalMs: null })
    const clean = await drive(world, office.reconcile())
    await run(world, 300)
    expect(clean.checks).toContain('venue_balances')
    expect(clean.observations.filter((item) => item.check === 'venue_balances')).toEqual([])
    venue.balances = async (account) => {
      const answer = await balances(account)
      return answer.kind === 'ok' ? { kind: 'ok', value: [extra(account), ...(answer.value ?? [])] } : answer
    }
    const result = await drive(world, office.reconcile())
    await run(world, 300)
    expect(result.checks).not.toContain('venue_balances')
    expect(result.skipped.find((item) => item.check === 'venue_balances')?.detail).toStartWith('sim/acct-a: balances: ')
    expect(world.errors).toEqual([])
  }, 60_000)
}
