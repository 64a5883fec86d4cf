/**
 * The back office's venue checks give each adapter call a deadline on its clock (src/runtime/call-deadline.ts, as the
 * executor's calls have): twice the adapter's request timeout. A call still out at it skips its check for the run, with
 * why, as for a venue that did not answer. Before, a trades or balances call that never settled held the run for good:
 * every later run joined it (reconcile() returns the run under way; the interval timer is set again only when a run
 * ends), so reconcile stopped until a restart, and a stop waited for it.
 */

import { expect, test } from 'bun:test'
import type { BackOffice, ReconcileResult } from '../../src/backoffice/backoffice.ts'
import { backOfficeOf } from '../../src/backoffice/backoffice-of.ts'
import { callDeadlineMs, VENUE_CALL_DEADLINE } from '../../src/runtime/call-deadline.ts'
import type { VenueAdapter } from '../../src/venues/adapter.ts'
import { run, startWorld, traderA, worldsStoppedAfterEach, type World } from '../runtime/harness.ts'

const worlds = worldsStoppedAfterEach()
/** Wall time a spec waits for a run to end (the simulated clock moving meanwhile) before it calls it held. */
const WALL_MS_MAX = 15_000

/** A world with one account traded on the sim venue, whose trades and balances calls never settle from now on. */
async function hungVenue(): Promise<{ world: World; asked: string[] }> {
  const world = await startWorld({ seed: 31 })
  worlds.push(world)
  const placed = await world.gateway.place(traderA, { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.5', price: '61000', client_order_id: 'hung-1' }, null)
  expect(placed.reply.kind).toBe('accepted')
  await run(world, 300)
  const asked: string[] = []
  const venue = world.venue as unknown as Pick<VenueAdapter, 'trades' | 'balances'>
  venue.trades = () => (asked.push('trades'), new Promise(() => {}))
  venue.balances = () => (asked.push('balances'), new Promise(() => {}))
  return { world, asked }
}

/** Moves the simulated clock, in real time too (the replay worker answers in it), until `until` holds or WALL_MS_MAX. */
async function moveUntil(world: World, until: () => boolean): Promise<boolean> {
  const endMs = performance.now() + WALL_MS_MAX
  while (!until() && performance.now() < endMs) {
    await Bun.sleep(1)
    await world.clock.advanceAsync(5)
  }
  return until()
}

function expectSkippedAtDeadline(result: ReconcileResult, deadlineMs: number): void {
  expect(result.checks).toContain('venue_open_orders')
  expect(result.checks).not.toContain('venue_trades')
  expect(result.checks).not.toContain('venue_balances')
  const skipped = new Map(result.skipped.map(({ check, detail }) => [check, detail]))
  expect(skipped.get('venue_balances')).toBe(`sim/acct-a: balances: unknown (${VENUE_CALL_DEADLINE}: no answer from the adapter in ${deadlineMs} ms)`)
  expect(skipped.get('venue_trades')).toBe(`sim/acct-a: trades: unknown (${VENUE_CALL_DEADLINE}: no answer from the adapter in ${deadlineMs} ms)`)
}

test('a run whose trades and balances calls never settle ends at their deadline, the checks skipped, and the next run is a new one', async () => {
  const { world, asked } = await hungVenue()
  const office: BackOffice = backOfficeOf(world.gateway, { reconcileIntervalMs: null })
  const deadlineMs = callDeadlineMs(world.venue, 'trades')
  expect(deadlineMs).toBe(2 * (world.venue.requestTimeoutMs ?? 0))
  const results: ReconcileResult[] = []
  const first = office.reconcile().then((result) => void results.push(result))
  expect(await moveUntil(world, () => results.length === 1)).toBe(true)
  await first
  expectSkippedAtDeadline(results[0]!, deadlineMs)
  expect(asked).toEqual(['balances', 'trades'])
  // The next run is run, not joined with a held one: the venue is asked again.
  const second = office.reconcile().then((result) => void results.push(result))
  expect(await moveUntil(world, () => results.length === 2)).toBe(true)
  await second
  expect(results[1]!.runId).not.toBe(results[0]!.runId)
  expectSkippedAtDeadline(results[1]!, deadlineMs)
  expect(asked).toEqual(['balances', 'trades', 'balances', 'trades'])
  expect(office.lastError).toBeNull()
}, 60_000)

test('reconcile on its own goes on past a venue that never answers: each run ends at the deadline and the next follows', async () => {
  const { world } = await hungVenue()
  const office = backOfficeOf(world.gateway, { reconcileIntervalMs: 1_000 })
  const deadlineMs = callDeadlineMs(world.venue, 'balances')
  const runs = new Map<string, ReconcileResult>()
  const note = (): void => void (office.lastResult !== null && runs.set(office.lastResult.runId, office.lastResult))
  expect(await moveUntil(world, () => (note(), runs.size >= 3))).toBe(true)
  for (const result of runs.values()) expectSkippedAtDeadline(result, deadlineMs)
  expect(office.lastError).toBeNull()
}, 60_000)
