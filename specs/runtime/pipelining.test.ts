import { describe, expect, test } from 'bun:test'
import type { AppliedEvent } from '../../src/runtime/index.ts'
import type { SendGateVerdict } from '../../src/runtime/engine.ts'
import { crashWorld, run, startWorld, traderA, worldsStoppedAfterEach, type World } from './harness.ts'

/**
 * Ordered pipelining (§6 "per-venue×per-symbol 直列化" is about order): several calls in flight per venue×symbol, at
 * most callsPerInstrumentMax, handed to the adapter in decision order, one call at a time per order.
 */

const worlds = worldsStoppedAfterEach()

/** Resting limit buys below the market, so the venue keeps each one open and reports nothing that ends it. */
async function placeResting(world: World, count: number, prefix: string): Promise<string[]> {
  const ids: string[] = []
  for (let index = 0; index < count; index++) {
    const body = { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '59000', client_order_id: `${prefix}-${index}` }
    const result = await world.gateway.place(traderA, body, null)
    if (result.reply.kind !== 'accepted') throw new Error(`expected accepted, got ${JSON.stringify(result.reply)}`)
    ids.push(result.reply.orderId)
  }
  return ids
}

function sendRecords(world: World): string[] {
  const sent: string[] = []
  world.gateway.engine.onDurable((events: AppliedEvent[]) => {
    for (const { event } of events) if (event.type === 'order.send_requested') sent.push(event.venueClientOrderId)
  })
  return sent
}

describe('ordered pipelining per venue×symbol', () => {
  test('up to callsPerInstrumentMax calls in flight on one instrument, never more, and the venue sees them in decision order', async () => {
    // A fixed one-way latency: requests reach the sim book in the order they were made.
    const world = await startWorld({ seed: 11, params: { callsPerInstrumentMax: 4 }, venueOptions: { latencyMsMin: 20, latencyMsMax: 20 } })
    worlds.push(world)
    const sent = sendRecords(world)
    await placeResting(world, 24, 'pipe')
    let callsMax = 0
    for (let step = 0; step < 400; step++) {
      await world.clock.advanceAsync(1)
      callsMax = Math.max(callsMax, world.gateway.engine.state.callsByInstrument.get('sim:BTC-USD') ?? 0)
    }
    await run(world, 100)
    expect(callsMax).toBe(4)
    expect(sent.length).toBe(24)
    const atVenue = world.venue.inspect().orders.map((order) => order.clientOrderIds[0])
    expect(atVenue).toEqual(sent)
    for (const orderId of world.gateway.engine.state.orders.keys()) expect(world.gateway.engine.state.orders.get(orderId)?.status).toBe('AckedOpen')
    expect(world.gateway.engine.state.inFlight.size).toBe(0)
    expect(world.errors).toEqual([])
  })

  test('with callsPerInstrumentMax 1 the instrument is serialised: one call in flight at a time', async () => {
    const world = await startWorld({ seed: 12, params: { callsPerInstrumentMax: 1 }, venueOptions: { latencyMsMin: 10, latencyMsMax: 10 } })
    worlds.push(world)
    const sent = sendRecords(world)
    await placeResting(world, 6, 'serial')
    let callsMax = 0
    for (let step = 0; step < 300; step++) {
      await world.clock.advanceAsync(1)
      callsMax = Math.max(callsMax, world.gateway.engine.state.callsByInstrument.get('sim:BTC-USD') ?? 0)
    }
    expect(callsMax).toBe(1)
    expect(world.venue.inspect().orders.map((order) => order.clientOrderIds[0])).toEqual(sent)
  })

  test('a cancel of an order whose place is in flight waits for the place answer, though the instrument has room', async () => {
    const world = await startWorld({ seed: 13, params: { callsPerInstrumentMax: 8 }, venueOptions: { latencyMsMin: 50, latencyMsMax: 50 } })
    worlds.push(world)
    const [orderId] = await placeResting(world, 1, 'cxl')
    if (orderId === undefined) throw new Error('no order')
    await run(world, 10, 1)
    expect(world.gateway.engine.state.orders.get(orderId)?.status).toBe('Sent')
    const canceled = await world.gateway.cancel(traderA, orderId)
    expect(canceled.reply.kind).not.toBe('rejected')
    // Another order on the same instrument still goes out meanwhile: the wait is the order's, not the instrument's.
    await placeResting(world, 1, 'other')
    await run(world, 40, 1)
    expect(world.venue.inspect().requests.calls.cancel).toBe(0)
    expect(world.venue.inspect().requests.calls.place).toBe(2)
    await run(world, 400)
    expect(world.gateway.engine.state.orders.get(orderId)?.status).toBe('Canceled')
    expect(world.venue.inspect().requests.calls.cancel).toBe(1)
    expect(world.errors).toEqual([])
  })

  test('a place held back before its venue call (the HA send gate) holds later places on its instrument only; cancels and other instruments go on', async () => {
    const world = await startWorld({ seed: 15, params: { callsPerInstrumentMax: 8 }, venueOptions: { latencyMsMin: 5, latencyMsMax: 5 } })
    worlds.push(world)
    const [resting] = await placeResting(world, 1, 'rest')
    await run(world, 50)
    if (resting === undefined || world.gateway.engine.state.orders.get(resting)?.status !== 'AckedOpen') throw new Error('resting order not open')
    let release = (): void => undefined
    const held = new Promise<SendGateVerdict>((resolve) => (release = () => resolve({ send: true })))
    let gated = 0
    world.gateway.engine.placeSendGate = () => (++gated === 1 ? held : Promise.resolve({ send: true }))
    const sent = sendRecords(world)
    const [first, second] = await placeResting(world, 2, 'held')
    const eth = await world.gateway.place(traderA, { account: 'acct-a', symbol: 'ETH-USD', side: 'buy', type: 'limit', qty: '0.1', price: '2950', client_order_id: 'eth-1' }, null)
    expect(eth.reply.kind).toBe('accepted')
    expect((await world.gateway.cancel(traderA, resting)).reply.kind).toBe('done')
    // Not run(): the engine is not settled while a commit waits at the gate.
    for (let step = 0; step < 100; step++) await world.clock.advanceAsync(1)
    const { state } = world.gateway.engine
    expect(state.orders.get(first as string)?.status).toBe('Sent')
    expect(state.orders.get(second as string)?.status).toBe('Sent')
    // Only the ETH order reached the venue among the new ones; the cancel went out although a place was held.
    expect(world.venue.inspect().requests.calls.place).toBe(2)
    expect(world.venue.inspect().requests.calls.cancel).toBe(1)
    expect(state.orders.get(resting)?.status).toBe('Canceled')
    release()
    await run(world, 100, 1)
    expect(state.orders.get(first as string)?.status).toBe('AckedOpen')
    expect(state.orders.get(second as string)?.status).toBe('AckedOpen')
    const btcAtVenue = world.venue.inspect().orders.filter((order) => order.symbol === 'BTC-USD').map((order) => order.clientOrderIds[0])
    expect(btcAtVenue.slice(1)).toEqual(sent.filter((id) => btcAtVenue.includes(id)))
    expect(btcAtVenue.slice(1)).toEqual([state.orders.get(first as string)?.venueClientOrderId, state.orders.get(second as string)?.venueClientOrderId])
    expect(world.errors).toEqual([])
  })

  test('a crash with several calls in flight: all become Unknown, are reconciled with the venue, and none is sent twice', async () => {
    const world = await startWorld({ seed: 14, params: { callsPerInstrumentMax: 8 }, venueOptions: { latencyMsMin: 50, latencyMsMax: 60 } })
    const ids = await placeResting(world, 6, 'crash')
    await run(world, 10, 1)
    for (const orderId of ids) expect(world.gateway.engine.state.orders.get(orderId)?.status).toBe('Sent')
    expect(world.gateway.engine.state.callsByInstrument.get('sim:BTC-USD')).toBe(6)
    await crashWorld(world)
    await world.clock.advanceAsync(500) // the venue takes every place while egress is down
    const restarted = await startWorld({ seed: 14, dir: world.dir, clock: world.clock, venue: world.venue })
    worlds.push(restarted)
    expect(restarted.gateway.bootstrapReport?.inFlightMarkedUnknown).toBe(6)
    await run(restarted, 3_000)
    const { state } = restarted.gateway.engine
    for (const orderId of ids) expect(state.orders.get(orderId)?.status).toBe('AckedOpen')
    expect(state.inFlight.size).toBe(0)
    expect(state.callsByInstrument.size).toBe(0)
    const venueOrders = restarted.venue.inspect().orders
    expect(venueOrders.length).toBe(6)
    expect(restarted.venue.inspect().requests.calls.place).toBe(6)
    for (const orderId of ids) {
      const clientOrderId = state.orders.get(orderId)?.venueClientOrderId
      expect(venueOrders.filter((order) => order.clientOrderIds.includes(clientOrderId as string)).length).toBe(1)
    }
  })
})
