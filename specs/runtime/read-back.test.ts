/**
 * Reconcile reads an order's status and its trades with two calls the venue answers separately (src/runtime/read-back.ts).
 * Found by seed 30051 (`bun scripts/sim.ts --seed 30051 --steps 300 --step-ms 400`): a fill fell between the sweep's
 * two reads of a resting order, the status said filled and the trades list was empty, so egress booked a synthetic
 * fill at the limit price without fee and the order was Filled; its fill report had been lost, so the real trade
 * (sim-x188) was never applied and the ledger differed from the venue's by the whole fill.
 */

import { describe, expect, test } from 'bun:test'
import { parseDecimal } from '../../src/domain/decimal.ts'
import type { DomainEvent } from '../../src/domain/events/index.ts'
import { readBack } from '../../src/runtime/read-back.ts'
import type { VenueAdapter, VenueOrder, VenueOutcome, VenueTrade } from '../../src/venues/adapter.ts'
import { RECONCILE_SWEEP_MS, run, startWorld, traderA, worldsStoppedAfterEach } from './harness.ts'

const worlds = worldsStoppedAfterEach()

describe('reading an order back for reconcile', () => {
  test('a fill between the status read and the trades read is booked as the venue trade, not as a synthetic fill', async () => {
    const world = await startWorld({ seed: 30_051 })
    worlds.push(world)
    const events: DomainEvent[] = []
    world.gateway.engine.onDurable((applied) => void events.push(...applied.map(({ event }) => event)))
    const placed = await world.gateway.place(traderA, { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.001', price: '59000', tif: 'GTC', client_order_id: 'resting' }, null)
    if (placed.reply.kind !== 'accepted') throw new Error(`not accepted: ${JSON.stringify(placed.reply)}`)
    const { orderId } = placed.reply
    // A venue that cannot list its open orders: the sweep reads every quiet order back (open-order-sweep.ts).
    world.venue.openOrders = () => Promise.resolve({ kind: 'unknown', reason: 'fix_open_orders_unsupported' })
    await run(world, 100)
    const venueClientOrderId = world.gateway.engine.state.orders.get(orderId)?.venueClientOrderId ?? ''

    // The sweep's trades query reads the venue's list as it stands when asked (nothing yet); right after, the price
    // falls through the order and fills it, with its reports lost; the status query, made together, reads the fill.
    const trades = world.venue.trades.bind(world.venue)
    let tradeQueries = 0
    world.venue.trades = (options) => {
      if (options.clientOrderId !== venueClientOrderId) return trades(options)
      tradeQueries++
      if (tradeQueries > 1) return trades(options)
      const listedWhenAsked = world.venue.inspect().trades.filter((trade) => trade.clientOrderId === venueClientOrderId)
      world.venue.setFaults({ dropReportProbability: 1 })
      world.venue.setReferencePrice('BTC-USD', parseDecimal('58000'))
      world.venue.setFaults({})
      return trades(options).then((outcome): VenueOutcome<VenueTrade[]> => (outcome.kind === 'ok' ? { kind: 'ok', value: listedWhenAsked } : outcome))
    }
    await run(world, 2 * RECONCILE_SWEEP_MS + 500)

    const venueTrades = world.venue.inspect().trades.filter((trade) => trade.clientOrderId === venueClientOrderId)
    expect(venueTrades.length).toBe(1)
    const [venueTrade] = venueTrades
    const fills = events.filter((event) => event.type === 'order.fill' && event.orderId === orderId)
    expect(fills.map((fill) => (fill.type === 'order.fill' ? { execId: fill.execId, lastPrice: fill.lastPrice, fee: fill.fee, synthetic: fill.synthetic } : null))).toEqual([
      { execId: venueTrade?.execId ?? '', lastPrice: venueTrade?.price ?? 0n, fee: venueTrade?.fee ?? 0n, synthetic: false },
    ])
    expect(events.filter((event) => event.type === 'alert.raised' && event.reason === 'RECONCILE_SYNTHETIC_FILL')).toEqual([])
    expect(world.gateway.engine.state.orders.get(orderId)?.status).toBe('Filled')
    expect(tradeQueries).toBe(2)
    expect(world.errors).toEqual([])
  })

  test('the trades are asked once when they explain the status, and never on a venue without a trade query', async () => {
    const trade: VenueTrade = { execId: 'x1', clientOrderId: 'eg-o1', venueOrderId: 'v1', account: 'a', symbol: 'S', side: 'buy', qty: 5n, price: 100n, fee: 1n, feeAsset: 'USD', liquidity: 'maker', venueTimeMs: 1 }
    const venueOrder: VenueOrder = { clientOrderId: 'eg-o1', venueOrderId: 'v1', account: 'a', symbol: 'S', side: 'buy', qty: 10n, price: 100n, cumQty: 5n, status: 'partially_filled' }
    const adapter = (tradesQueryable: boolean) => {
      const asked = { trades: 0 }
      const venue = {
        venue: 'fake',
        tradesQueryable,
        orderStatus: async () => ({ kind: 'ok', value: venueOrder }),
        trades: async () => {
          asked.trades++
          return tradesQueryable ? { kind: 'ok', value: [trade] } : { kind: 'unknown', reason: 'no trade query' }
        },
      } as unknown as VenueAdapter
      return { venue, asked }
    }
    const explained = adapter(true)
    expect(await readBack(explained.venue, { orderId: 'o1', clientOrderId: 'eg-o1', heldCumQty: () => 0n })).toEqual({ venueOrder, trades: [trade] })
    expect(explained.asked.trades).toBe(1)
    const statusOnly = adapter(false)
    expect(await readBack(statusOnly.venue, { orderId: 'o1', clientOrderId: 'eg-o1', heldCumQty: () => 0n })).toEqual({ venueOrder, trades: [] })
    expect(statusOnly.asked.trades).toBe(0)
  })

  test('a trade listed twice explains its quantity once: the trades are asked again (review of seed 30051)', async () => {
    const trade: VenueTrade = { execId: 'x1', clientOrderId: 'eg-o1', venueOrderId: 'v1', account: 'a', symbol: 'S', side: 'buy', qty: 5n, price: 100n, fee: 1n, feeAsset: 'USD', liquidity: 'maker', venueTimeMs: 1 }
    const venueOrder: VenueOrder = { clientOrderId: 'eg-o1', venueOrderId: 'v1', account: 'a', symbol: 'S', side: 'buy', qty: 10n, price: 100n, cumQty: 10n, status: 'filled' }
    const asked = { trades: 0 }
    const venue = {
      venue: 'fake',
      orderStatus: async () => ({ kind: 'ok', value: venueOrder }),
      trades: async () => {
        asked.trades++
        return { kind: 'ok', value: [trade, { ...trade }] }
      },
    } as unknown as VenueAdapter
    await readBack(venue, { orderId: 'o1', clientOrderId: 'eg-o1', heldCumQty: () => 0n })
    expect(asked.trades).toBe(2)
  })

  test('each of a read-back\'s venue calls counts in the executor\'s call budget while it is out (it counted as one)', async () => {
    const world = await startWorld({ seed: 30_052 })
    worlds.push(world)
    const placed = await world.gateway.place(traderA, { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.001', price: '59000', tif: 'GTC', client_order_id: 'held' }, null)
    if (placed.reply.kind !== 'accepted') throw new Error(`not accepted: ${JSON.stringify(placed.reply)}`)
    await run(world, 100)
    const { executor } = world.gateway
    const idle = executor.callsBudgetLeft
    // Both answers are held until released, so both calls are out at once; then the trades do not explain a fill the
    // status reports, and they are asked a third time, alone.
    const releases: (() => void)[] = []
    const held = <T>(answer: () => Promise<T>): Promise<T> => new Promise<void>((release) => releases.push(release)).then(answer)
    const orderStatus = world.venue.orderStatus.bind(world.venue)
    const trades = world.venue.trades.bind(world.venue)
    world.venue.orderStatus = (clientOrderId) => held(() => orderStatus(clientOrderId).then((outcome) => (outcome.kind === 'ok' && outcome.value !== null ? { kind: 'ok', value: { ...outcome.value, cumQty: outcome.value.qty, status: 'filled' } } : outcome)))
    world.venue.trades = (options) => held(() => trades(options))
    const reading = executor.reconcileOrder(placed.reply.orderId)
    expect(executor.stats.callsInFlight).toBe(2)
    expect(executor.callsBudgetLeft).toBe(idle - 2)
    for (const release of releases.splice(0)) release()
    await run(world, 50) // the sim venue answers after its latency, on the simulated clock
    expect(releases.length).toBe(1)
    expect(executor.stats.callsInFlight).toBe(1)
    releases.splice(0)[0]?.()
    await run(world, 50)
    await reading
    expect(executor.stats.callsInFlight).toBe(0)
    expect(executor.callsBudgetLeft).toBe(idle)
  })
})
