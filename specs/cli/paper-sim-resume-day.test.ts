// The paper sim venue resumes a resting DAY order with the expiry the venue gave it (src/runtime/paper-sim-memory.ts):
// a day after the venue took it, the venue time of its `new` report (src/backoffice/venue-facts.ts). Before, the
// rebuilt order counted its day from egress's acceptance, which is earlier by the send queue and the venue latency
// (serve's sim: 1 to 5 ms), so after a restart it expired that much early.
import { afterEach, describe, expect, test } from 'bun:test'
import { PaperRestarts, RESTING, place, until } from './paper-restart-harness.ts'

const harness = new PaperRestarts()
afterEach(() => harness.cleanup())

describe('the paper sim resume and DAY orders', () => {
  test('a resting DAY order comes back created when the venue took it, with the expiry the venue gave it', async () => {
    const dataDir = harness.newDataDir()
    const first = await harness.start(dataDir)
    const orderId = await place(first, { ...RESTING, tif: 'DAY' }, 'day-1')
    const orders = first.gateway.engine.state.orders
    await until(() => orders.get(orderId)?.status === 'AckedOpen')
    const order = orders.get(orderId)!
    const atFirst = first.venue.inspect().orders.find((held) => held.venueOrderId === order.venueOrderId)!
    expect(atFirst.expireAtMs).toBeDefined()
    // The venue took it after egress accepted it (the latency at least): the two clocks differ here.
    expect(atFirst.createdAtMs).toBeGreaterThan(order.acceptedAtMs)
    await harness.stop(first)

    const second = await harness.start(dataDir)
    const atSecond = second.venue.inspect().orders.find((held) => held.venueOrderId === order.venueOrderId)!
    expect(atSecond).toMatchObject({ status: 'open', tif: 'DAY', createdAtMs: atFirst.createdAtMs, expireAtMs: atFirst.expireAtMs! })
  }, 20_000)
})
