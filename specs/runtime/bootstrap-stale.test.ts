/**
 * Places still waiting when the process stopped (src/kernel/stale-at-start.ts, src/runtime/bootstrap.ts): an order
 * accepted (202) and never sent is not sent by a start that comes longer after its acceptance than the resend window
 * (resendAgeMsMax): it ends Canceled with STALE_AT_START before the executor may pick it, its reservation released,
 * and the venue never sees it; a younger one is sent as before. The log decides the same on replay and re-decide, and
 * a crash at any record of that start leaves no expired order to be sent by the next.
 */

import { describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import type { DomainEvent } from '../../src/domain/events/index.ts'
import { stateDigest } from '../../src/kernel/index.ts'
import { redecideLog } from '../../src/runtime/ha/index.ts'
import { SimClock } from '../../src/runtime/index.ts'
import { domainEventOf } from '../../src/runtime/records.ts'
import { rebuildState } from '../../src/runtime/snapshot/index.ts'
import type { SimVenue } from '../../src/venues/sim/index.ts'
import { openReadOnly } from '../../wal/index.ts'
import { crashCopyAt, crashWorld, makeVenue, removeDir, run, startWorld, traderA, worldsStoppedAfterEach, type World } from './harness.ts'

const worlds = worldsStoppedAfterEach()
const SEED = 61
/** The harness's resendAgeMsMax. */
const RESEND_AGE_MS_MAX = 60_000

function body(id: string): Record<string, unknown> {
  // 59000 rests below the sim's reference price.
  return { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.001', price: '59000', tif: 'GTC', client_order_id: id }
}

/** Accepted (durable, the client has its 202) while the executor is stopped: queued, never sent. */
async function acceptedUnsent(world: World, id: string): Promise<string> {
  const result = await world.gateway.place(traderA, body(id), null)
  if (result.reply.kind !== 'accepted') throw new Error(`not accepted: ${JSON.stringify(result.reply)}`)
  expect(world.gateway.engine.state.orders.get(result.reply.orderId)).toMatchObject({ status: 'Enqueued', sendAttempts: 0 })
  return result.reply.orderId
}

/**
 * A gateway that accepts each order (oldest first), `ageMs` before it crashes, sends none of them, and crashes; then
 * `downMs` pass.
 */
async function crashedWithQueued(orders: { tag: string; ageMs: number }[], downMs: number): Promise<{ world: World; ids: string[] }> {
  const world = await startWorld({ seed: SEED, commandRecords: true })
  world.gateway.executor.stop()
  const crashAtMs = world.clock.nowMs() + Math.max(...orders.map((order) => order.ageMs))
  const ids: string[] = []
  for (const { tag, ageMs } of orders) {
    await world.clock.advanceAsync(crashAtMs - ageMs - world.clock.nowMs())
    ids.push(await acceptedUnsent(world, tag))
  }
  await world.clock.advanceAsync(crashAtMs - world.clock.nowMs())
  await crashWorld(world)
  await world.clock.advanceAsync(downMs)
  return { world, ids }
}

function logEvents(dir: string): DomainEvent[] {
  const events: DomainEvent[] = []
  const log = openReadOnly(join(dir, 'log'))
  for (const frame of log.read(log.firstLsn)) {
    const event = domainEventOf(frame)
    if (event !== null) events.push(event)
  }
  return events
}

function eventsOf(events: DomainEvent[], orderId: string): DomainEvent[] {
  return events.filter((event) => 'orderId' in event && event.orderId === orderId)
}

/** Orders the venue holds under the order's client id. */
function heldAtVenue(venue: SimVenue, orderId: string): number {
  return venue.inspect().orders.filter((order) => order.clientOrderIds.includes(`eg-${orderId}`)).length
}

describe('a start after a stop with places still waiting', () => {
  test('one accepted longer ago than the resend window is not sent: Canceled STALE_AT_START, reservation released; a younger one is sent; the log decides the same', async () => {
    // Old: accepted 50 s before the crash, down 20 s — 70 s at the start. Young: accepted at the crash, 20 s.
    const { world, ids } = await crashedWithQueued([{ tag: 'old', ageMs: 50_000 }, { tag: 'young', ageMs: 0 }], 20_000)
    const [old, young] = ids as [string, string]
    const restarted = await startWorld({ seed: SEED, dir: world.dir, clock: world.clock, venue: world.venue, commandRecords: true })
    worlds.push(restarted)
    await run(restarted, 1_000)
    const state = restarted.gateway.engine.state

    expect(state.orders.get(old)).toMatchObject({ status: 'Canceled', lastReason: 'STALE_AT_START', sendAttempts: 0 })
    expect(state.orders.get(old)?.reservation.remaining).toBe(0n)
    expect(heldAtVenue(world.venue, old)).toBe(0)
    const events = logEvents(restarted.dir)
    expect(eventsOf(events, old).map((event) => event.type)).toEqual(['order.accepted', 'order.canceled'])
    expect(eventsOf(events, old)[1]).toMatchObject({ reason: 'STALE_AT_START', source: 'local' })
    expect(restarted.gateway.bootstrapReport?.staleEnded).toBe(1)

    expect(state.orders.get(young)?.status).toBe('AckedOpen')
    expect(heldAtVenue(world.venue, young)).toBe(1)
    expect(world.venue.inspect().requests.calls.place).toBe(1)
    // Only the young order is reserved for.
    expect(state.accounts.get('acct-a')?.reserved.get('USD')).toBe(state.orders.get(young)?.reservation.remaining)
    expect(restarted.errors).toEqual([])

    await restarted.gateway.engine.settled()
    const logDir = join(restarted.dir, 'log')
    expect(stateDigest(rebuildState(openReadOnly(logDir)).state)).toBe(stateDigest(state))
    const report = redecideLog(logDir)
    expect([report.mismatches, report.lastMismatches, report.eventsWithoutCommand]).toEqual([0, [], 0])
  })

  test('one within the window at the start is sent as before, ending nothing', async () => {
    const { world, ids } = await crashedWithQueued([{ tag: 'recent', ageMs: 30_000 }], RESEND_AGE_MS_MAX - 30_000)
    const [recent] = ids as [string]
    const restarted = await startWorld({ seed: SEED, dir: world.dir, clock: world.clock, venue: world.venue })
    worlds.push(restarted)
    await run(restarted, 1_000)
    expect(restarted.gateway.bootstrapReport?.staleEnded).toBe(0)
    expect(restarted.gateway.engine.state.orders.get(recent)?.status).toBe('AckedOpen')
    expect(heldAtVenue(world.venue, recent)).toBe(1)
  })

  test('a crash at any record of the start that ended them: no expired order is ever sent by the next start', async () => {
    const { world, ids } = await crashedWithQueued([{ tag: 'a', ageMs: 1_000 }, { tag: 'b', ageMs: 0 }], RESEND_AGE_MS_MAX + 5_000)
    const startLsn = openReadOnly(join(world.dir, 'log')).lastLsn
    const second = await startWorld({ seed: SEED, dir: world.dir, clock: world.clock, venue: world.venue })
    worlds.push(second)
    await run(second, 1_000)
    await crashWorld(second)
    const events: { lsn: number; event: DomainEvent }[] = []
    const log = openReadOnly(join(world.dir, 'log'))
    for (const frame of log.read(startLsn + 1)) {
      const event = domainEventOf(frame)
      if (event !== null) events.push({ lsn: frame.lsn, event })
    }
    const endedAt = ids.map((orderId) => events.find(({ event }) => event.type === 'order.canceled' && event.orderId === orderId && event.reason === 'STALE_AT_START')?.lsn)
    expect(endedAt.every((lsn) => lsn !== undefined)).toBe(true)
    // One decision: both ends in one append, so a cut between them keeps neither.
    const [firstEnd, lastEnd] = [Math.min(...(endedAt as number[])), Math.max(...(endedAt as number[]))]
    expect(lastEnd).toBeGreaterThan(firstEnd)

    const restartAtMs = world.clock.nowMs() + 1_000
    const cuts = { beforeTheEnds: 0, afterThem: 0 }
    for (let lsn = startLsn; lsn <= log.lastLsn; lsn++) {
      const dir = crashCopyAt(world.dir, lsn)
      const kept = openReadOnly(join(dir, 'log')).lastLsn
      if (kept !== lsn) {
        // A cut inside a decision: the open cuts back to where it began, a cut point of its own. Between the two ends
        // (one decision) that keeps neither.
        expect({ lsn, kept: kept < lsn && kept >= startLsn }).toEqual({ lsn, kept: true })
        if (lsn >= firstEnd && lsn < lastEnd) expect(kept).toBeLessThan(firstEnd)
        removeDir(dir)
        continue
      }
      const clock = new SimClock({ startMs: restartAtMs })
      const venue = makeVenue(clock, SEED, { seed: SEED })
      const restarted = await startWorld({ seed: SEED, dir, clock, venue })
      try {
        await run(restarted, 1_000)
        for (const orderId of ids) {
          const where = `cut after LSN ${lsn}, order ${orderId}`
          const ended = eventsOf(logEvents(dir), orderId).filter((event) => event.type === 'order.canceled')
          expect({ where, status: restarted.gateway.engine.state.orders.get(orderId)?.lastReason, atVenue: heldAtVenue(venue, orderId), ended: ended.length }).toEqual({
            where,
            status: 'STALE_AT_START',
            atVenue: 0,
            ended: 1,
          })
        }
        expect(venue.inspect().requests.calls.place).toBe(0)
        if (lsn < firstEnd) cuts.beforeTheEnds++
        else cuts.afterThem++
      } finally {
        await restarted.gateway.stop().catch(() => undefined)
        removeDir(dir)
      }
    }
    // The start before its ends (this start ends them, later still) and after them (they stay ended) were both tried.
    expect(cuts.beforeTheEnds).toBeGreaterThan(0)
    expect(cuts.afterThem).toBeGreaterThan(0)
  }, 60_000)
})
