// The paper sim venue resumes an amended order as the venue last held it (src/runtime/paper-sim-memory.ts): the
// amended quantity and price, known under the amend's client id as well as its own, and it trades as amended. Its
// trades come back under the client id the venue executed them under (after the amend, the amend's): before, every
// rebuilt trade carried the order's own id (src/backoffice/venue-facts.ts keeps the id each report came under).
import { afterEach, describe, expect, test } from 'bun:test'
import { backOfficeOf } from '../../src/backoffice/index.ts'
import { parseDecimal } from '../../src/domain/decimal.ts'
import { amendClientOrderId } from '../../src/domain/orders.ts'
import { PaperRestarts, RESTING, TRADER, place, until } from './paper-restart-harness.ts'

const harness = new PaperRestarts()
afterEach(() => harness.cleanup())

describe('the paper sim resume and amends', () => {
  test('an amended resting order comes back with its amended quantity, price and client ids, and fills as amended', async () => {
    const dataDir = harness.newDataDir()
    const first = await harness.start(dataDir)
    const orderId = await place(first, RESTING, 'rest-1')
    const orders = first.gateway.engine.state.orders
    await until(() => orders.get(orderId)?.status === 'AckedOpen')
    const amended = await first.gateway.amend(TRADER, orderId, { qty: parseDecimal('0.02'), price: parseDecimal('59100') })
    expect(amended.reply.kind).not.toBe('refused')
    await until(() => orders.get(orderId)?.amend === null && orders.get(orderId)?.clientIdChain.length === 2)
    const venueOrderId = orders.get(orderId)!.venueOrderId!
    await harness.stop(first)

    const second = await harness.start(dataDir)
    const state = second.gateway.engine.state
    const amendId = amendClientOrderId(orderId, 1)
    const atVenue = second.venue.inspect().orders.find((held) => held.venueOrderId === venueOrderId)
    expect(atVenue).toMatchObject({ clientOrderId: amendId, qty: parseDecimal('0.02'), price: parseDecimal('59100'), status: 'open', cumQty: 0n })
    expect(atVenue?.clientOrderIds).toEqual([`eg-${orderId}`, amendId])
    expect(state.orders.get(orderId)?.status).toBe('AckedOpen')

    // The price comes down to the amended limit: the whole amended quantity fills there, and the books agree.
    second.venue.setReferencePrice('BTC-USD', parseDecimal('59100'))
    await until(() => state.orders.get(orderId)?.status === 'Filled')
    expect(state.orders.get(orderId)?.cumQty).toBe(parseDecimal('0.02'))
    const trades = second.venue.inspect().trades.filter((trade) => trade.venueOrderId === venueOrderId)
    expect(trades.map((trade) => [trade.clientOrderId, trade.price])).toEqual([[amendId, parseDecimal('59100')]])
    const office = backOfficeOf(second.gateway)
    expect((await office.reconcile()).skipped).toEqual([])
    expect(office.openBreaks).toEqual([])
  }, 20_000)

  test('a trade made under the amend’s id before the stop comes back under that id, as the venue reported it', async () => {
    const dataDir = harness.newDataDir()
    const first = await harness.start(dataDir)
    const orderId = await place(first, RESTING, 'rest-1')
    const orders = first.gateway.engine.state.orders
    await until(() => orders.get(orderId)?.status === 'AckedOpen')
    const amended = await first.gateway.amend(TRADER, orderId, { qty: null, price: parseDecimal('59100') })
    expect(amended.reply.kind).not.toBe('refused')
    await until(() => orders.get(orderId)?.amend === null && orders.get(orderId)?.clientIdChain.length === 2)
    first.venue.setReferencePrice('BTC-USD', parseDecimal('59100'))
    await until(() => orders.get(orderId)?.status === 'Filled')
    const venueOrderId = orders.get(orderId)!.venueOrderId!
    const trades = first.venue.inspect().trades.filter((trade) => trade.venueOrderId === venueOrderId)
    expect(trades.map((trade) => trade.clientOrderId)).toEqual([amendClientOrderId(orderId, 1)])
    await harness.stop(first)

    const second = await harness.start(dataDir)
    expect(second.venue.inspect().trades.filter((trade) => trade.venueOrderId === venueOrderId)).toEqual(trades)
    const office = backOfficeOf(second.gateway)
    expect((await office.reconcile()).skipped).toEqual([])
    expect(office.openBreaks).toEqual([])
  }, 20_000)
})
