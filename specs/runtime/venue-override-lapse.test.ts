/**
 * An emergency override's lapse is recorded (src/runtime/venue-override-lapses.ts, `venue.override_lapsed`): before,
 * an override that reached its expiry ended with no record, so the log — and explain and audit, which read it — could
 * not say when check 8 started holding the venue again. The leader records it at the expiry; a lapse a crashed process
 * left unrecorded is recorded at the next start, late (its untilMs says when it ended), and only once.
 */

import { expect, test } from 'bun:test'
import { join } from 'node:path'
import type { Principal } from '../../src/domain/accounts.ts'
import type { DomainEvent } from '../../src/domain/events/index.ts'
import { SimClock } from '../../src/runtime/index.ts'
import { domainEventOf } from '../../src/runtime/records.ts'
import { openReadOnly } from '../../wal/index.ts'
import { crashWorld, makeVenue, run, startWorld, T0, worldsStoppedAfterEach, type World } from './harness.ts'

const worlds = worldsStoppedAfterEach()
const SEED = 23
const ada: Principal = { id: 'ada', roles: ['admin'], accounts: [], liveAllowed: false }
const bea: Principal = { id: 'bea', roles: ['admin'], accounts: [], liveAllowed: false }

async function overrideInForce(world: World, durationMs: number): Promise<void> {
  const proposed = await world.gateway.venueOverride({ op: 'propose', principal: ada, venue: 'sim', reason: 'venue says its timeouts are a display bug', durationMs, scope: 'all' })
  expect([proposed.reply.kind, proposed.lsn === null]).toEqual(['done', false])
  const approved = await world.gateway.venueOverride({ op: 'approve', principal: bea, venue: 'sim', overrideId: 'sim#1' })
  expect([approved.reply.kind, approved.lsn === null]).toEqual(['done', false])
  expect(world.gateway.engine.state.venueHealth.get('sim')?.override?.approvedBy).toBe('bea')
}

async function lapses(world: World): Promise<DomainEvent[]> {
  await world.gateway.engine.settled()
  return Array.from(openReadOnly(join(world.dir, 'log')).read(1), domainEventOf).filter((event): event is DomainEvent => event?.type === 'venue.override_lapsed')
}

test('the leader records the lapse at the expiry, once, and the override is gone from the state', async () => {
  const world = await startWorld({ seed: SEED })
  worlds.push(world)
  await overrideInForce(world, 5_000)
  const untilMs = world.gateway.engine.state.venueHealth.get('sim')?.override?.untilMs ?? 0
  await run(world, untilMs - world.clock.nowMs() - 5)
  expect(await lapses(world)).toEqual([])
  await run(world, 1_000)
  expect(await lapses(world)).toEqual([{ type: 'venue.override_lapsed', atMs: untilMs, venue: 'sim', overrideId: 'sim#1', untilMs, approved: true }])
  expect(world.gateway.engine.state.venueHealth.get('sim')?.override).toBeNull()
  await run(world, 5_000)
  expect(await lapses(world)).toHaveLength(1)
  expect(world.errors).toEqual([])
})

test('a lapse the crashed process left unrecorded is recorded at the next start, late, and not again at the one after', async () => {
  const clock = new SimClock({ startMs: T0 })
  const venue = makeVenue(clock, SEED, { seed: SEED })
  const first = await startWorld({ seed: SEED, clock, venue })
  worlds.push(first)
  await overrideInForce(first, 5_000)
  const untilMs = first.gateway.engine.state.venueHealth.get('sim')?.override?.untilMs ?? 0
  // The process dies before the expiry (its timers with it), and the next one starts well after it.
  first.gateway['overrideLapses'].stop()
  await crashWorld(first)
  await clock.advanceAsync(untilMs - clock.nowMs() + 3_000)
  const restartMs = clock.nowMs()
  const second = await startWorld({ seed: SEED, dir: first.dir, clock, venue })
  worlds.push(second)
  expect(await lapses(second)).toEqual([{ type: 'venue.override_lapsed', atMs: restartMs, venue: 'sim', overrideId: 'sim#1', untilMs, approved: true }])
  await second.gateway.stop()
  const third = await startWorld({ seed: SEED, dir: first.dir, clock, venue })
  worlds.push(third)
  await run(third, 1_000)
  expect(await lapses(third)).toHaveLength(1)
  expect(third.gateway.engine.state.venueHealth.get('sim')?.override).toBeNull()
  expect([...second.errors, ...third.errors]).toEqual([])
})
