/**
 * One venue's read-backs never take the whole call budget (callsInFlightMax, all venues): a venue that stops answering
 * after a mass cancel leaves every canceled order Unknown with its cancel wanted, and those read-backs rank right
 * after Lane0, ahead of every place, each holding two calls for a request timeout. Before, they took every call the
 * budget freed, and the places to another venue, healthy, waited for as long as the first one was out.
 */

import { describe, expect, test } from 'bun:test'
import type { KernelConfig } from '../../src/domain/kernel-config.ts'
import { defaultSimInstruments, instrumentKey } from '../../src/domain/instruments.ts'
import { simDepositsOf, simInstrumentsFor } from '../../src/runtime/paper.ts'
import { SimClock } from '../../src/runtime/index.ts'
import { SimVenue } from '../../src/venues/sim/index.ts'
import { ACCOUNTS, CALLS_IN_FLIGHT_MAX, run, startWorld, T0, traderA, worldsStoppedAfterEach, type World } from './harness.ts'

const worlds = worldsStoppedAfterEach()
const OTHER = 'sim2'
const REQUEST_TIMEOUT_MS = 1_000
/** Unknown orders at the venue that is out: enough read-backs to hold the whole budget at every moment. */
const CANCELED = 3 * CALLS_IN_FLIGHT_MAX

/** `config` with the other venue's instruments (the sim's, under OTHER) configured and allowed. */
function withOther(config: KernelConfig): KernelConfig {
  const others = config.instruments.map((instrument) => ({ ...instrument, venue: OTHER }))
  const keys = others.map((instrument) => instrumentKey(OTHER, instrument.symbol))
  return { ...config, instruments: [...config.instruments, ...others], policies: config.policies.map((policy) => ({ ...policy, instruments: [...policy.instruments, ...keys] })) }
}

async function startTwoVenues(seed: number): Promise<{ world: World; other: SimVenue }> {
  const clock = new SimClock({ startMs: T0 })
  const venueOptions = { latencyMsMin: 2, latencyMsMax: 2, requestTimeoutMs: REQUEST_TIMEOUT_MS }
  const other = new SimVenue({ clock, seed: seed + 1, venue: OTHER, instruments: simInstrumentsFor(defaultSimInstruments()), deposits: simDepositsOf(ACCOUNTS), ...venueOptions })
  const world = await startWorld({ seed, clock, configure: withOther, otherVenues: [other], venueOptions, reconcileSweepMs: 0 })
  worlds.push(world)
  return { world, other }
}

async function place(world: World, venue: string, clientOrderId: string): Promise<string> {
  const body = { account: 'acct-a', venue, symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '58500', tif: 'GTC', client_order_id: clientOrderId }
  const placed = await world.gateway.place(traderA, body, null)
  if (placed.reply.kind !== 'accepted') throw new Error(`expected accepted, got ${JSON.stringify(placed.reply)}`)
  return placed.reply.orderId
}

describe("a venue's read-backs and the call budget", () => {
  test('places to a healthy venue go while another venue leaves every read-back of its canceled orders unanswered', async () => {
    const { world, other } = await startTwoVenues(91201)
    const resting: string[] = []
    for (let index = 0; index < CANCELED; index++) {
      resting.push(await place(world, 'sim', `rest-${index}`))
      if (index % 32 === 31) await run(world, 20, 1)
    }
    await run(world, 50, 1)
    for (const orderId of resting) expect(world.gateway.engine.state.orders.get(orderId)?.status).toBe('AckedOpen')
    const nowMs = world.clock.nowMs()
    world.venue.setFaults({ outages: [{ startMs: nowMs, endMs: nowMs + 60_000, calls: 'unknown', reports: 'hold' }] })
    for (const orderId of resting) expect((await world.gateway.cancel(traderA, orderId)).reply.kind).toBe('done')
    // Lane0 has 2 × callsPerInstrumentMax (128) slots on the instrument: the cancels are all answered (unknown) in two rounds.
    await run(world, 2 * REQUEST_TIMEOUT_MS + 100, 5)
    const unknown = resting.filter((orderId) => world.gateway.engine.state.orders.get(orderId)?.status === 'Unknown')
    expect(unknown.length).toBe(CANCELED)

    // The other venue answers in 2 ms: its places go within a few ms, whatever the first venue does.
    const placed: string[] = []
    for (let index = 0; index < 8; index++) placed.push(await place(world, OTHER, `healthy-${index}`))
    await run(world, 100, 1)
    expect(other.inspect().requests.calls.place).toBe(placed.length)
    for (const orderId of placed) expect(world.gateway.engine.state.orders.get(orderId)?.status).toBe('AckedOpen')
    // The first venue's read-backs go on meanwhile, in half the budget.
    const readBacks = world.gateway.executor.stats.reconciles
    expect(readBacks).toBeGreaterThanOrEqual(CALLS_IN_FLIGHT_MAX / 4)
    await run(world, REQUEST_TIMEOUT_MS + 600, 5)
    expect(world.gateway.executor.stats.reconciles).toBeGreaterThanOrEqual(readBacks + CALLS_IN_FLIGHT_MAX / 4)
    expect(world.errors).toEqual([])
  })
})
