/**
 * "No double orders, no lost acknowledged orders" at every crash point of the executor's send path. One scenario —
 * places, two amends in a row, a cancel, a cancel while the place is in flight, a cancel while an amend is in flight,
 * a marketable place — is run once per order-entry call it makes, and the process is killed at that call: either just
 * before the call leaves (its send record durable, the venue never sees it) or just after (the venue has it, its
 * answer is lost). The venue lives on; the gateway restarts from its log and runs until everything has converged.
 * Then the venue must have received each place, cancel and amend at most once (a place only once per order, however
 * often the crash makes egress doubt it), every order must agree with the venue, none may be left Unknown, and a
 * client retrying any of its places with the same key after the restart must get its first answer back.
 */

import { describe, expect, test } from 'bun:test'
import { parseDecimal } from '../../src/domain/decimal.ts'
import { defaultSimInstruments } from '../../src/domain/instruments.ts'
import { SimClock } from '../../src/runtime/index.ts'
import { simInstrumentsFor } from '../../src/runtime/paper.ts'
import type {
  AmendRequest,
  CancelRequest,
  ExecutionReport,
  PlaceAck,
  PlaceRequest,
  VenueBalance,
  VenueOrder,
  VenueOutcome,
  VenueTrade,
} from '../../src/venues/adapter.ts'
import { SimVenue } from '../../src/venues/sim/index.ts'
import { crashWorld, removeDir, run, startWorld, T0, traderA, type World } from './harness.ts'

const SEED = 11
const PARAMS = { reconcileGraceMs: 1_000, reconcileRecheckMs: 200 }

type EntryOp = 'place' | 'cancel' | 'amend'

interface CrashPoint {
  /** The order-entry call (0-based, in the order the process makes them) the process dies at. */
  index: number
  /** Whether that call reaches the venue before the process dies (its answer is lost either way). */
  reaches: boolean
}

/** Never settles: what a dead process's pending calls and answers come to. */
const NEVER = new Promise<never>(() => {})

/**
 * The sim venue as one process sees it, with a kill switch: at the crash point's call the process dies (`onCrash`
 * stops its executor and report intake at that instant), and from then on nothing it sends reaches the venue and no
 * answer reaches it, until `revive()` (the restarted process). Records every order-entry call that reached the venue.
 */
class CrashPointVenue extends SimVenue {
  readonly reached: { op: EntryOp; clientOrderId: string; origClientOrderId: string | null; possibleResend: boolean }[] = []
  crashPoint: CrashPoint | null = null
  onCrash: () => void = () => {}
  crashed = false
  /** Crashes so far. */
  crashes = 0
  #entryCount = 0
  #dead = false
  #generation = 0

  override place(request: PlaceRequest): Promise<VenueOutcome<PlaceAck>> {
    return this.#entry('place', request.clientOrderId, null, () => super.place(request), request.possibleResend === true)
  }

  override cancel(request: CancelRequest): Promise<VenueOutcome<{ accepted: true }>> {
    return this.#entry('cancel', request.clientOrderId, request.origClientOrderId, () => super.cancel(request))
  }

  override amend(request: AmendRequest): Promise<VenueOutcome<{ accepted: true }>> {
    return this.#entry('amend', request.clientOrderId, request.origClientOrderId, () => super.amend(request))
  }

  override orderStatus(clientOrderId: string): Promise<VenueOutcome<VenueOrder | null>> {
    return this.#query(() => super.orderStatus(clientOrderId))
  }

  override openOrders(account?: string): Promise<VenueOutcome<VenueOrder[]>> {
    return this.#query(() => super.openOrders(account))
  }

  override trades(options: { account?: string; clientOrderId?: string }): Promise<VenueOutcome<VenueTrade[]>> {
    return this.#query(() => super.trades(options))
  }

  override balances(account: string): Promise<VenueOutcome<VenueBalance[]>> {
    return this.#query(() => super.balances(account))
  }

  override onReport(handler: (report: ExecutionReport) => void): () => void {
    const generation = this.#generation
    return super.onReport((report) => {
      if (!this.#dead && generation === this.#generation) handler(report)
    })
  }

  /** The restarted process: calls reach the venue again (the dead one's answers stay lost). */
  revive(): void {
    this.#dead = false
  }

  /** The index the next order-entry call will have (a crash point for the process running now). */
  get nextEntryIndex(): number {
    return this.#entryCount
  }

  #entry<T>(op: EntryOp, clientOrderId: string, origClientOrderId: string | null, call: () => Promise<VenueOutcome<T>>, possibleResend = false): Promise<VenueOutcome<T>> {
    if (this.#dead) return NEVER
    const index = this.#entryCount++
    const crashing = this.crashPoint !== null && this.crashPoint.index === index ? this.crashPoint : null
    if (crashing !== null && !crashing.reaches) return this.#die()
    this.reached.push({ op, clientOrderId, origClientOrderId, possibleResend })
    const answer = call()
    if (crashing !== null) return this.#die()
    return this.#alive(answer)
  }

  #query<T>(call: () => Promise<VenueOutcome<T>>): Promise<VenueOutcome<T>> {
    if (this.#dead) return NEVER
    return this.#alive(call())
  }

  /** The answer, unless the process that asked died meanwhile. */
  #alive<T>(answer: Promise<VenueOutcome<T>>): Promise<VenueOutcome<T>> {
    const generation = this.#generation
    return answer.then((outcome) => (generation === this.#generation ? outcome : NEVER))
  }

  #die(): Promise<never> {
    this.crashPoint = null
    this.crashed = true
    this.crashes++
    this.#dead = true
    this.#generation++
    this.onCrash()
    return NEVER
  }
}

function venueAt(clock: SimClock): CrashPointVenue {
  // No price moves: what rests stays resting and what crosses fills, whenever the scenario is cut.
  return new CrashPointVenue({ clock, seed: SEED, instruments: simInstrumentsFor(defaultSimInstruments()), latencyMsMin: 5, latencyMsMax: 5, priceStepTicksMax: 0 })
}

const PLACES = {
  // Rests (below the 60000 opening price); amended twice, then canceled.
  A: { side: 'buy', qty: '0.01', price: '59000' },
  // Rests; canceled while its place is in flight.
  B: { side: 'buy', qty: '0.02', price: '58000' },
  // Crosses: filled at once.
  C: { side: 'buy', qty: '0.01', price: '60100' },
  // Rests; amended and canceled while the amend is in flight.
  D: { side: 'sell', qty: '0.01', price: '61000' },
} as const
type Tag = keyof typeof PLACES

function bodyOf(tag: Tag): Record<string, string> {
  const { side, qty, price } = PLACES[tag]
  return { account: 'acct-a', symbol: 'BTC-USD', side, type: 'limit', qty, price, client_order_id: `crash-${tag}` }
}

/** The scenario; stops at the first step after the process died. Returns the order ids of the places it made. */
async function scenario(world: World, venue: CrashPointVenue): Promise<Map<Tag, string>> {
  const ids = new Map<Tag, string>()
  const { gateway } = world
  const place = async (tag: Tag): Promise<string> => {
    const placed = await gateway.place(traderA, bodyOf(tag), null)
    if (placed.reply.kind !== 'accepted') throw new Error(`${tag} not accepted: ${JSON.stringify(placed.reply)}`)
    ids.set(tag, placed.reply.orderId)
    return placed.reply.orderId
  }
  const a = (): string => ids.get('A') as string
  const d = (): string => ids.get('D') as string
  // One action at a time: a process that died takes no command after its death.
  const actions: (() => Promise<unknown>)[] = [
    () => place('A'),
    () => run(world, 50),
    () => gateway.amend(traderA, a(), { qty: parseDecimal('0.02'), price: null }),
    () => run(world, 50),
    () => gateway.amend(traderA, a(), { qty: null, price: parseDecimal('59500') }),
    () => run(world, 50),
    () => gateway.cancel(traderA, a()),
    () => run(world, 50),
    () => place('B'),
    () => run(world, 1),
    () => gateway.cancel(traderA, ids.get('B') as string),
    () => run(world, 50),
    () => place('C'),
    () => run(world, 50),
    () => place('D'),
    () => run(world, 50),
    () => gateway.amend(traderA, d(), { qty: parseDecimal('0.02'), price: null }),
    () => run(world, 1),
    () => gateway.cancel(traderA, d()),
    () => run(world, 50),
  ]
  for (const action of actions) {
    if (venue.crashed) break
    await action()
  }
  return ids
}

interface Outcome {
  reached: CrashPointVenue['reached']
  world: World
  venue: CrashPointVenue
  ids: Map<Tag, string>
  /** The snapshot the restart loaded (null: none) and the first LSN its log still held (> 1: compacted). */
  restoredFrom: { snapshotLsn: number | null; firstLsn: number }
}

/**
 * How the process keeps its state: the log alone, or also snapshots every few records with the log compacted behind
 * them (small segments, so the restart loads a snapshot taken close to the crash and the idempotency keys and calls in
 * flight come from it, with the segments before it deleted).
 */
type Keeping = 'log' | 'snapshots'

function storageOf(keeping: Keeping): Pick<Parameters<typeof startWorld>[0], 'snapshots' | 'wal'> {
  if (keeping === 'log') return {}
  return { snapshots: { everyRecords: 4, keep: 1, atShutdown: false, compaction: 'delete' }, wal: { segmentBytesMax: 4096 } }
}

/** Kills `world`'s process at the instant the venue's crash point is reached: its executor and report intake stop. */
function killedAtCrashPoint(world: World): () => void {
  return () => {
    world.gateway.executor.stop()
    for (const unsubscribe of world.gateway['unsubscribes'].splice(0)) unsubscribe()
  }
}

/**
 * Runs the scenario, killed at `crashPoint` (null: not killed), restarts, and runs until everything converged. With
 * `again`, the restarted process is killed too, at its own first order-entry call (a resend, a cancel sent again),
 * before that call leaves or after it reached the venue, and the process started after it runs to convergence.
 */
async function runCrashedAt(crashPoint: CrashPoint | null, keeping: Keeping = 'log', again: { reaches: boolean } | null = null): Promise<Outcome> {
  const clock = new SimClock({ startMs: T0 })
  const venue = venueAt(clock)
  const first = await startWorld({ seed: SEED, clock, venue, params: PARAMS, ...storageOf(keeping) })
  venue.crashPoint = crashPoint
  venue.onCrash = killedAtCrashPoint(first)
  const ids = await scenario(first, venue)
  // A snapshot's compaction checks its basis in a thread before it removes anything (basis-check.ts): on the sim's
  // clock the scenario is over before the first check answers. The kill comes once the snapshotter is done, as it did
  // when that check ran on the event loop right after the snapshot (else no restart would find a compacted log).
  await first.gateway.snapshotter.idle()
  await crashWorld(first)
  venue.revive()
  let world: World
  if (again === null) {
    world = await startWorld({ seed: SEED, dir: first.dir, clock, venue, params: PARAMS, ...storageOf(keeping) })
  } else {
    // The restart's calls start during its bootstrap, before startWorld returns: the kill is armed before it.
    const restart: { world: World | null; killed: boolean } = { world: null, killed: false }
    venue.crashPoint = { index: venue.nextEntryIndex, reaches: again.reaches }
    venue.onCrash = () => {
      restart.killed = true
      if (restart.world !== null) killedAtCrashPoint(restart.world)()
    }
    const second = await startWorld({ seed: SEED, dir: first.dir, clock, venue, params: PARAMS, ...storageOf(keeping) })
    restart.world = second
    if (restart.killed) killedAtCrashPoint(second)()
    else await run(second, 10_000)
    venue.crashPoint = null
    await crashWorld(second)
    venue.revive()
    world = await startWorld({ seed: SEED, dir: first.dir, clock, venue, params: PARAMS, ...storageOf(keeping) })
  }
  await run(world, 10_000)
  const restoredFrom = { snapshotLsn: world.gateway.restoreReport?.snapshot?.lsn ?? null, firstLsn: world.gateway.engine.wal.firstLsn }
  return { reached: venue.reached, world, venue, ids, restoredFrom }
}

function venueOrdersOf(venue: SimVenue, orderId: string): ReturnType<SimVenue['inspect']>['orders'][number][] {
  return venue.inspect().orders.filter((order) => order.clientOrderIds.includes(`eg-${orderId}`))
}

const VENUE_TO_EGRESS: Record<string, string> = { open: 'AckedOpen', partially_filled: 'Partial', filled: 'Filled', canceled: 'Canceled', rejected: 'Rejected', expired: 'Expired' }

/** What the crash must not break, as a list of findings (empty: none). */
async function findings(outcome: Outcome, where: string): Promise<string[]> {
  const { reached, world, venue, ids } = outcome
  const found: string[] = []
  const perId = new Map<string, number>()
  for (const entry of reached) perId.set(`${entry.op} ${entry.clientOrderId}`, (perId.get(`${entry.op} ${entry.clientOrderId}`) ?? 0) + 1)
  for (const [key, count] of perId) if (count > 1) found.push(`${where}: ${key} reached the venue ${count} times`)
  const cancelsPerOrder = new Map<string, number>()
  for (const entry of reached) if (entry.op === 'cancel') cancelsPerOrder.set(entry.origClientOrderId ?? '', (cancelsPerOrder.get(entry.origClientOrderId ?? '') ?? 0) + 1)
  for (const [orig, count] of cancelsPerOrder) if (count > 1) found.push(`${where}: ${count} cancels of ${orig} reached the venue`)
  const duplicatePlaces = venue.inspect().requests.duplicatePlaces
  if (duplicatePlaces !== 0) found.push(`${where}: the venue saw ${duplicatePlaces} places of a client order id it held`)
  for (const [tag, orderId] of ids) {
    const order = world.gateway.engine.state.orders.get(orderId)
    const atVenue = venueOrdersOf(venue, orderId)
    if (atVenue.length > 1) found.push(`${where}: ${tag} has ${atVenue.length} venue orders`)
    if (order === undefined) {
      found.push(`${where}: ${tag} (${orderId}) was acknowledged and is gone`)
      continue
    }
    const venueOrder = atVenue[0]
    const expected = venueOrder === undefined ? 'Failed' : VENUE_TO_EGRESS[venueOrder.status]
    if (order.status !== expected) found.push(`${where}: ${tag} is ${order.status}, the venue says ${venueOrder?.status ?? 'nothing'}`)
    if (venueOrder !== undefined && order.cumQty !== venueOrder.cumQty) found.push(`${where}: ${tag} holds ${order.cumQty} filled, the venue ${venueOrder.cumQty}`)
    if (venueOrder !== undefined && order.status !== 'Canceled' && order.status !== 'Filled' && order.qty !== venueOrder.qty) {
      found.push(`${where}: ${tag} holds qty ${order.qty}, the venue ${venueOrder.qty}`)
    }
    // The client retries its place with the same key after the restart: the first answer, never a second order.
    const retried = await world.gateway.place(traderA, bodyOf(tag), null)
    if (retried.reply.kind !== 'accepted' || retried.reply.orderId !== orderId || !retried.reply.duplicate) {
      found.push(`${where}: retrying ${tag}'s place answered ${JSON.stringify(retried.reply)}`)
    }
  }
  const placesBefore = reached.filter((entry) => entry.op === 'place').length
  await run(world, 1_000)
  if (reached.filter((entry) => entry.op === 'place').length !== placesBefore) found.push(`${where}: a retried place reached the venue`)
  return found
}

describe('a crash at any order-entry call sends nothing twice and loses no acknowledged order', () => {
  test('the uncrashed scenario makes the calls the crash points cut', async () => {
    const outcome = await runCrashedAt(null)
    try {
      expect(outcome.reached.map((entry) => entry.op)).toEqual(['place', 'amend', 'amend', 'cancel', 'place', 'cancel', 'place', 'place', 'amend', 'cancel'])
      expect(outcome.reached.filter((entry) => entry.possibleResend)).toEqual([])
      expect(await findings(outcome, 'no crash')).toEqual([])
    } finally {
      await outcome.world.gateway.stop().catch(() => undefined)
      removeDir(outcome.world.dir)
    }
  }, 60_000)

  test.each(['log', 'snapshots'] as const)('killed before or after each call, restarted from the %s', async (keeping) => {
    const calls = 10
    const all: string[] = []
    const restored = { fromSnapshot: 0, compacted: 0 }
    for (let index = 0; index < calls; index++) {
      for (const reaches of [false, true]) {
        const where = `killed at call ${index} ${reaches ? 'after it reached the venue' : 'before it left'}`
        const outcome = await runCrashedAt({ index, reaches }, keeping)
        try {
          expect({ where, crashed: outcome.venue.crashed }).toEqual({ where, crashed: true })
          all.push(...(await findings(outcome, where)))
          // A place cut before it left is sent again by the restart (if at all) as a possible resend, so a venue
          // protocol that can tell the venue to check the id does (FIX PossResend); every first attempt goes without.
          const resent = outcome.reached.filter((entry, at) => entry.op === 'place' && (entry.possibleResend !== (!reaches && at >= index)))
          if (resent.length > 0) all.push(`${where}: possibleResend wrong on ${resent.map((entry) => `${entry.clientOrderId}=${entry.possibleResend}`).join(', ')}`)
          const unknown = [...outcome.ids.values()].filter((orderId) => outcome.world.gateway.engine.state.orders.get(orderId)?.status === 'Unknown')
          if (unknown.length > 0) all.push(`${where}: ${unknown.join(', ')} still Unknown`)
          if (outcome.restoredFrom.snapshotLsn !== null) restored.fromSnapshot++
          if (outcome.restoredFrom.firstLsn > 1) restored.compacted++
        } finally {
          await outcome.world.gateway.stop().catch(() => undefined)
          removeDir(outcome.world.dir)
        }
      }
    }
    expect(all).toEqual([])
    // The snapshot variant restarted from snapshots, some with the log's first segments deleted (snapshots are taken
    // in the background, so which crash points find one varies a little; the first calls come before any).
    if (keeping === 'snapshots') {
      expect(restored.fromSnapshot).toBeGreaterThanOrEqual(calls)
      expect(restored.compacted).toBeGreaterThanOrEqual(2)
    } else {
      expect(restored).toEqual({ fromSnapshot: 0, compacted: 0 })
    }
  }, 300_000)

  test('killed again at the first call the restarted process makes (a resend, a cancel sent again), before it left or after it reached the venue', async () => {
    const calls = 10
    const all: string[] = []
    let killedTwice = 0
    for (let index = 0; index < calls; index++) {
      for (const reaches of [false, true]) {
        for (const againReaches of [false, true]) {
          const where = `killed at call ${index} ${reaches ? 'after it reached the venue' : 'before it left'}, then at the restart's first call ${againReaches ? 'after it reached the venue' : 'before it left'}`
          const outcome = await runCrashedAt({ index, reaches }, 'log', { reaches: againReaches })
          try {
            if (outcome.venue.crashes === 2) killedTwice++
            all.push(...(await findings(outcome, where)))
            const unknown = [...outcome.ids.values()].filter((orderId) => outcome.world.gateway.engine.state.orders.get(orderId)?.status === 'Unknown')
            if (unknown.length > 0) all.push(`${where}: ${unknown.join(', ')} still Unknown`)
          } finally {
            await outcome.world.gateway.stop().catch(() => undefined)
            removeDir(outcome.world.dir)
          }
        }
      }
    }
    expect(all).toEqual([])
    // A restart makes a call of its own where the first crash left one to make again: A's place and cancel, B's cancel,
    // D's place (the calls cut before they left), and the cancels the scenario never got to send after a crash: 14 of
    // the 40 runs when this was written.
    expect(killedTwice).toBeGreaterThanOrEqual(8)
  }, 300_000)
})
