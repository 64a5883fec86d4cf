/**
 * A refused resend is on record (src/kernel/resend.ts, `order.resend_refused`): before, the kernel answered the refusal
 * and wrote nothing, so a start's resend refused by a guard (its reply read by no one) left no trace in the order's
 * events, its explanation or the audit chain — the order just stayed Failed. Now the refusal is logged with its reason
 * code, who asked and what the check looked at; it changes no state, so replay, replay-verify, a restart and the
 * standby's re-decision (shadow mode, from the command record) all agree with it.
 */

import { describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { verifyLogDirectory } from '../../src/audit/index.ts'
import type { DomainEvent, EventOf } from '../../src/domain/events/index.ts'
import { decide } from '../../src/kernel/index.ts'
import { redecideLog } from '../../src/runtime/ha/index.ts'
import { SimClock } from '../../src/runtime/index.ts'
import { domainEventOf } from '../../src/runtime/records.ts'
import { replayVerify } from '../../src/runtime/snapshot/index.ts'
import { openReadOnly } from '../../wal/index.ts'
import { crashWorld, makeVenue, opsUser, run, startWorld, T0, traderA, worldsStoppedAfterEach, type World } from './harness.ts'

const worlds = worldsStoppedAfterEach()
const SEED = 7
const PARAMS = { reconcileGraceMs: 1_000, reconcileRecheckMs: 200 }

function logEvents(dir: string): DomainEvent[] {
  const events: DomainEvent[] = []
  const log = openReadOnly(join(dir, 'log'))
  for (const frame of log.read(log.firstLsn)) {
    const event = domainEventOf(frame)
    if (event !== null) events.push(event)
  }
  return events
}

function refusalsOf(events: DomainEvent[], orderId: string): EventOf<'order.resend_refused'>[] {
  return events.filter((event): event is EventOf<'order.resend_refused'> => event.type === 'order.resend_refused' && event.orderId === orderId)
}

/** A resting buy placed while the venue drops every request: its place is in flight, the venue never got it. */
async function placeLost(world: World, tag: string): Promise<string> {
  world.venue.setFaults({ dropRequestProbability: 1 })
  const placed = await world.gateway.place(traderA, { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '59000', client_order_id: tag }, null)
  if (placed.reply.kind !== 'accepted') throw new Error(`expected ${tag} accepted, got ${JSON.stringify(placed.reply)}`)
  const sends = world.gateway.executor.stats.sends
  for (let step = 0; step < 100 && world.gateway.executor.stats.sends === sends; step++) await world.clock.advanceAsync(1)
  expect(world.gateway.executor.stats.sends).toBe(sends + 1)
  return placed.reply.orderId
}

describe('a refused resend is recorded', () => {
  test("a start's resend refused by the trading switch is logged with its reason, not reported resent, and replays", async () => {
    const clock = new SimClock({ startMs: T0 })
    const venue = makeVenue(clock, SEED, { seed: SEED })
    const first = await startWorld({ seed: SEED, clock, venue, params: PARAMS })
    const orderId = await placeLost(first, 'H')
    // Halted with the place in flight: the next start proves the order never received, and may not send it again.
    expect((await first.gateway.killSwitch(opsUser, 'HALT', 'spec')).reply).toEqual({ kind: 'done' })
    expect(first.gateway.engine.state.tradingSwitch).toBe('halted')
    await crashWorld(first)
    venue.setFaults({})

    const second = await startWorld({ seed: SEED, dir: first.dir, clock, venue, params: PARAMS })
    worlds.push(second)
    expect(second.gateway.bootstrapReport?.resent).toEqual([])
    expect(second.gateway.engine.state.orders.get(orderId)).toMatchObject({ status: 'Failed', notAtVenue: true })
    const refusals = refusalsOf(logEvents(second.dir), orderId)
    // With the config and the build the start decided it under (§9: kernel/attribution.ts).
    expect(refusals).toEqual([
      { type: 'order.resend_refused', atMs: expect.any(Number), orderId, principalId: 'egress-bootstrap', reason: 'KILL_SWITCH_HALT', detail: 'trading switch is halted', configDigest: 'sim-config', buildCommit: 'test' },
    ])
    expect(logEvents(second.dir).some((event) => event.type === 'order.resend_requested')).toBe(false)
    expect(venue.inspect().orders.length).toBe(0)

    // It is in the audit chain, replays to the same state, and a restart reads past it.
    const statusBefore = second.gateway.engine.state.orders.get(orderId)
    await second.gateway.stop()
    expect((await verifyLogDirectory(join(second.dir, 'log'))).ok).toBe(true)
    expect(replayVerify(second.dir, { from: 'genesis' }).problems).toEqual([])
    const third = await startWorld({ seed: SEED, dir: second.dir, clock, venue, params: PARAMS })
    worlds.push(third)
    expect(third.gateway.engine.state.orders.get(orderId)).toEqual(statusBefore)
    expect(third.errors).toEqual([])
  })

  test('a refused resend is decided again the same from its command record (the standby shadow check), and nothing else differs', async () => {
    const clock = new SimClock({ startMs: T0 })
    const venue = makeVenue(clock, SEED, { seed: SEED })
    const world = await startWorld({ seed: SEED, clock, venue, params: PARAMS })
    worlds.push(world)
    world.gateway.engine.commandRecords = true
    const orderId = await placeLost(world, 'S')
    venue.setFaults({})
    await run(world, 10_000)
    expect(world.gateway.engine.state.orders.get(orderId)).toMatchObject({ status: 'Failed', notAtVenue: true })
    await world.gateway.killSwitch(opsUser, 'HALT', 'spec')
    const market = world.gateway.market.snapshot('sim', 'BTC-USD')
    const refused = await world.gateway.engine.submit({ kind: 'resend', nowMs: clock.nowMs(), principal: opsUser, orderId, market })
    expect(refused.decision.reply).toMatchObject({ kind: 'refused', reason: 'KILL_SWITCH_HALT' })
    expect(refused.lsns.length).toBe(1)
    await world.gateway.stop()

    const redecided = redecideLog(join(world.dir, 'log'))
    expect(redecided.mismatches).toBe(0)
    // The resend's record was among those decided again: a kernel deciding it at another time differs on it alone.
    const shifted = redecideLog(join(world.dir, 'log'), { decide: (state, command) => decide(state, command.kind === 'resend' ? { ...command, nowMs: command.nowMs + 1 } : command) })
    expect(shifted.mismatches).toBe(1)
    expect(shifted.lastMismatches[0]?.difference).toContain('atMs')
  })
})
