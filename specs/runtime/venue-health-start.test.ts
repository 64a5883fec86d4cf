/**
 * Venue health at a start (src/runtime/venue-health-monitor.ts recordFresh, src/runtime/gateway.ts): the level the
 * log holds is the reading of an earlier process (or leader), over calls this one never saw. A start scores every
 * venue afresh and records the level before bootstrap decides any send, so bootstrap's sends (the resend of an order
 * the venue proved it never got) are decided on this process's reading — the one every send after the start is
 * decided on — not held by a CRITICAL level nobody has evidence for any more.
 */

import { expect, test } from 'bun:test'
import { join } from 'node:path'
import { SimClock } from '../../src/runtime/index.ts'
import { domainEventOf } from '../../src/runtime/records.ts'
import { openReadOnly } from '../../wal/index.ts'
import { crashWorld, makeVenue, run, startWorld, T0, traderA, worldsStoppedAfterEach } from './harness.ts'

const worlds = worldsStoppedAfterEach()
const SEED = 11
const PARAMS = { reconcileGraceMs: 1_000, reconcileRecheckMs: 200 }
const VENUE_HEALTH = {
  enabled: true, windowMs: 20_000, samplesMax: 100, samplesMin: 3, slowCallMs: 2_000, degradedScoreMax: 75, criticalScoreMax: 50, evaluateEveryMs: 250, overrideMsMax: 60_000,
}

test("a venue recorded CRITICAL by the process that crashed does not hold the next start's resend", async () => {
  const clock = new SimClock({ startMs: T0 })
  const venue = makeVenue(clock, SEED, { seed: SEED })
  const first = await startWorld({ seed: SEED, clock, venue, params: PARAMS, venueHealth: VENUE_HEALTH })
  worlds.push(first)
  // The order's place goes out and is lost (the venue never gets it): in flight at the crash.
  venue.setFaults({ dropRequestProbability: 1 })
  const placed = await first.gateway.place(traderA, { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '59000', client_order_id: 'lost' }, null)
  if (placed.reply.kind !== 'accepted') throw new Error('not accepted')
  const orderId = placed.reply.orderId
  for (let step = 0; step < 100 && first.gateway.executor.stats.sends < 1; step++) await clock.advanceAsync(1)
  expect(first.gateway.executor.stats.sends).toBe(1)
  // The dying process's last reading of the venue: CRITICAL (its scoring stopped, as a crash stops it).
  first.gateway.venueHealth?.stop()
  await first.gateway.engine.submit({ kind: 'venue_health', nowMs: clock.nowMs(), venue: 'sim', level: 'CRITICAL', score: 10, detail: 'the crashed process saw the venue fail' })
  await crashWorld(first)
  venue.setFaults({})

  const second = await startWorld({ seed: SEED, dir: first.dir, clock, venue, params: PARAMS, venueHealth: VENUE_HEALTH })
  worlds.push(second)
  // Bootstrap proved the order absent and resent it: the resend went out on this process's reading (no evidence: OK).
  expect(second.gateway.bootstrapReport?.resent).toEqual([orderId])
  await run(second, 1_000)
  const order = second.gateway.engine.state.orders.get(orderId)
  expect([order?.status, order?.sendAttempts]).toEqual(['AckedOpen', 2])
  expect(second.gateway.engine.state.venueHealth.get('sim')?.level).toBe('OK')
  await second.gateway.engine.settled()
  const blocks = Array.from(openReadOnly(join(second.dir, 'log')).read(1), domainEventOf).filter((event) => event?.type === 'order.send_blocked')
  expect(blocks).toEqual([])
  expect(second.errors).toEqual([])
})
