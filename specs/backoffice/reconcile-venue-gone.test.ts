/**
 * A break stays open until a run of its check finds it matching (breaks.ts). A venue check ran per venue configured,
 * and its breaks cleared when their keys were not seen: a venue no longer configured (taken out of the config, the
 * gateway restarted without it) had every venue_balances and venue_open_orders break cleared by the next run of
 * another venue's checks, which never asked it — break_cleared in the log for a difference nobody looked at again.
 * Then a venue check's break cleared only in a run that checked its venue, and a venue no longer configured kept its
 * breaks open for good: no run asked it any more, they showed in /v1/reconcile and the breaks-open gauge forever.
 * Now the next run closes them with a recorded decision of its own (break_cleared v2, outcome `venue_retired`), apart
 * from a match (`cleared` does not count them): in the log, so a replay reads the same; a venue configured again and
 * still differing opens the break anew.
 */

import { expect, test } from 'bun:test'
import { join } from 'node:path'
import { BackOffice } from '../../src/backoffice/backoffice.ts'
import { backOfficeOf } from '../../src/backoffice/backoffice-of.ts'
import { BREAK_CLEARED, decodeBackOfficeRecord, encodeBackOfficeRecord } from '../../src/backoffice/breaks.ts'
import { SchemaError } from '../../src/domain/events/index.ts'
import { parseDecimal } from '../../src/domain/decimal.ts'
import type { VenueAdapter } from '../../src/venues/adapter.ts'
import { drive, run, startWorld, traderA, worldsStoppedAfterEach, type World } from '../runtime/harness.ts'

const worlds = worldsStoppedAfterEach()

/** A back office over the same log whose only venue is `other` (the sim venue taken out of its config). */
function officeWithout(world: World, name: string): BackOffice {
  const other = Object.create(world.venue, { venue: { value: 'other' } }) as VenueAdapter
  return new BackOffice({
    engine: world.gateway.engine, clock: world.clock, storePath: join(world.dir, `${name}.sqlite`), reconcileIntervalMs: null,
    venues: [{ adapter: other, prices: { referencePrice: () => null }, balanceBasis: 'trading' }],
  })
}

test("a venue no longer configured has its breaks closed by the next run as venue_retired, not cleared, recorded in the log", async () => {
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
  const key = 'venue_balances:sim:acct-a:ETH'
  expect(office.openBreaks.map((item) => item.key)).toEqual([key])

  const elsewhere = officeWithout(world, 'elsewhere')
  try {
    expect(elsewhere.openBreaks.map((item) => item.key)).toEqual([key])
    const result = await drive(world, elsewhere.reconcile())
    await run(world, 300)
    expect(result.checks).toContain('venue_balances')
    // Not a match: nobody asked the sim venue.
    expect(result.cleared).toEqual([])
    expect(result.retired).toEqual([key])
    expect(elsewhere.openBreaks).toEqual([])
    expect(office.openBreaks).toEqual([])
    // A second run has nothing left to retire.
    expect((await drive(world, elsewhere.reconcile())).retired).toEqual([])
    await run(world, 300)
  } finally {
    elsewhere.close()
  }

  // The decision is a record of its own in the log: the break's opening is still there, its closing says why.
  const wal = world.gateway.engine.wal
  const closings = Array.from(wal.read(wal.firstLsn), (frame) => (frame.type === BREAK_CLEARED.type ? { version: frame.version, record: decodeBackOfficeRecord(frame) } : null)).filter((value) => value !== null)
  expect(closings.length).toBe(1)
  expect(closings[0]?.version).toBe(2)
  expect(closings[0]?.record).toMatchObject({ kind: 'break_cleared', value: { key, outcome: 'venue_retired' } })

  // Replayed from the log alone, the same answer.
  const replayed = officeWithout(world, 'replayed')
  try {
    expect(replayed.openBreaks).toEqual([])
  } finally {
    replayed.close()
  }

  // The venue configured again and still differing: the difference is a break again.
  const again = await drive(world, office.reconcile())
  await run(world, 300)
  expect(again.retired).toEqual([])
  expect([...again.opened, ...again.suspected]).toEqual([key])
  if (again.opened.length === 0) {
    await drive(world, office.reconcile())
    await run(world, 300)
  }
  expect(office.openBreaks.map((item) => item.key)).toEqual([key])
  // Asked again, and matching: the break clears, as any other.
  venue.balances = balances
  const matching = await drive(world, office.reconcile())
  await run(world, 300)
  expect(matching.cleared).toEqual([key])
  expect(matching.retired).toEqual([])
  expect(world.errors).toEqual([])
}, 60_000)

test('break_cleared: a match is written as version 1, as before; a version 1 record naming an outcome is refused', () => {
  const match = encodeBackOfficeRecord({ kind: 'break_cleared', value: { key: 'k', clearedAtMs: 1, asOfLsn: 1, runId: 'r' } })
  const retired = encodeBackOfficeRecord({ kind: 'break_cleared', value: { key: 'k', clearedAtMs: 1, asOfLsn: 1, runId: 'r', outcome: 'venue_retired' } })
  expect([match.version, retired.version]).toEqual([1, 2])
  expect(decodeBackOfficeRecord({ ...retired, payload: retired.payload as Uint8Array })).toEqual({ kind: 'break_cleared', value: { key: 'k', clearedAtMs: 1, asOfLsn: 1, runId: 'r', outcome: 'venue_retired' } })
  expect(() => decodeBackOfficeRecord({ ...retired, version: 1, payload: retired.payload as Uint8Array })).toThrow(SchemaError)
})
