/**
 * Venue health scoring turned off (config venueHealth.enabled false) at a start whose log holds a level an earlier
 * process recorded (src/runtime/venue-health-monitor.ts recordFresh). Off, no process will ever score the venue again:
 * a CRITICAL left in the log held every place to the venue (VENUE_HEALTH_CRITICAL) for as long as the log lived, with
 * only a two-admin override of at most a day to get past it, while the config said every venue stays OK. The start
 * records the venue OK again, saying why, and places go.
 */

import { expect, test } from 'bun:test'
import { SimClock } from '../../src/runtime/index.ts'
import { crashWorld, makeVenue, run, startWorld, T0, traderA, worldsStoppedAfterEach } from './harness.ts'

const worlds = worldsStoppedAfterEach()
const SEED = 12
const VENUE_HEALTH = {
  enabled: true, windowMs: 20_000, samplesMax: 100, samplesMin: 3, slowCallMs: 2_000, degradedScoreMax: 75, criticalScoreMax: 50, evaluateEveryMs: 250, overrideMsMax: 60_000,
}

async function crashedCritical(clock: SimClock): Promise<{ dir: string; venue: ReturnType<typeof makeVenue> }> {
  const venue = makeVenue(clock, SEED, { seed: SEED })
  const first = await startWorld({ seed: SEED, clock, venue, venueHealth: VENUE_HEALTH })
  worlds.push(first)
  first.gateway.venueHealth?.stop()
  await first.gateway.engine.submit({ kind: 'venue_health', nowMs: clock.nowMs(), venue: 'sim', level: 'CRITICAL', score: 10, detail: 'the crashed process saw the venue fail' })
  await crashWorld(first)
  return { dir: first.dir, venue }
}

test('a start with venue health off records OK over the CRITICAL an earlier process left, and places go', async () => {
  const clock = new SimClock({ startMs: T0 })
  const { dir, venue } = await crashedCritical(clock)
  const second = await startWorld({ seed: SEED, dir, clock, venue, venueHealth: { ...VENUE_HEALTH, enabled: false } })
  worlds.push(second)
  const entry = second.gateway.engine.state.venueHealth.get('sim')
  expect([entry?.level, entry?.score]).toEqual(['OK', 100])
  expect(entry?.detail).toContain('venueHealth.enabled false')
  const placed = await second.gateway.place(traderA, { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '59000', client_order_id: 'after-off' }, null)
  if (placed.reply.kind !== 'accepted') throw new Error('not accepted')
  await run(second, 1_000)
  const order = second.gateway.engine.state.orders.get(placed.reply.orderId)
  expect(order?.status).toBe('AckedOpen')
  expect(second.errors).toEqual([])
})

test('off, it records nothing over an OK venue, and records no level as calls come', async () => {
  const clock = new SimClock({ startMs: T0 })
  const venue = makeVenue(clock, SEED, { seed: SEED })
  const world = await startWorld({ seed: SEED, clock, venue, venueHealth: { ...VENUE_HEALTH, enabled: false } })
  worlds.push(world)
  venue.setFaults({ dropRequestProbability: 1 })
  for (let n = 0; n < 4; n++) {
    await world.gateway.place(traderA, { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '59000', client_order_id: `lost-${n}` }, null)
  }
  await run(world, 10_000, 50)
  expect(world.gateway.engine.state.venueHealth.get('sim')).toBeUndefined()
})
