/**
 * A restart never escalates the mode beyond what the log says an operator last chose (src/runtime/start-mode.ts):
 * the config's mode applies on a log never started, or when it reaches less than the log's; otherwise the log's holds.
 */

import { describe, expect, test } from 'bun:test'
import type { Principal } from '../../src/domain/accounts.ts'
import { leastReaching } from '../../src/domain/modes.ts'
import { START_MODE_DEESCALATED_NOTE, START_MODE_NOTE, startModeOf } from '../../src/runtime/start-mode.ts'
import { domainEventOf } from '../../src/runtime/records.ts'
import { openReadOnly } from '../../wal/index.ts'
import { join } from 'node:path'
import { crashWorld, drive, run, startWorld, traderA, worldsStoppedAfterEach, type World } from './harness.ts'

const admin: Principal = { id: 'ada', roles: ['admin'], accounts: [], liveAllowed: false }
const BUY = { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '59000' } as const

const worlds = worldsStoppedAfterEach()

async function started(options: Parameters<typeof startWorld>[0]): Promise<World> {
  const world = await startWorld(options)
  worlds.push(world)
  return world
}

function modeChanges(world: World): { mode: string; principalId: string; note: string }[] {
  const changes: { mode: string; principalId: string; note: string }[] = []
  for (const frame of openReadOnly(join(world.dir, 'log')).read(1)) {
    const event = domainEventOf(frame)
    if (event?.type === 'mode.changed') changes.push({ mode: event.mode, principalId: event.principalId, note: event.note })
  }
  return changes
}

describe('the mode order', () => {
  test('shadow reaches less than paper, paper less than live', () => {
    expect(leastReaching('live', 'shadow')).toBe('shadow')
    expect(leastReaching('paper', 'shadow')).toBe('shadow')
    expect(leastReaching('live', 'paper')).toBe('paper')
    expect(leastReaching('paper', 'paper')).toBe('paper')
  })

  test('the rule: config on a never-started log, else the less reaching of the two', () => {
    expect(startModeOf({ asked: 'live', logged: 'paper', neverStarted: true })).toMatchObject({ effective: 'live', rule: 'first_start' })
    expect(startModeOf({ asked: 'live', logged: 'shadow', neverStarted: false })).toMatchObject({ effective: 'shadow', rule: 'escalation_held' })
    expect(startModeOf({ asked: 'shadow', logged: 'live', neverStarted: false })).toMatchObject({ effective: 'shadow', rule: 'deescalated' })
    expect(startModeOf({ asked: null, logged: 'live', neverStarted: false })).toMatchObject({ effective: 'live', rule: 'as_logged' })
  })
})

describe('a restart and the mode an operator chose', () => {
  test("an admin's switch to shadow holds across a restart whose config asks for paper: nothing is sent", async () => {
    const first = await started({ seed: 31, mode: 'paper' })
    expect(first.gateway.engine.state.mode).toBe('paper')
    await drive(first, first.gateway.setMode(admin, 'shadow', 'stop sending'))
    // Accepted in shadow and left queued by the crash: the restart must not send it in the config's paper mode.
    first.gateway.executor.stop()
    expect((await drive(first, first.gateway.place(traderA, { ...BUY, client_order_id: 'held' }, null))).reply.kind).toBe('accepted')
    await crashWorld(first)

    const second = await started({ seed: 31, dir: first.dir, clock: first.clock, venue: first.venue, mode: 'paper' })
    await run(second, 1_000)
    expect(second.gateway.engine.state.mode).toBe('shadow')
    expect(second.gateway.bootstrapReport?.mode).toEqual({ asked: 'paper', logged: 'shadow', effective: 'shadow', rule: 'escalation_held' })
    expect(second.venue.inspect().orders).toEqual([])
    expect(second.gateway.executor.stats.sends).toBe(0)
    // The log names who chose the mode in force, and why; the start recorded no change of its own.
    expect(modeChanges(second)).toEqual([{ mode: 'shadow', principalId: 'ada', note: 'stop sending' }])
  })

  test('a config asking for a mode that reaches less applies at restart, recorded with why', async () => {
    const first = await started({ seed: 32, mode: 'paper' })
    await crashWorld(first)
    const second = await started({ seed: 32, dir: first.dir, clock: first.clock, venue: first.venue, mode: 'shadow' })
    expect(second.gateway.engine.state.mode).toBe('shadow')
    expect(second.gateway.bootstrapReport?.mode.rule).toBe('deescalated')
    expect(modeChanges(second)).toEqual([{ mode: 'shadow', principalId: 'egress-bootstrap', note: `${START_MODE_DEESCALATED_NOTE} (paper)` }])
  })

  test("a log never started takes the config's mode", async () => {
    const world = await started({ seed: 33, mode: 'shadow' })
    expect(world.gateway.engine.state.mode).toBe('shadow')
    expect(world.gateway.bootstrapReport?.mode.rule).toBe('first_start')
    expect(modeChanges(world)).toEqual([{ mode: 'shadow', principalId: 'egress-bootstrap', note: START_MODE_NOTE }])
  })

  test("an admin's escalation holds across a restart whose config asks for the same: the admin route is the way up", async () => {
    const first = await started({ seed: 34, mode: 'shadow' })
    await drive(first, first.gateway.setMode(admin, 'paper', 'drill over'))
    await crashWorld(first)
    const second = await started({ seed: 34, dir: first.dir, clock: first.clock, venue: first.venue, mode: 'paper' })
    expect(second.gateway.engine.state.mode).toBe('paper')
    expect(second.gateway.bootstrapReport?.mode.rule).toBe('as_logged')
  })
})
