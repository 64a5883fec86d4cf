/**
 * Market-order protection through the whole runtime, on the sim venue (spec 004 §8, anti-slippage). Before it, a market
 * order reserved at the band edge went to the venue as a plain market order: on a thin book (the sim's market
 * slippage) or a price gapping between the send and the venue, a buy filled above the band edge — spending past what
 * it held — and a sell far below the market. Now it goes out as a limit at its protection price, IOC: the sim records
 * it so and fills it as a limit (at the reference price, never past the limit), a price beyond the band leaves it
 * unfilled, and genesis replay and a snapshot restore hold the same state.
 */

import { describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { mulUnits, roundToStep, type Units } from '../../src/domain/decimal.ts'
import { defaultSimInstruments } from '../../src/domain/instruments.ts'
import type { KernelConfig } from '../../src/domain/kernel-config.ts'
import type { Order } from '../../src/domain/orders.ts'
import { stateDigest } from '../../src/kernel/index.ts'
import { marketProtectionPrice } from '../../src/kernel/intake/sent-order.ts'
import { Engine } from '../../src/runtime/engine.ts'
import { kernelStateBytes, kernelStateFromBytes } from '../../src/runtime/snapshot/index.ts'
import { nodeIo, Wal } from '../../wal/index.ts'
import { crashWorld, run, startWorld, traderA, worldsStoppedAfterEach, type World } from './harness.ts'

const worlds = worldsStoppedAfterEach()

const BTC = defaultSimInstruments().find((instrument) => instrument.symbol === 'BTC-USD')!

/** The paper config with market orders allowed on every instrument of the policy. */
function marketsAllowed(config: KernelConfig): KernelConfig {
  return { ...config, policies: config.policies.map((policy) => ({ ...policy, marketOrderInstruments: [...policy.instruments] })) }
}

/** A world whose price stands still (the reference is known at intake), the sim's venue options on top. */
async function world(seed: number, venueOptions: Record<string, unknown>): Promise<World> {
  const started = await startWorld({ seed, configure: marketsAllowed, venueOptions: { priceStepTicksMax: 0, ...venueOptions } })
  worlds.push(started)
  return started
}

function reference(world: World): Units {
  const price = world.venue.referencePrice('BTC-USD')?.price
  if (price === undefined) throw new Error('no BTC-USD price')
  return price
}

async function placeMarket(world: World, side: 'buy' | 'sell', id: string, tif = 'GTC'): Promise<Order> {
  const body = { account: 'acct-a', symbol: 'BTC-USD', side, type: 'market', qty: '0.5', tif, client_order_id: id }
  const result = await world.gateway.place(traderA, body, id)
  if (result.reply.kind !== 'accepted') throw new Error(`expected accepted, got ${JSON.stringify(result.reply)}`)
  const order = world.gateway.engine.state.orders.get(result.reply.orderId)
  if (order === undefined) throw new Error('accepted order not held')
  return order
}

function current(world: World, order: Order): Order {
  const held = world.gateway.engine.state.orders.get(order.orderId)
  if (held === undefined) throw new Error(`order ${order.orderId} no longer held`)
  return held
}

function venueOrderOf(world: World, order: Order) {
  return world.venue.inspect().orders.find((venueOrder) => venueOrder.clientOrderId === order.venueClientOrderId)
}

function tradePrices(world: World, order: Order): Units[] {
  return world.venue.inspect().trades.filter((trade) => trade.clientOrderId === order.venueClientOrderId).map((trade) => trade.price)
}

// The sim's market slippage: a market order fills up to 1 000 000 ticks (10 000 USD) against the taker.
const THIN_BOOK = { marketSlippageTicksMax: 1_000_000 }

describe('market-order protection on the sim venue', () => {
  test('a market buy is sent as an IOC limit at its protection price; on a thin book it never fills above it, nor spends past its reservation', async () => {
    const w = await world(11, THIN_BOOK)
    const protection = marketProtectionPrice({ side: 'buy', tif: 'GTC' }, BTC, reference(w))
    expect(protection).toBe(roundToStep((reference(w) * 10_500n + 9_999n) / 10_000n, BTC.tickSize, 'down'))
    const placed = await placeMarket(w, 'buy', 'mb-1')
    expect(placed.protectionPrice).toBe(protection)
    await run(w, 500)
    expect(venueOrderOf(w, placed)).toMatchObject({ type: 'limit', price: protection, tif: 'IOC', status: 'filled' })
    const prices = tradePrices(w, placed)
    expect(prices.length).toBeGreaterThan(0)
    for (const price of prices) expect(price).toBeLessThanOrEqual(protection as Units)
    const order = current(w, placed)
    expect(order.status).toBe('Filled')
    expect(order.cumNotional).toBeLessThanOrEqual(mulUnits(order.qty, protection as Units, 'up'))
    expect(order.cumNotional).toBeLessThanOrEqual(order.reservation.total)
    expect(w.errors).toEqual([])
  })

  test('a market sell is sent as an IOC limit at the lower edge; on a thin book it never fills below it', async () => {
    const w = await world(12, THIN_BOOK)
    const protection = marketProtectionPrice({ side: 'sell', tif: 'IOC' }, BTC, reference(w)) as Units
    const placed = await placeMarket(w, 'sell', 'ms-1', 'IOC')
    expect(placed.protectionPrice).toBe(protection)
    expect(protection).toBeLessThan(reference(w))
    await run(w, 500)
    expect(venueOrderOf(w, placed)).toMatchObject({ type: 'limit', price: protection, tif: 'IOC', status: 'filled' })
    for (const price of tradePrices(w, placed)) expect(price).toBeGreaterThanOrEqual(protection)
    expect(current(w, placed).status).toBe('Filled')
  })

  test('a price jump beyond the band between the send and the venue leaves the order unfilled, its reservation released', async () => {
    // Every request reaches the book 40 ms after it is made: the price jumps while the place is on its way.
    const w = await world(13, { latencyMsMin: 40, latencyMsMax: 40 })
    const usdBefore = w.gateway.engine.state.accounts.get('acct-a')?.balances.get('USD')
    const placed = await placeMarket(w, 'buy', 'mb-jump')
    for (let step = 0; step < 30 && current(w, placed).status === 'Enqueued'; step++) await w.clock.advanceAsync(1)
    expect(current(w, placed).status).toBe('Sent')
    // 10 % up: past the 5 % band edge the order was reserved and protected at.
    w.venue.setReferencePrice('BTC-USD', (reference(w) * 110n) / 100n)
    await run(w, 500)
    expect(venueOrderOf(w, placed)).toMatchObject({ type: 'limit', cumQty: 0n, status: 'expired' })
    expect(tradePrices(w, placed)).toEqual([])
    const order = current(w, placed)
    expect(order.cumQty).toBe(0n)
    expect(order.reservation.remaining).toBe(0n)
    expect(w.gateway.engine.state.accounts.get('acct-a')?.balances.get('USD')).toBe(usdBefore)
  })

  test('genesis replay and a snapshot restore hold the same state, protection prices included', async () => {
    const w = await world(14, THIN_BOOK)
    const buy = await placeMarket(w, 'buy', 'mr-1')
    // The buy (sent as an IOC) ends before the sell, which an open buy would cross (SELF_TRADE_PREVENTED).
    await run(w, 500)
    const sell = await placeMarket(w, 'sell', 'mr-2', 'FOK')
    await run(w, 500)
    const live = w.gateway.engine.state
    const digest = stateDigest(live)
    const restored = kernelStateFromBytes(kernelStateBytes(live))
    expect(stateDigest(restored)).toBe(digest)
    expect(restored.orders.get(buy.orderId)?.protectionPrice).toBe(buy.protectionPrice)
    expect(restored.orders.get(sell.orderId)?.protectionPrice).toBe(sell.protectionPrice)
    expect(venueOrderOf(w, sell)).toMatchObject({ type: 'limit', tif: 'FOK', price: sell.protectionPrice })
    await crashWorld(w)
    const wal = Wal.open(join(w.dir, 'log'), { durability: 'none', io: nodeIo })
    expect(stateDigest(Engine.replay(wal).state)).toBe(digest)
    await wal.close()
  })
})
