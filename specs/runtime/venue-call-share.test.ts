/**
 * One venue's calls hold at most a share of the executor's call budget (callsInFlightMax, all venues): a venue that
 * stops answering keeps each call out until its deadline (twice its request timeout), and before, its queued places
 * took every call the budget freed and its cancels (Lane0, never held by the budget but counted in it) the rest, so the
 * places to another venue, healthy, waited a deadline at a time for as long as the first one had work queued. Lane0
 * calls to the venue that is out still go at once: a cancel is never held by the budget.
 */

import { describe, expect, test } from 'bun:test'
import type { KernelConfig } from '../../src/domain/kernel-config.ts'
import { defaultSimInstruments, instrumentKey } from '../../src/domain/instruments.ts'
import { simDepositsOf, simInstrumentsFor } from '../../src/runtime/paper.ts'
import { CallBudget } from '../../src/runtime/call-budget.ts'
import { SimClock } from '../../src/runtime/index.ts'
import type { AmendRequest, CancelRequest, PlaceAck, PlaceRequest, VenueOrder, VenueOutcome, VenueTrade } from '../../src/venues/adapter.ts'
import { SimVenue } from '../../src/venues/sim/index.ts'
import { ACCOUNTS, CALLS_IN_FLIGHT_MAX, run, startWorld, T0, traderA, worldsStoppedAfterEach, type World } from './harness.ts'

const worlds = worldsStoppedAfterEach()
const OTHER = 'sim2'
const REQUEST_TIMEOUT_MS = 1_000
/** The executor's deadline on the sim's calls: twice its request timeout. */
const DEADLINE_MS = 2 * REQUEST_TIMEOUT_MS

/** A sim venue that, once hung, answers no call: each is answered at the executor's deadline only. */
class HangVenue extends SimVenue {
  hung = false
  readonly callsHung = { place: 0, cancel: 0, amend: 0, query: 0 }

  override place(request: PlaceRequest): Promise<VenueOutcome<PlaceAck>> {
    return this.hung ? this.hang('place') : super.place(request)
  }

  override cancel(request: CancelRequest): Promise<VenueOutcome<{ accepted: true }>> {
    return this.hung ? this.hang('cancel') : super.cancel(request)
  }

  override amend(request: AmendRequest): Promise<VenueOutcome<{ accepted: true }>> {
    return this.hung ? this.hang('amend') : super.amend(request)
  }

  override orderStatus(clientOrderId: string): Promise<VenueOutcome<VenueOrder | null>> {
    return this.hung ? this.hang('query') : super.orderStatus(clientOrderId)
  }

  override trades(options: { account?: string; clientOrderId?: string }): Promise<VenueOutcome<VenueTrade[]>> {
    return this.hung ? this.hang('query') : super.trades(options)
  }

  override openOrders(account?: string): Promise<VenueOutcome<VenueOrder[]>> {
    return this.hung ? this.hang('query') : super.openOrders(account)
  }

  private hang<T>(call: keyof HangVenue['callsHung']): Promise<VenueOutcome<T>> {
    this.callsHung[call]++
    return new Promise<VenueOutcome<T>>(() => undefined)
  }
}

/** `config` with the other venue's instruments (the sim's, under OTHER) configured and allowed. */
function withOther(config: KernelConfig): KernelConfig {
  const others = config.instruments.map((instrument) => ({ ...instrument, venue: OTHER }))
  const keys = others.map((instrument) => instrumentKey(OTHER, instrument.symbol))
  return { ...config, instruments: [...config.instruments, ...others], policies: config.policies.map((policy) => ({ ...policy, instruments: [...policy.instruments, ...keys] })) }
}

async function startTwoVenues(seed: number, reconcileSweepMs = 0): Promise<{ world: World; hanging: HangVenue; other: SimVenue }> {
  const clock = new SimClock({ startMs: T0 })
  const venueOptions = { latencyMsMin: 2, latencyMsMax: 2, requestTimeoutMs: REQUEST_TIMEOUT_MS }
  const sim = { clock, instruments: simInstrumentsFor(defaultSimInstruments()), deposits: simDepositsOf(ACCOUNTS), ...venueOptions }
  const hanging = new HangVenue({ ...sim, seed })
  const other = new SimVenue({ ...sim, seed: seed + 1, venue: OTHER })
  const world = await startWorld({ seed, clock, venue: hanging, configure: withOther, otherVenues: [other], venueOptions, reconcileSweepMs })
  worlds.push(world)
  return { world, hanging, other }
}

async function place(world: World, venue: string, clientOrderId: string): Promise<string> {
  const body = { account: 'acct-a', venue, symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '58500', tif: 'GTC', client_order_id: clientOrderId }
  const placed = await world.gateway.place(traderA, body, null)
  if (placed.reply.kind !== 'accepted') throw new Error(`expected accepted, got ${JSON.stringify(placed.reply)}`)
  return placed.reply.orderId
}

const statusOf = (world: World, orderId: string) => world.gateway.engine.state.orders.get(orderId)?.status

describe("a venue's share of the call budget", () => {
  test('places to a healthy venue go at their pace while another venue answers nothing, and its cancels still go', async () => {
    const { world, hanging, other } = await startTwoVenues(92301)
    const resting: string[] = []
    for (let index = 0; index < CALLS_IN_FLIGHT_MAX; index++) resting.push(await place(world, 'sim', `rest-${index}`))
    await run(world, 50, 1)
    for (const orderId of resting) expect(statusOf(world, orderId)).toBe('AckedOpen')

    hanging.hung = true
    // Places queued to the venue that is out: more than the whole budget, three deadlines' worth of rounds.
    for (let index = 0; index < 3 * CALLS_IN_FLIGHT_MAX; index++) await place(world, 'sim', `stuck-${index}`)
    await run(world, 5, 1)
    for (const orderId of resting) expect((await world.gateway.cancel(traderA, orderId)).reply.kind).toBe('done')
    await run(world, 5, 1)
    // Lane0 is never held by the budget: every cancel reached the venue at once.
    expect(hanging.callsHung.cancel).toBe(resting.length)
    expect(hanging.callsHung.place).toBeGreaterThan(0)
    expect(hanging.callsHung.place).toBeLessThan(CALLS_IN_FLIGHT_MAX)

    // The other venue answers in 2 ms: each place of its is acked within a few ms, through three of the first's deadlines.
    const placed: string[] = []
    const slowest = { ms: 0 }
    for (let index = 0; index < 3 * DEADLINE_MS / 250; index++) {
      const orderId = await place(world, OTHER, `healthy-${index}`)
      placed.push(orderId)
      let waitedMs = 0
      while (statusOf(world, orderId) !== 'AckedOpen' && waitedMs < 250) {
        await world.clock.advanceAsync(1)
        waitedMs++
      }
      slowest.ms = Math.max(slowest.ms, waitedMs)
      await run(world, 250 - waitedMs, 5)
    }
    expect(other.inspect().requests.calls.place).toBe(placed.length)
    for (const orderId of placed) expect(statusOf(world, orderId)).toBe('AckedOpen')
    expect(slowest.ms).toBeLessThan(50)
    // The first venue's work went on meanwhile, within its share (three quarters): places after each deadline, read-backs.
    expect(hanging.callsHung.place).toBeGreaterThan(CALLS_IN_FLIGHT_MAX)
    expect(hanging.callsHung.query).toBeGreaterThan(0)
    expect(world.gateway.executor.callsTo('sim')).toBeLessThanOrEqual((3 * CALLS_IN_FLIGHT_MAX) / 4)
    expect(world.errors.filter((line) => !line.includes('VENUE_CALL_DEADLINE'))).toEqual([])
  })
})

describe("read-backs asked outside the pick stay within a venue's share", () => {
  test("a venue's reports asking for read-backs while it holds its share start none (they wait), and its calls stay within it", async () => {
    const { world, hanging } = await startTwoVenues(92302)
    const resting: string[] = []
    for (let index = 0; index < CALLS_IN_FLIGHT_MAX; index++) resting.push(await place(world, 'sim', `rest-${index}`))
    await run(world, 50, 1)
    hanging.hung = true
    for (let index = 0; index < 2 * CALLS_IN_FLIGHT_MAX; index++) await place(world, 'sim', `stuck-${index}`)
    await run(world, 5, 1)
    const share = (3 * CALLS_IN_FLIGHT_MAX) / 4
    expect(world.gateway.executor.callsTo('sim')).toBeLessThanOrEqual(share)
    const queriesBefore = hanging.callsHung.query
    // The venue's session asks for every resting order to be read back (reports it could not take, say).
    for (const orderId of resting) world.gateway.readBacks.askedByReport(orderId)
    await run(world, 5, 1)
    // Before: each started (the budget left counts the venue only up to its share), two calls each past it.
    expect(hanging.callsHung.query - queriesBefore).toBe(0)
    expect(world.gateway.executor.callsTo('sim')).toBeLessThanOrEqual(share)
    expect(world.gateway.executor.stats.callsInFlight).toBeLessThanOrEqual(CALLS_IN_FLIGHT_MAX)
    // Once the venue answers again, the waiting read-backs go.
    hanging.hung = false
    await run(world, 3 * DEADLINE_MS, 10)
    expect(world.gateway.executor.callsTo('sim')).toBe(0)
  })
})

describe("the open-order sweep stays within a venue's share", () => {
  test("a venue at its share has its open orders left to a later sweep, not read back past it", async () => {
    const { world, hanging } = await startTwoVenues(92303, 500)
    for (let index = 0; index < CALLS_IN_FLIGHT_MAX; index++) await place(world, 'sim', `rest-${index}`)
    await run(world, 50, 1)
    hanging.hung = true
    for (let index = 0; index < 2 * CALLS_IN_FLIGHT_MAX; index++) await place(world, 'sim', `stuck-${index}`)
    const share = (3 * CALLS_IN_FLIGHT_MAX) / 4
    let most = 0
    // Three sweeps while the venue answers nothing (its listing is not asked at its share: every quiet order is due).
    for (let elapsedMs = 0; elapsedMs < 1_600; elapsedMs += 5) {
      await run(world, 5, 1)
      most = Math.max(most, world.gateway.executor.callsTo('sim'))
    }
    expect(most).toBeLessThanOrEqual(share)
  })
})

describe('the call budget counts each venue up to its share', () => {
  const stats = () => ({ callsInFlight: 0 })

  test('a single venue: its share is the whole budget, every call counted', () => {
    const budget = new CallBudget(8, 1, stats())
    expect(budget.venueShare).toBe(8)
    for (let call = 0; call < 7; call++) budget.started('a')
    expect(budget.left).toBe(1)
    expect(budget.venueHeld('a')).toBe(true)
    budget.started('a')
    budget.started('a')
    expect(budget.left).toBe(0)
  })

  test("several venues: three quarters each, a venue's Lane0 past it held against its own work only", () => {
    const counts = stats()
    const budget = new CallBudget(8, 2, counts)
    expect(budget.venueShare).toBe(6)
    for (let call = 0; call < 4; call++) budget.started('a')
    expect(budget.venueHeld('a')).toBe(false)
    budget.started('a')
    // Less than a read-back's calls left of its share: none of its Lanes 1–3 work is picked.
    expect(budget.venueHeld('a')).toBe(true)
    // Its cancels go on (Lane0 is never held) and count in its calls, in the budget only up to its share.
    for (let call = 0; call < 10; call++) budget.started('a')
    expect(counts.callsInFlight).toBe(15)
    expect(budget.left).toBe(2)
    expect(budget.venueHeld('b')).toBe(false)
    budget.started('b')
    budget.started('b')
    expect(budget.left).toBe(0)
    // Its calls past its share end first in the count: the budget frees only as it goes below its share.
    for (let call = 0; call < 9; call++) budget.ended('a')
    expect(budget.left).toBe(0)
    budget.ended('a')
    expect(budget.left).toBe(1)
    expect(budget.venueHeld('a')).toBe(true)
    budget.ended('a')
    expect(budget.left).toBe(2)
    expect(budget.venueHeld('a')).toBe(false)
    expect(budget.callsTo('a')).toBe(4)
    expect(counts.callsInFlight).toBe(6)
  })

  test('a budget of two: a share still holds a read-back', () => {
    expect(new CallBudget(2, 3, stats()).venueShare).toBe(2)
    expect(new CallBudget(1, 3, stats()).venueShare).toBe(1)
  })
})
