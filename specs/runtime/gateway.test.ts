import { describe, expect, test } from 'bun:test'
import { Wal } from '../../wal/index.ts'
import { Engine } from '../../src/runtime/index.ts'
import { stateDigest } from '../../src/kernel/index.ts'
import { formatDecimal } from '../../src/domain/decimal.ts'
import { run, startWorld, traderA, worldsStoppedAfterEach, type World } from './harness.ts'
import { join } from 'node:path'

const worlds = worldsStoppedAfterEach()

function order(world: World, orderId: string) {
  const found = world.gateway.engine.state.orders.get(orderId)
  if (found === undefined) throw new Error(`no order ${orderId}`)
  return found
}

describe('gateway runtime on the sim venue', () => {
  test('a marketable limit buy is accepted durably, sent once, and filled', async () => {
    const world = await startWorld({ seed: 1 })
    worlds.push(world)
    const result = await world.gateway.place(traderA, { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.5', price: '61000', client_order_id: 'buy-1' }, null)
    expect(result.reply.kind).toBe('accepted')
    expect(result.lsn).not.toBeNull()
    if (result.reply.kind !== 'accepted') return
    await run(world, 200)
    const placed = order(world, result.reply.orderId)
    expect(placed.status).toBe('Filled')
    expect(formatDecimal(placed.cumQty)).toBe('0.5')
    expect(placed.reservation.remaining).toBe(0n)
    const venueOrders = world.venue.inspect().orders.filter((venueOrder) => venueOrder.clientOrderIds.includes(placed.venueClientOrderId))
    expect(venueOrders.length).toBe(1)
    expect(world.errors).toEqual([])
  })

  test('a repeat of the same client order id returns the first answer and sends nothing new', async () => {
    const world = await startWorld({ seed: 2 })
    worlds.push(world)
    const body = { account: 'acct-a', symbol: 'ETH-USD', side: 'buy', type: 'limit', qty: '1', price: '2950', client_order_id: 'rest-1' }
    const first = await world.gateway.place(traderA, body, null)
    expect(first.reply.kind).toBe('accepted')
    const second = await world.gateway.place(traderA, body, null)
    expect(second.reply).toEqual({ ...first.reply, duplicate: true } as typeof second.reply)
    await run(world, 100)
    expect(world.venue.inspect().requests.calls.place).toBe(1)
  })

  test('a restart replays the log to the same state, and the dedupe survives it', async () => {
    const world = await startWorld({ seed: 3 })
    const body = { account: 'acct-a', symbol: 'ETH-USD', side: 'buy', type: 'limit', qty: '1', price: '3001', client_order_id: 'x-1' }
    const first = await world.gateway.place(traderA, body, null)
    await run(world, 200)
    const digest = stateDigest(world.gateway.engine.state)
    await world.gateway.stop()
    const replayed = Engine.replay(Wal.open(join(world.dir, 'log'), { durability: 'none' }))
    expect(stateDigest(replayed.state)).toBe(digest)
    await replayed.wal.close()
    const restarted = await startWorld({ seed: 3, dir: world.dir, clock: world.clock, venue: world.venue })
    worlds.push(restarted)
    const again = await restarted.gateway.place(traderA, body, null)
    expect(again.reply).toEqual({ ...first.reply, duplicate: true } as typeof again.reply)
  })

  test('a crash after send_requested leaves the order Unknown; bootstrap reconciles it with the venue', async () => {
    const world = await startWorld({ seed: 4, venueOptions: { latencyMsMin: 50, latencyMsMax: 60 } })
    const result = await world.gateway.place(traderA, { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.1', price: '61000', client_order_id: 'crash-1' }, null)
    if (result.reply.kind !== 'accepted') throw new Error('expected accepted')
    // Let the executor log send_requested and call the venue, then "crash": drop the process state without a clean stop.
    await run(world, 10, 1)
    expect(order(world, result.reply.orderId).status).toBe('Sent')
    world.gateway.executor.stop()
    await world.gateway.engine.settled()
    await world.gateway.engine.wal.close()
    await world.clock.advanceAsync(500) // the venue fills it while egress is down
    const restarted = await startWorld({ seed: 4, dir: world.dir, clock: world.clock, venue: world.venue })
    worlds.push(restarted)
    expect(restarted.gateway.bootstrapReport?.inFlightMarkedUnknown).toBeGreaterThan(0)
    await run(restarted, 2000)
    const recovered = order(restarted, result.reply.orderId)
    expect(recovered.status).toBe('Filled')
    expect(restarted.venue.inspect().orders.filter((venueOrder) => venueOrder.clientOrderIds.includes(recovered.venueClientOrderId)).length).toBe(1)
  })
})
