/**
 * A break's key is made of what the venue names (an asset, an exec id, a client order id), and the venue's answers
 * bound none of them. A key longer than a record holds (RECORD_TEXT_CHARS_MAX, checked on read) made the run's
 * records refused before they were written ("would not read back"): from then on every run failed, so no break was
 * opened or cleared for any account while the venue kept naming it. Now a key past the bound is cut and made unique
 * by a digest of the whole (breakKey): stable from run to run, so its break opens once confirmed and clears.
 */

import { expect, test } from 'bun:test'
import { backOfficeOf } from '../../src/backoffice/backoffice-of.ts'
import { RECORD_TEXT_CHARS_MAX } from '../../src/backoffice/breaks.ts'
import { parseDecimal } from '../../src/domain/decimal.ts'
import { drive, run, startWorld, traderA, worldsStoppedAfterEach, type World } from '../runtime/harness.ts'

const worlds = worldsStoppedAfterEach()

async function tradedWorld(seed: number): Promise<World> {
  const world = await startWorld({ seed })
  worlds.push(world)
  const placed = await world.gateway.place(traderA, { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.5', price: '61000', client_order_id: 'long-key-1' }, null)
  expect(placed.reply.kind).toBe('accepted')
  await run(world, 300)
  return world
}

type Venue = Record<string, (...args: unknown[]) => Promise<unknown>>

test('a venue balance in an asset named longer than a record holds: the run records, its break opens, then clears', async () => {
  const world = await tradedWorld(11)
  const office = backOfficeOf(world.gateway, { reconcileIntervalMs: null })
  const venue = world.venue as unknown as Venue
  const balances = venue.balances?.bind(world.venue) as (account: string) => Promise<{ kind: string; value?: unknown[] }>
  const asset = 'X'.repeat(RECORD_TEXT_CHARS_MAX + 100)
  venue.balances = async (account) => {
    const answer = await balances(account as string)
    return answer.kind === 'ok' ? { kind: 'ok', value: [...(answer.value ?? []), { account, asset, total: parseDecimal('1') }] } : answer
  }
  const first = await drive(world, office.reconcile())
  expect(first.suspected.length).toBe(1)
  await run(world, 300)
  expect(office.projector.breaks.lastRun?.runId).toBe(first.runId)
  const second = await drive(world, office.reconcile())
  await run(world, 300)
  expect(second.opened.length).toBe(1)
  const [opened] = office.openBreaks
  expect(opened?.key.length).toBeLessThanOrEqual(RECORD_TEXT_CHARS_MAX)
  expect(opened?.accountId).toBe('acct-a')
  // The same key next run: the break stays open, not opened again.
  const third = await drive(world, office.reconcile())
  await run(world, 300)
  expect(third.opened).toEqual([])
  expect(office.openBreaks.map((item) => item.key)).toEqual([opened?.key as string])
  venue.balances = balances as Venue[string]
  const fourth = await drive(world, office.reconcile())
  await run(world, 300)
  expect(fourth.cleared).toEqual([opened?.key as string])
  expect(office.openBreaks).toEqual([])
  expect(world.errors).toEqual([])
}, 60_000)

test('a foreign venue trade whose exec id is longer than a record holds opens a break of its own, apart from one sharing its first characters', async () => {
  const world = await tradedWorld(13)
  const office = backOfficeOf(world.gateway, { reconcileIntervalMs: null })
  const venue = world.venue as unknown as Venue
  const nowMs = world.clock.nowMs()
  const stem = 'e'.repeat(RECORD_TEXT_CHARS_MAX + 100)
  const trades = ['-a', '-b'].map((suffix, index) => ({
    execId: `${stem}${suffix}`, clientOrderId: `manual-${index}`, venueOrderId: `v-${index}`, account: 'acct-a', symbol: 'BTC-USD', side: 'buy' as const,
    qty: parseDecimal('0.001'), price: parseDecimal('61000'), fee: parseDecimal('0.01'), feeAsset: 'USD', liquidity: 'taker' as const, venueTimeMs: nowMs - 3_600_000,
  }))
  const venueTrades = venue.trades?.bind(world.venue) as (...args: unknown[]) => Promise<{ kind: string; value?: unknown[] }>
  venue.trades = async (...args) => {
    const answer = await venueTrades(...args)
    return answer.kind === 'ok' ? { kind: 'ok', value: [...(answer.value ?? []), ...trades] } : answer
  }
  await drive(world, office.reconcile())
  await run(world, 300)
  const second = await drive(world, office.reconcile())
  await run(world, 300)
  expect(second.opened.length).toBe(2)
  const keys = office.openBreaks.map((item) => item.key)
  expect(keys.every((key) => key.startsWith(`venue_trades:sim:${'e'.repeat(100)}`))).toBe(true)
  expect(new Set(keys).size).toBe(2)
  for (const key of keys) expect(key.length).toBeLessThanOrEqual(RECORD_TEXT_CHARS_MAX)
  expect(world.errors).toEqual([])
}, 60_000)
