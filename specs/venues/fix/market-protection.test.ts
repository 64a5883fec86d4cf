/**
 * A protected market order on FIX (spec 004 §8, anti-slippage): the runtime's send (src/runtime/venue-send.ts) asks for
 * it as a limit at its protection price (src/kernel/venue-form.ts), so its NewOrderSingle carries OrdType=2 (limit),
 * Price=the protection price and TimeInForce=3 (IOC) — the venue cannot fill it worse than the price its reservation
 * was checked at. Before, it went out as OrdType=1 (market) with no price. A market order without a protection price
 * (accepted before protection existed) still goes out as a plain market order.
 */

import { describe, expect, test } from 'bun:test'
import type { EventOf } from '../../../src/domain/events/index.ts'
import type { Order } from '../../../src/domain/orders.ts'
import { orderFactsLookup } from '../../../src/cli/serve-fix.ts'
import type { Engine } from '../../../src/runtime/engine.ts'
import { sendToVenue } from '../../../src/runtime/venue-send.ts'
import { MsgType, Tag } from '../../../src/venues/fix/tags.ts'
import { config, Harness, policy } from '../../kernel/fixtures.ts'
import { settle } from './fake-acceptor.ts'
import { loggedOnVenue } from './venue-harness.ts'

/** A market order accepted at reference 50 000 (band 5 %) and its send record. */
function sentMarketOrder(side: 'buy' | 'sell', tif: string): { order: Order; requested: EventOf<'order.send_requested'> } {
  const harness = Harness.funded({ config: config({ policies: [policy({ marketOrderInstruments: ['sim:BTC-USD'] })] }) })
  const orderId = harness.placedId({ type: 'market', price: undefined, side, tif, qty: '0.1', client_order_id: `m-${side}-${tif}` })
  const requested = harness.send(orderId).events.find((event) => event.type === 'order.send_requested')
  if (requested?.type !== 'order.send_requested') throw new Error('expected a send record')
  return { order: harness.order(orderId), requested }
}

async function newOrderSingleOf(order: Order, requested: EventOf<'order.send_requested'>) {
  const { acceptor, venue, clock } = await loggedOnVenue()
  void sendToVenue(venue, order, requested, { clock, submit: async () => undefined, deadlines: { clock, passed: () => undefined } })
  await settle()
  const nos = acceptor.ofType(MsgType.NewOrderSingle)[0]
  if (nos === undefined) throw new Error('no NewOrderSingle sent')
  return nos
}

describe('FIX: a protected market order', () => {
  test('a market buy goes out as OrdType=2 with Price at its protection price, IOC', async () => {
    const { order, requested } = sentMarketOrder('buy', 'GTC')
    const nos = await newOrderSingleOf(order, requested)
    expect(nos.get(Tag.OrdType)).toBe('2')
    expect(nos.get(Tag.Price)).toBe('52500')
    expect(nos.get(Tag.TimeInForce)).toBe('3')
    expect(nos.get(Tag.Side)).toBe('1')
  })

  test('a market sell goes out at the lower edge, FOK kept', async () => {
    const { order, requested } = sentMarketOrder('sell', 'FOK')
    const nos = await newOrderSingleOf(order, requested)
    expect(nos.get(Tag.OrdType)).toBe('2')
    expect(nos.get(Tag.Price)).toBe('47500')
    expect(nos.get(Tag.TimeInForce)).toBe('4')
  })

  test('a market order without a protection price (accepted before it existed) goes out as a plain market order', async () => {
    const { order, requested } = sentMarketOrder('buy', 'IOC')
    const nos = await newOrderSingleOf({ ...order, protectionPrice: null }, requested)
    expect(nos.get(Tag.OrdType)).toBe('1')
    expect(nos.get(Tag.Price)).toBeUndefined()
    expect(nos.get(Tag.TimeInForce)).toBe('3')
  })

  test("after a restart, the order's facts (orderFactsLookup, what FIX asks about an order it no longer remembers) are the order as sent", () => {
    // The adapter remembered OrdType=2, the price and IOC when it sent the order; after a restart it asks the kernel's
    // projection. That said OrdType=1, no price, the order's own GTC: a status answer without a Price read as no price
    // (a synthetic fill then had none to be booked at), where the adapter's own memory gave the protection price.
    const harness = Harness.funded({ config: config({ policies: [policy({ marketOrderInstruments: ['sim:BTC-USD'] })] }) })
    const orderId = harness.placedId({ type: 'market', price: undefined, side: 'buy', tif: 'GTC', qty: '0.1', client_order_id: 'm-facts' })
    const order = harness.order(orderId)
    const lookup = orderFactsLookup(() => ({ state: harness.state }) as unknown as Engine)
    const facts = lookup(order.venueClientOrderId)
    expect(facts).toMatchObject({ side: 'buy', symbol: 'BTC-USD', ordType: '2', timeInForce: '3' })
    expect(facts?.price).toBe(order.protectionPrice as bigint)
    // A market order without one (accepted before protection existed) is described as it was sent: plain.
    harness.state.orders.set(orderId, { ...order, protectionPrice: null })
    const plain = lookup(order.venueClientOrderId)
    expect(plain).toMatchObject({ ordType: '1', timeInForce: '1' })
    expect(plain?.price).toBeUndefined()
  })
})
