/**
 * The capability guard rounds a new order's price to the tick and its quantity down to the lot (guard 6). The body
 * itself is not in the log (its digest is), so the decision record is the only place that can say what was asked; it
 * showed only the rounded order — an order of 0.00155 BTC at 50 000.005 read as one of 0.0015 at 50 000, and a
 * quantity of 0.00005 refused QTY_BELOW_MIN read "qty 0". Now the guard's inputs keep the asked quantity and price
 * beside the rounded ones wherever rounding moved them (requestedQty, requestedPrice); an order on the tick and lot
 * records what it always did.
 */

import { describe, expect, test } from 'bun:test'
import type { EventOf } from '../../src/domain/events/index.ts'
import type { GuardRecord } from '../../src/domain/guards.ts'
import { Harness } from './fixtures.ts'

function capabilityOf(decision: ReturnType<Harness['run']>): GuardRecord {
  const event = decision.events.find((item) => item.type === 'order.accepted' || item.type === 'order.rejected') as EventOf<'order.accepted' | 'order.rejected'> | undefined
  const guard = event?.decision.guards.find((item) => item.guard === 'capability')
  if (guard === undefined) throw new Error(`no capability guard recorded: ${JSON.stringify(decision.reply)}`)
  return guard
}

describe('the capability guard records what rounding moved', () => {
  test('a buy off the tick and the lot records the asked price and quantity beside the rounded ones', () => {
    const harness = Harness.funded()
    // BTC-USD: tick 0.01, lot 0.0001. A buy's price rounds down, its quantity down.
    const decision = harness.place({ qty: '0.00155', price: '50000.005', client_order_id: 'off' })
    expect(decision.reply).toMatchObject({ kind: 'accepted' })
    expect(capabilityOf(decision).inputs).toMatchObject({ qty: '0.0015', requestedQty: '0.00155', price: '50000', requestedPrice: '50000.005' })
  })

  test("a sell's price rounds up to the tick, and the record says from what", () => {
    const harness = Harness.funded()
    const inputs = capabilityOf(harness.place({ side: 'sell', qty: '0.1', price: '50000.001', client_order_id: 'sell' })).inputs
    expect(inputs).toMatchObject({ qty: '0.1', price: '50000.01', requestedPrice: '50000.001' })
    expect(inputs).not.toHaveProperty('requestedQty')
  })

  test('a quantity rounded to nothing is refused QTY_BELOW_MIN, and the record shows the quantity asked', () => {
    const harness = Harness.funded()
    const decision = harness.place({ qty: '0.00005', client_order_id: 'dust' })
    expect(decision.reply).toMatchObject({ kind: 'rejected', reason: 'QTY_BELOW_MIN', guard: 'capability' })
    expect(capabilityOf(decision).inputs).toMatchObject({ qty: '0', requestedQty: '0.00005' })
  })

  test('an order on the tick and the lot records no asked values: its record is as before', () => {
    const harness = Harness.funded()
    const inputs = capabilityOf(harness.place({ qty: '0.1', price: '50000', client_order_id: 'on' })).inputs
    expect(inputs).not.toHaveProperty('requestedQty')
    expect(inputs).not.toHaveProperty('requestedPrice')
    // Trailing zeros are the same amount: nothing was rounded.
    const same = capabilityOf(harness.place({ qty: '0.10', price: '50000.00', client_order_id: 'zeros' })).inputs
    expect(same).not.toHaveProperty('requestedQty')
    expect(same).not.toHaveProperty('requestedPrice')
  })
})
