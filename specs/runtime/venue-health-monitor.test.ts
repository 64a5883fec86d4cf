/**
 * Venue health end to end on a simulated clock (src/runtime/venue-health-monitor.ts): a venue answering retryable to
 * every place is scored CRITICAL and recorded (venue.health_changed); the next send of the order is then blocked by
 * I-100 check 8 (VENUE_HEALTH_CRITICAL), while a cancel still goes; once the bad calls age out of the window the venue
 * is recorded OK again and orders go. The log replays to the live state, and re-deciding its commands (redecide, what a
 * standby does) gives the same events: the kernel decided on the recorded level, never on the live scoring.
 */

import { expect, test } from 'bun:test'
import { join } from 'node:path'
import { openReadOnly } from '../../wal/index.ts'
import { stateDigest } from '../../src/kernel/index.ts'
import { redecideLog } from '../../src/runtime/ha/index.ts'
import { rebuildState } from '../../src/runtime/snapshot/index.ts'
import type { PlaceAck, VenueOutcome } from '../../src/venues/adapter.ts'
import { run, startWorld, traderA, worldsStoppedAfterEach } from './harness.ts'

const worlds = worldsStoppedAfterEach()

const VENUE_HEALTH = {
  enabled: true, windowMs: 20_000, samplesMax: 100, samplesMin: 3, slowCallMs: 2_000, degradedScoreMax: 75, criticalScoreMax: 50, evaluateEveryMs: 250, overrideMsMax: 60_000,
}

function body(id: string, side: 'buy' | 'sell' = 'buy'): Record<string, unknown> {
  return { account: 'acct-a', symbol: 'BTC-USD', side, type: 'limit', qty: '0.001', price: '59000', tif: 'GTC', client_order_id: id }
}

test('a venue answering retryable, slowly, is recorded CRITICAL and blocks places, then recovers; the log re-decides identically', async () => {
  // The sim's request timeout past the slow answers below: the executor answers a call still out at twice it unknown.
  const world = await startWorld({ seed: 7, venueHealth: VENUE_HEALTH, commandRecords: true, venueOptions: { requestTimeoutMs: 5_000 } })
  worlds.push(world)
  const { gateway, venue } = world
  // A resting order to cancel later: placed while the venue is healthy.
  const resting = await gateway.place(traderA, body('rest'), null)
  if (resting.reply.kind !== 'accepted') throw new Error('not accepted')
  await run(world, 200)
  expect(gateway.engine.state.orders.get(resting.reply.orderId)?.status).toBe('AckedOpen')

  const place = venue.place.bind(venue)
  let calls = 0
  // Each place is answered retryable after 3 s (slower than slowCallMs): a penalty of 100 a call.
  venue.place = async (): Promise<VenueOutcome<PlaceAck>> => {
    calls++
    await new Promise<void>((resolve) => world.clock.schedule(3_000, resolve))
    return { kind: 'retryable', reason: 'venue_unavailable', retryAfterMs: 50 }
  }
  const sick = await gateway.place(traderA, body('sick'), null)
  if (sick.reply.kind !== 'accepted') throw new Error('not accepted')
  await run(world, 8_000)
  const recorded = gateway.engine.state.venueHealth.get('sim')
  expect(recorded?.level).toBe('CRITICAL')
  // With the healthy call before them, two such calls make three in the window (samplesMin) scoring 34: CRITICAL, and
  // the order's next send is blocked instead of made. It was sent before (answered retryable), so it is not ended on
  // egress's word: it goes Unknown and is read back (src/kernel/send.ts readBackBlocked), held until the venue answers.
  expect(calls).toBe(2)
  const order = gateway.engine.state.orders.get(sick.reply.orderId)
  expect([order?.status, order?.lastReason]).toEqual(['Unknown', 'VENUE_HEALTH_CRITICAL'])

  // A cancel is never held by venue health.
  await gateway.cancel(traderA, resting.reply.orderId)
  await run(world, 500)
  expect(gateway.engine.state.orders.get(resting.reply.orderId)?.status).toBe('Canceled')

  // The bad calls age out of the window: recorded OK again at a tick, and places go.
  venue.place = place
  await run(world, VENUE_HEALTH.windowMs + VENUE_HEALTH.evaluateEveryMs)
  expect(gateway.engine.state.venueHealth.get('sim')?.level).toBe('OK')
  const healthy = await gateway.place(traderA, body('healthy'), null)
  if (healthy.reply.kind !== 'accepted') throw new Error('not accepted')
  await run(world, 300)
  expect(gateway.engine.state.orders.get(healthy.reply.orderId)?.status).toBe('AckedOpen')
  // The blocked order was read back: the venue never had it (every place was answered retryable), so it ended Failed.
  expect(gateway.engine.state.orders.get(sick.reply.orderId)?.status).toBe('Failed')
  expect(world.errors).toEqual([])

  await gateway.engine.settled()
  const logDir = join(world.dir, 'log')
  expect(stateDigest(rebuildState(openReadOnly(logDir)).state)).toBe(stateDigest(gateway.engine.state))
  const report = redecideLog(logDir)
  expect(report.decisions).toBeGreaterThan(0)
  expect([report.mismatches, report.lastMismatches]).toEqual([0, []])
  expect(report.eventsWithoutCommand).toBe(0)
})
