/**
 * The venue's request budget per venue×symbol (the instrument's rateLimitPerSecond) paces the executor's places and
 * amends (src/runtime/send-pacing.ts): a token bucket of one second's worth, refilled at the rate. Before, the budget
 * was recorded and listed only: a burst of orders went out as fast as callsPerInstrumentMax let it, and a real venue
 * throttles or disconnects a client that exceeds its budget. Cancels spend it but are never held by it; other
 * instruments are not slowed; the budget is this process's (a restart sends each waiting order once, still paced).
 */

import { describe, expect, test } from 'bun:test'
import type { KernelConfig } from '../../src/domain/kernel-config.ts'
import type { AppliedEvent } from '../../src/runtime/engine-types.ts'
import type { World } from './harness.ts'
import { crashWorld, run, startWorld, traderA, worldsStoppedAfterEach } from './harness.ts'

const worlds = worldsStoppedAfterEach()
/** BTC-USD's budget in these worlds; ETH-USD keeps the sim's (which paces nothing). */
const RATE = 10

function btcPaced(config: KernelConfig): KernelConfig {
  return { ...config, instruments: config.instruments.map((instrument) => (instrument.symbol === 'BTC-USD' ? { ...instrument, rateLimitPerSecond: RATE } : instrument)) }
}

async function startPaced(seed: number, from?: World): Promise<World> {
  const again = from === undefined ? {} : { dir: from.dir, clock: from.clock, venue: from.venue }
  const world = await startWorld({ seed, configure: btcPaced, venueOptions: { latencyMsMin: 2, latencyMsMax: 2 }, ...again })
  worlds.push(world)
  return world
}

/** A resting limit buy (well below the market) on `symbol`; its order id. */
async function place(world: World, symbol: 'BTC-USD' | 'ETH-USD', clientOrderId: string): Promise<string> {
  const price = symbol === 'BTC-USD' ? '58500' : '2925'
  const body = { account: 'acct-a', symbol, side: 'buy', type: 'limit', qty: '0.01', price, tif: 'GTC', client_order_id: clientOrderId }
  const placed = await world.gateway.place(traderA, body, null)
  if (placed.reply.kind !== 'accepted') throw new Error(`expected accepted, got ${JSON.stringify(placed.reply)}`)
  return placed.reply.orderId
}

interface Sent {
  orderId: string
  atMs: number
}

/** The place and cancel send records the world makes durable from now on, in log order. */
function sendsOf(world: World): { places: Sent[]; cancels: Sent[] } {
  const sent = { places: [] as Sent[], cancels: [] as Sent[] }
  world.gateway.engine.onDurable((events: AppliedEvent[]) => {
    for (const { event } of events) {
      if (event.type === 'order.send_requested') sent.places.push({ orderId: event.orderId, atMs: event.atMs })
      if (event.type === 'order.cancel_send_requested') sent.cancels.push({ orderId: event.orderId, atMs: event.atMs })
    }
  })
  return sent
}

/** Orders `count` places on `symbol` at once (one instant of the simulated clock); their ids in placing order. */
async function burst(world: World, symbol: 'BTC-USD' | 'ETH-USD', count: number, prefix: string): Promise<string[]> {
  const ids: string[] = []
  for (let index = 0; index < count; index++) ids.push(await place(world, symbol, `${prefix}-${index}`))
  return ids
}

/** No window of the run holds more sends than the bucket allows: RATE at once, RATE a second after. */
function expectPaced(sent: Sent[], startMs: number): void {
  for (const { atMs } of sent) {
    const elapsedMs = atMs - startMs
    const upTo = sent.filter((other) => other.atMs <= atMs).length
    expect({ elapsedMs, upTo }).toEqual({ elapsedMs, upTo: Math.min(upTo, RATE + Math.floor((elapsedMs * RATE) / 1000)) })
  }
}

describe('send pacing by rateLimitPerSecond', () => {
  test('3×N places at once: N go at once, the rest at N a second, in FIFO order, each once, none lost', async () => {
    const world = await startPaced(70101)
    const sent = sendsOf(world)
    const startMs = world.clock.nowMs()
    const ids = await burst(world, 'BTC-USD', 3 * RATE, 'p')
    await run(world, 20, 1)
    expect(sent.places.length).toBe(RATE)
    await run(world, 1_000, 1)
    const firstSecond = sent.places.filter(({ atMs }) => atMs - startMs < 1_000).length
    expect(firstSecond).toBeLessThanOrEqual(2 * RATE)
    expect(firstSecond).toBeGreaterThan(RATE)
    await run(world, 2_500, 5)
    expect(sent.places.map(({ orderId }) => orderId)).toEqual(ids)
    expectPaced(sent.places, startMs)
    expect(world.venue.inspect().requests.calls.place).toBe(3 * RATE)
    expect(world.venue.inspect().requests.duplicatePlaces).toBe(0)
    for (const id of ids) expect(world.gateway.engine.state.orders.get(id)?.status).toBe('AckedOpen')
    expect(world.gateway.executor.pacing.stats.waitsByVenue.get('sim')).toBeGreaterThan(0)
    expect(world.errors).toEqual([])
  })

  test('a cancel goes at once while places wait for the budget; a paced place canceled is never sent', async () => {
    const world = await startPaced(70102)
    const sent = sendsOf(world)
    const resting = await place(world, 'BTC-USD', 'rest')
    await run(world, 20, 1)
    expect(world.gateway.engine.state.orders.get(resting)?.status).toBe('AckedOpen')
    const waiting = await burst(world, 'BTC-USD', 2 * RATE, 'w')
    await run(world, 5, 1)
    const placedBefore = sent.places.length
    expect(placedBefore).toBe(RATE)
    const cancelAtMs = world.clock.nowMs()
    expect((await world.gateway.cancel(traderA, resting)).reply.kind).toBe('done')
    const queued = waiting.at(-1) as string
    expect((await world.gateway.cancel(traderA, queued)).reply.kind).toBe('done')
    await run(world, 5, 1)
    expect(sent.cancels.map(({ orderId, atMs }) => ({ orderId, atMs }))).toEqual([{ orderId: resting, atMs: cancelAtMs }])
    expect(sent.places.length).toBe(placedBefore)
    expect(world.gateway.engine.state.orders.get(resting)?.status).toBe('Canceled')
    await run(world, 3_000, 5)
    expect(sent.places.map(({ orderId }) => orderId)).toEqual([resting, ...waiting.slice(0, -1)])
    expect(world.gateway.engine.state.orders.get(queued)?.status).toBe('Canceled')
    expect(world.errors).toEqual([])
  })

  test('another instrument is not slowed by one that is paced', async () => {
    const world = await startPaced(70103)
    const sent = sendsOf(world)
    const startMs = world.clock.nowMs()
    const btc = await burst(world, 'BTC-USD', 3 * RATE, 'b')
    const eth = await burst(world, 'ETH-USD', 3 * RATE, 'e')
    await run(world, 5, 1)
    const ethSent = sent.places.filter(({ orderId }) => eth.includes(orderId))
    expect(ethSent.map(({ orderId }) => orderId)).toEqual(eth)
    for (const { atMs } of ethSent) expect(atMs).toBe(startMs)
    expect(sent.places.filter(({ orderId }) => btc.includes(orderId)).length).toBe(RATE)
    await run(world, 2_500, 5)
    expect(sent.places.filter(({ orderId }) => btc.includes(orderId)).map(({ orderId }) => orderId)).toEqual(btc)
    expect(world.errors).toEqual([])
  })

  for (const how of ['stop', 'crash'] as const) {
    test(`a ${how} and restart with paced places queued sends each exactly once, still paced`, async () => {
      const world = await startPaced(70104)
      const ids = await burst(world, 'BTC-USD', 3 * RATE, 'r')
      await run(world, 150, 1)
      const placedBefore = world.venue.inspect().requests.calls.place
      expect(placedBefore).toBeLessThan(3 * RATE)
      if (how === 'stop') await world.gateway.stop()
      else await crashWorld(world)
      const again = await startPaced(70104, world)
      const sent = sendsOf(again)
      const startMs = again.clock.nowMs()
      await run(again, 4_000, 5)
      expectPaced(sent.places, startMs)
      const venueOrders = again.venue.inspect().orders.filter((order) => order.symbol === 'BTC-USD')
      expect(venueOrders.length).toBe(3 * RATE)
      expect(new Set(venueOrders.map((order) => order.clientOrderId)).size).toBe(3 * RATE)
      expect(again.venue.inspect().requests.calls.place).toBe(3 * RATE)
      expect(again.venue.inspect().requests.duplicatePlaces).toBe(0)
      for (const id of ids) expect(again.gateway.engine.state.orders.get(id)?.status).toBe('AckedOpen')
      expect(again.errors).toEqual([])
    })
  }
})
