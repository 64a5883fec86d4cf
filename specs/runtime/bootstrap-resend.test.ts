/**
 * Bootstrap's resends and crashes (src/runtime/bootstrap.ts, src/kernel/bootstrap-suspects.ts): an order that got a
 * 202 and that the venue proves it never received is sent again, exactly once, whatever record of a start the process
 * crashes at; an order proven absent while running is not.
 */

import { describe, expect, test } from 'bun:test'
import { cpSync } from 'node:fs'
import { join } from 'node:path'
import { defaultSimInstruments } from '../../src/domain/instruments.ts'
import type { DomainEvent } from '../../src/domain/events/index.ts'
import { SimClock } from '../../src/runtime/index.ts'
import { simInstrumentsFor } from '../../src/runtime/paper.ts'
import { domainEventOf } from '../../src/runtime/records.ts'
import type { VenueOrder, VenueOutcome } from '../../src/venues/adapter.ts'
import { SimVenue } from '../../src/venues/sim/index.ts'
import { openReadOnly } from '../../wal/index.ts'
import { crashCopyAt, crashWorld, removeDir, run, startWorld, T0, tempDataDir, traderA, worldsStoppedAfterEach, type World } from './harness.ts'

const worlds = worldsStoppedAfterEach()
const SEED = 5
const PARAMS = { reconcileGraceMs: 1_000, reconcileRecheckMs: 200 }
/** The harness's resendAgeMsMax. */
const RESEND_AGE_MS_MAX = 60_000

/** A sim venue whose status queries for some client ids cannot be answered (the venue unreachable for them). */
class StatusBlindVenue extends SimVenue {
  readonly blind = new Set<string>()
  override orderStatus(clientOrderId: string): Promise<VenueOutcome<VenueOrder | null>> {
    if (this.blind.has(clientOrderId)) return Promise.resolve({ kind: 'unknown', reason: 'unreachable' })
    return super.orderStatus(clientOrderId)
  }
}

function venueAt(clock: SimClock): StatusBlindVenue {
  return new StatusBlindVenue({ clock, seed: SEED, instruments: simInstrumentsFor(defaultSimInstruments()), latencyMsMin: 5, latencyMsMax: 5 })
}

/** Places one resting buy per tag while the venue drops every request, then crashes with the calls in flight. */
async function crashWithPlacesLost(tags: string[]): Promise<{ world: World; venue: StatusBlindVenue; ids: string[] }> {
  const clock = new SimClock({ startMs: T0 })
  const venue = venueAt(clock)
  venue.setFaults({ dropRequestProbability: 1 })
  const world = await startWorld({ seed: SEED, clock, venue, params: PARAMS })
  const ids: string[] = []
  for (const tag of tags) {
    const placed = await world.gateway.place(traderA, { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '59000', client_order_id: tag }, null)
    if (placed.reply.kind !== 'accepted') throw new Error(`expected ${tag} accepted, got ${JSON.stringify(placed.reply)}`)
    ids.push(placed.reply.orderId)
  }
  for (let step = 0; step < 100 && world.gateway.executor.stats.sends < tags.length; step++) await clock.advanceAsync(1)
  expect(world.gateway.executor.stats.sends).toBe(tags.length)
  await crashWorld(world)
  venue.setFaults({})
  return { world, venue, ids }
}

/**
 * A and B were in flight at a crash and never reached the venue. The next start proves A absent at once; B's status
 * cannot be read, so that start waits for B — and crashes 5 s in (`crashed`, a copy of its data dir then), A Failed
 * and not yet resent. The venue is answerable again and knows neither.
 */
async function crashedBetweenProofAndResend(): Promise<{ crashed: string; clock: SimClock; venue: StatusBlindVenue; a: string; b: string }> {
  const { world: first, venue, ids } = await crashWithPlacesLost(['A', 'B'])
  const [a, b] = ids as [string, string]
  venue.blind.add(`eg-${b}`)
  const crashed = tempDataDir()
  first.clock.schedule(5_000, () => {
    cpSync(first.dir, crashed, { recursive: true })
    // What the copied process did after this moment never happened: nothing it sends may reach the venue.
    venue.setFaults({ dropRequestProbability: 1, dropReportProbability: 1 })
  })
  const second = await startWorld({ seed: SEED, dir: first.dir, clock: first.clock, venue, params: PARAMS })
  worlds.push(second)
  await crashWorld(second)
  const atCrash = logEvents(crashed)
  expect(atCrash.some((event) => event.type === 'order.reconciled' && event.orderId === a && event.to === 'Failed')).toBe(true)
  expect(countOf(atCrash, 'order.resend_requested', a)).toBe(0)
  venue.setFaults({})
  venue.blind.clear()
  return { crashed, clock: first.clock, venue, a, b }
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

function countOf(events: DomainEvent[], type: DomainEvent['type'], orderId: string): number {
  return events.filter((event) => event.type === type && (event as { orderId?: string }).orderId === orderId).length
}

/** Orders the venue holds under the order's client id. */
function heldAtVenue(venue: SimVenue, orderId: string): number {
  return venue.inspect().orders.filter((order) => order.clientOrderIds.includes(`eg-${orderId}`)).length
}

describe('bootstrap resends what the venue proved it never received', () => {
  test('a crash after a start proved an order never received, before it recorded the resend: the next start resends it, once', async () => {
    const { crashed, clock, venue, a, b } = await crashedBetweenProofAndResend()
    const third = await startWorld({ seed: SEED, dir: crashed, clock, venue, params: PARAMS })
    worlds.push(third)
    await run(third, 5_000)
    expect(third.gateway.bootstrapReport?.resent.sort()).toEqual([a, b].sort())
    for (const orderId of [a, b]) {
      expect(third.gateway.engine.state.orders.get(orderId)?.status).toBe('AckedOpen')
      expect(heldAtVenue(venue, orderId)).toBe(1)
      expect(countOf(logEvents(third.dir), 'order.resend_requested', orderId)).toBe(1)
    }
    expect(venue.inspect().requests.duplicatePlaces).toBe(0)

    // One more start sends nothing again.
    await third.gateway.stop()
    const fourth = await startWorld({ seed: SEED, dir: crashed, clock, venue, params: PARAMS })
    worlds.push(fourth)
    await run(fourth, 2_000)
    expect(fourth.gateway.bootstrapReport?.resent).toEqual([])
    for (const orderId of [a, b]) expect(heldAtVenue(venue, orderId)).toBe(1)
    expect(venue.inspect().requests.duplicatePlaces).toBe(0)
  })

  test('the next start after such a crash still resends nothing older than resendAgeMsMax, and clears its mark', async () => {
    const { crashed, clock, venue, a, b } = await crashedBetweenProofAndResend()
    await clock.advanceAsync(RESEND_AGE_MS_MAX)
    const third = await startWorld({ seed: SEED, dir: crashed, clock, venue, params: PARAMS })
    worlds.push(third)
    await run(third, 5_000)
    expect(third.gateway.bootstrapReport?.resent).toEqual([])
    for (const orderId of [a, b]) {
      expect(third.gateway.engine.state.orders.get(orderId)).toMatchObject({ status: 'Failed', notAtVenue: true, bootstrapSuspect: false })
      expect(heldAtVenue(venue, orderId)).toBe(0)
    }
  })

  test('a crash at any record of a start ends with each order at the venue once, resent only when the venue lacks it', async () => {
    // A full start: A proven absent and resent; B unreadable for the whole wait, so the start gives up on it and
    // clears its mark. Then every prefix of that start's records is started again, against a venue as the crash left
    // it: without A before A's resend was sent; after, with A or without it (the call lost) until its answer is in.
    const { world: first, venue, ids } = await crashWithPlacesLost(['A', 'B'])
    const [a, b] = ids as [string, string]
    const startLsn = first.gateway.engine.wal.lastLsn
    venue.blind.add(`eg-${b}`)
    const second = await startWorld({ seed: SEED, dir: first.dir, clock: first.clock, venue, params: { ...PARAMS, reconcileRecheckMs: 10_000 } })
    worlds.push(second)
    expect(second.gateway.bootstrapReport?.resent).toEqual([a])
    const orderA = second.gateway.engine.state.orders.get(a)
    if (orderA === undefined) throw new Error('A is not held')
    // Past the start: A's call answered, so the cuts include a log where the venue is known to hold it.
    await run(second, 1_000)
    expect(second.gateway.engine.state.orders.get(a)?.status).toBe('AckedOpen')
    await crashWorld(second)
    const events: { lsn: number; event: DomainEvent }[] = []
    const log = openReadOnly(join(first.dir, 'log'))
    for (const frame of log.read(startLsn + 1)) {
      const event = domainEventOf(frame)
      if (event !== null) events.push({ lsn: frame.lsn, event })
    }
    const lsnOf = (type: DomainEvent['type'], orderId: string): number => {
      const found = events.find(({ event }) => event.type === type && 'orderId' in event && event.orderId === orderId)
      if (found === undefined) throw new Error(`no ${type} of ${orderId} in the start's records`)
      return found.lsn
    }
    const sentLsn = lsnOf('order.send_requested', a)
    // The first record after the send that shows the venue's answer (a report or the call's answer): the venue holds A.
    const answeredLsn = events.find(({ lsn, event }) => lsn > sentLsn && 'orderId' in event && event.orderId === a)?.lsn ?? Number.POSITIVE_INFINITY
    const lastLsn = events.at(-1)?.lsn ?? startLsn
    // The crash points the spec is about are all among the cuts, in this order.
    const milestones = [lsnOf('order.suspect_marked', a), lsnOf('order.reconciled', a), lsnOf('order.resend_requested', a), sentLsn, answeredLsn]
    expect(milestones.every((milestone, index) => index === 0 || milestone > (milestones[index - 1] as number))).toBe(true)
    expect(lastLsn).toBeGreaterThanOrEqual(Math.max(answeredLsn, lsnOf('order.suspect_cleared', b)))

    const restartAtMs = first.clock.nowMs()
    let cuts = 0
    for (let lsn = startLsn; lsn <= lastLsn; lsn++) {
      const variants = lsn < sentLsn ? [false] : lsn < answeredLsn ? [false, true] : [true]
      for (const aAtVenue of variants) {
        const where = `cut after LSN ${lsn} (${lsn === startLsn ? 'before the start' : events.find((entry) => entry.lsn === lsn)?.event.type}), A ${aAtVenue ? 'at' : 'not at'} the venue`
        const clock = new SimClock({ startMs: restartAtMs })
        const freshVenue = venueAt(clock)
        if (aAtVenue) {
          const { venueClientOrderId, accountId, symbol, side, type, qty, price, tif, postOnly, reduceOnly } = orderA
          void freshVenue.place({ clientOrderId: venueClientOrderId, account: accountId, symbol, side, type, qty, ...(price === null ? {} : { price }), tif, postOnly, reduceOnly })
          await clock.advanceAsync(50)
        }
        const dir = crashCopyAt(first.dir, lsn)
        const kept = openReadOnly(join(dir, 'log')).lastLsn
        if (kept !== lsn) {
          // A cut inside a decision: the open cuts the decision's frames back to where it began (wal/frame.ts), a cut
          // point of its own, tried in its turn.
          expect({ where, kept: kept < lsn && kept >= startLsn }).toEqual({ where, kept: true })
          removeDir(dir)
          continue
        }
        const world = await startWorld({ seed: SEED, dir, clock, venue: freshVenue, params: PARAMS })
        try {
          await run(world, 3_000)
          const all = logEvents(dir)
          const resendsBefore = countOf(events.filter((entry) => entry.lsn <= lsn).map((entry) => entry.event), 'order.resend_requested', a)
          const observed = (orderId: string) => ({
            where,
            status: world.gateway.engine.state.orders.get(orderId)?.status,
            atVenue: heldAtVenue(freshVenue, orderId),
            resentAfterCut: countOf(all, 'order.resend_requested', orderId) - (orderId === a ? resendsBefore : 0),
          })
          // A is resent after the cut only if the venue does not hold it and the start before did not already resend it.
          const aResent = !aAtVenue && (resendsBefore === 0 || lsn >= sentLsn) ? 1 : 0
          expect(observed(a)).toEqual({ where, status: 'AckedOpen', atVenue: 1, resentAfterCut: aResent })
          expect(observed(b)).toEqual({ where, status: 'AckedOpen', atVenue: 1, resentAfterCut: 1 })
          expect({ where, duplicatePlaces: freshVenue.inspect().requests.duplicatePlaces }).toEqual({ where, duplicatePlaces: 0 })
          cuts++
        } finally {
          await world.gateway.stop().catch(() => undefined)
          removeDir(dir)
        }
      }
    }
    expect(cuts).toBeGreaterThan(10)
  }, 60_000)
})

describe('what bootstrap does not resend', () => {
  test('an order proven never received while running stays Failed across a restart', async () => {
    const clock = new SimClock({ startMs: T0 })
    const venue = venueAt(clock)
    const world = await startWorld({ seed: SEED, clock, venue, params: PARAMS })
    worlds.push(world)
    venue.setFaults({ dropRequestProbability: 1 })
    const placed = await world.gateway.place(traderA, { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '59000', client_order_id: 'R' }, null)
    if (placed.reply.kind !== 'accepted') throw new Error(`expected accepted, got ${JSON.stringify(placed.reply)}`)
    const orderId = placed.reply.orderId
    await run(world, 500)
    venue.setFaults({})
    await run(world, 10_000)
    expect(world.gateway.engine.state.orders.get(orderId)).toMatchObject({ status: 'Failed', notAtVenue: true })

    await crashWorld(world)
    const restarted = await startWorld({ seed: SEED, dir: world.dir, clock, venue, params: PARAMS })
    worlds.push(restarted)
    await run(restarted, 5_000)
    expect(restarted.gateway.bootstrapReport?.resent).toEqual([])
    expect(restarted.gateway.engine.state.orders.get(orderId)?.status).toBe('Failed')
    expect(heldAtVenue(venue, orderId)).toBe(0)
    expect(countOf(logEvents(restarted.dir), 'order.resend_requested', orderId)).toBe(0)
  })

  test('a suspect still Unknown when its start stopped waiting, proven never received later while running, stays Failed across a restart', async () => {
    const { world: first, venue, ids } = await crashWithPlacesLost(['C'])
    const [c] = ids as [string]
    venue.blind.add(`eg-${c}`)
    const second = await startWorld({ seed: SEED, dir: first.dir, clock: first.clock, venue, params: PARAMS })
    worlds.push(second)
    expect(second.gateway.bootstrapReport).toMatchObject({ unknownAfterWait: 1, resent: [] })
    expect(second.gateway.engine.state.orders.get(c)).toMatchObject({ status: 'Unknown' })
    venue.blind.clear()
    await run(second, 5_000)
    expect(second.gateway.engine.state.orders.get(c)).toMatchObject({ status: 'Failed', notAtVenue: true })

    await crashWorld(second)
    const third = await startWorld({ seed: SEED, dir: first.dir, clock: first.clock, venue, params: PARAMS })
    worlds.push(third)
    await run(third, 5_000)
    expect(third.gateway.bootstrapReport?.resent).toEqual([])
    expect(third.gateway.engine.state.orders.get(c)?.status).toBe('Failed')
    expect(heldAtVenue(venue, c)).toBe(0)
  })
})
