/**
 * An escalation ends the work of at most `ordersMax` orders per decision (mode-escalation.ts): one decision ending
 * every never-acknowledged place left Unknown by a venue outage wrote more records than the log's queue takes, and the
 * mode change (a safety action) was refused as overloaded however often it was asked. Now a decision with more work
 * ends the first `ordersMax` orders' (by order id) and leaves the mode as it was; asked again it ends the next ones, and
 * the one that ends the last records the change.
 */

import { describe, expect, test } from 'bun:test'
import { MODE_ESCALATION_ORDERS_MAX } from '../../src/kernel/mode-escalation.ts'
import { ACCOUNT, admin, config, d, Harness, policy, trader } from './fixtures.ts'

const paperOnly = { ...trader, liveAllowed: false }

function escalate(harness: Harness, ordersMax?: number) {
  return harness.run({ kind: 'set_mode', nowMs: harness.nowMs, principal: admin, mode: 'live', note: '', ...(ordersMax === undefined ? {} : { ordersMax }) })
}

/** `count` paper places sent and answered unknown: Unknown, never acknowledged, waiting in Lane3 to be read back. */
function unknownPlaces(harness: Harness, count: number): string[] {
  const orderIds: string[] = []
  for (let index = 0; index < count; index++) {
    const orderId = harness.placedId({ client_order_id: `c${index}`, qty: '0.001' }, { principal: paperOnly })
    harness.send(orderId)
    harness.placeResult(orderId, { kind: 'unknown', reason: 'timeout' })
    orderIds.push(orderId)
  }
  return orderIds.sort()
}

describe('paper → live with more work than one decision ends', () => {
  test('is decided in parts of ordersMax orders, by order id; the last part records the change', () => {
    const harness = Harness.funded()
    const orderIds = unknownPlaces(harness, 5)
    const first = escalate(harness, 2)
    expect(first.reply.kind).toBe('done')
    expect(harness.eventTypes(first)).toEqual(['order.cancel_requested', 'order.cancel_requested'])
    expect(first.events.map((event) => (event as { orderId: string }).orderId)).toEqual(orderIds.slice(0, 2))
    expect(harness.state.mode).toBe('paper')
    expect(harness.eventTypes(escalate(harness, 2))).toEqual(['order.cancel_requested', 'order.cancel_requested'])
    expect(harness.state.mode).toBe('paper')
    expect(harness.eventTypes(escalate(harness, 2))).toEqual(['order.cancel_requested', 'mode.changed'])
    expect(harness.state.mode).toBe('live')
    for (const orderId of orderIds) expect(harness.order(orderId)).toMatchObject({ status: 'Unknown', cancelWanted: true, lastReason: 'MODE_ESCALATED' })
  })

  test('work that fits one decision is ended with the change in it, as before', () => {
    const harness = Harness.funded()
    unknownPlaces(harness, 3)
    expect(harness.eventTypes(escalate(harness, 3))).toEqual(['order.cancel_requested', 'order.cancel_requested', 'order.cancel_requested', 'mode.changed'])
    expect(harness.state.mode).toBe('live')
  })

  test("a command without ordersMax (a start's own change, an older leader's command record) ends all of it at once, past the cap too", () => {
    // A standby re-deciding an older leader's record must decide what that leader decided: the whole, in one decision.
    const harness = Harness.funded({ config: config({ policies: [policy({ maxOpenOrders: MODE_ESCALATION_ORDERS_MAX + 1 })], params: { lane2DepthMax: 10_000 } }) })
    harness.run({ kind: 'fund', nowMs: harness.nowMs, principalId: 'config', accountId: ACCOUNT, asset: 'USD', amount: d('1000000'), reference: 'spec' })
    unknownPlaces(harness, MODE_ESCALATION_ORDERS_MAX + 1)
    const decided = escalate(harness)
    expect(decided.events.filter((event) => event.type === 'order.cancel_requested')).toHaveLength(MODE_ESCALATION_ORDERS_MAX + 1)
    expect(decided.events.at(-1)?.type).toBe('mode.changed')
    expect(harness.state.mode).toBe('live')
  }, 30_000)
})
