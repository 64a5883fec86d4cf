/**
 * The kernel against the sim venue, by hand (no runtime): the requests are built from the kernel's send events exactly
 * as the executor must build them, and every answer and report goes back through the kernel. This pins the FIX-style
 * amend semantics the kernel relies on to what the sim venue actually does.
 */

import { describe, expect, test } from 'bun:test'
import type { DomainEvent } from '../../src/domain/events/index.ts'
import { currentClientOrderId } from '../../src/domain/orders.ts'
import type { SimVenue } from '../../src/venues/sim/index.ts'
import type { ExecutionReport } from '../../src/venues/adapter.ts'
import { harness as simHarness, within } from '../venues/sim/fixture.ts'
import { d, Harness } from './fixtures.ts'

interface Sim {
  venue: SimVenue
  clock: Parameters<typeof within>[0]
  reports: ExecutionReport[]
}

/** Takes the next work item, decides its send, calls the sim with the request the events describe, feeds everything back. */
async function work(kernel: Harness, sim: Sim): Promise<DomainEvent | undefined> {
  const item = kernel.next()
  if (item === null || item.kind === 'reconcile') throw new Error(`expected send work, got ${JSON.stringify(item)}`)
  const sent = kernel.send(item.orderId, item.kind).events[0]
  const order = kernel.order(item.orderId)
  const base = { account: order.accountId, symbol: order.symbol }
  if (sent?.type === 'order.send_requested') {
    const request = { ...base, clientOrderId: sent.venueClientOrderId, side: order.side, type: order.type, qty: order.qty, tif: order.tif, postOnly: order.postOnly, reduceOnly: order.reduceOnly }
    kernel.placeResult(order.orderId, await within(sim.clock, sim.venue.place(order.price === null ? request : { ...request, price: order.price }), 50))
  } else if (sent?.type === 'order.amend_send_requested') {
    const request = { ...base, clientOrderId: sent.amendClientOrderId, origClientOrderId: sent.origClientOrderId, qty: sent.qty }
    kernel.amendResult(order.orderId, await within(sim.clock, sim.venue.amend(sent.price === null ? request : { ...request, price: sent.price }), 50))
  } else if (sent?.type === 'order.cancel_send_requested') {
    const request = { ...base, clientOrderId: sent.cancelClientOrderId, origClientOrderId: sent.origClientOrderId ?? order.venueClientOrderId }
    kernel.cancelResult(order.orderId, await within(sim.clock, sim.venue.cancel(request), 50))
  }
  await sim.clock.advanceAsync(50)
  for (const report of sim.reports.splice(0)) kernel.report(report)
  return sent
}

describe('the kernel against the sim venue', () => {
  test('place, amend up and down in price, then cancel by the amend id: the venue and the kernel agree at every step', async () => {
    const sim = simHarness()
    const kernel = Harness.funded()
    const orderId = kernel.placedId({ qty: '0.1', price: '49000' })
    await work(kernel, sim)
    expect(kernel.order(orderId).status).toBe('AckedOpen')

    expect(kernel.amend(orderId, { qty: '0.2', price: '48500' }).reply.kind).toBe('amend_accepted')
    await work(kernel, sim)
    const order = kernel.order(orderId)
    expect(order).toMatchObject({ status: 'AckedOpen', qty: d('0.2'), price: d('48500'), amend: null })
    expect(currentClientOrderId(order)).toBe(`eg-${orderId}.a1`)
    const atVenue = sim.venue.inspect().orders.find((o) => o.clientOrderIds.includes(`eg-${orderId}`))
    expect(atVenue).toMatchObject({ qty: d('0.2'), price: d('48500'), clientOrderId: `eg-${orderId}.a1` })
    expect(kernel.state.counters.alertsRaised).toBe(0)

    kernel.cancel(orderId)
    await work(kernel, sim)
    expect(kernel.order(orderId).status).toBe('Canceled')
    expect(kernel.reserved('USD')).toBe(0n)
    expect(kernel.state.counters.alertsRaised).toBe(0)
  })

  test('an amend that makes the order marketable fills at the venue: the kernel applies the amend, then the fill', async () => {
    const sim = simHarness()
    const kernel = Harness.funded()
    const orderId = kernel.placedId({ qty: '0.1', price: '49000' })
    await work(kernel, sim)
    kernel.amend(orderId, { price: '50100' })
    await work(kernel, sim)
    expect(kernel.order(orderId)).toMatchObject({ status: 'Filled', price: d('50100'), cumQty: d('0.1') })
    expect(kernel.reserved('USD')).toBe(0n)
    expect(kernel.state.counters.alertsRaised).toBe(0)
  })

  test('a resend of an order the venue already has is answered duplicate_client_order_id: Unknown, then reconciled open', async () => {
    const sim = simHarness()
    const kernel = Harness.funded()
    const orderId = kernel.placedId({ qty: '0.1', price: '49000' })
    const order = kernel.order(orderId)
    // The first place reached the venue but its answer was lost.
    await within(sim.clock, sim.venue.place({ clientOrderId: order.venueClientOrderId, account: order.accountId, symbol: order.symbol, side: 'buy', type: 'limit', qty: order.qty, price: d('49000'), tif: 'GTC', postOnly: false, reduceOnly: false }), 50)
    sim.reports.splice(0)
    await work(kernel, sim)
    expect(kernel.order(orderId).status).toBe('Unknown')
    const status = await within(sim.clock, sim.venue.orderStatus(order.venueClientOrderId), 50)
    if (status.kind !== 'ok') throw new Error('expected a status')
    kernel.run({ kind: 'reconcile_result', nowMs: kernel.nowMs, orderId, venueOrder: status.value, trades: [] })
    expect(kernel.order(orderId).status).toBe('AckedOpen')
    expect(sim.venue.inspect().orders.filter((o) => o.clientOrderId === order.venueClientOrderId)).toHaveLength(1)
  })
})
