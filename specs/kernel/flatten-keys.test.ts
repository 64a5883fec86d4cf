/**
 * A flatten's closes and the cap on idempotency keys held (params.idempotencyKeysHeldMax, src/kernel/key-window.ts). The
 * cap is the whole gateway's, not an account's; intake refuses new orders at it (OVERLOADED), but a flatten is a kill
 * switch: its closes are not refused for a full index, they take their keys past the cap. One flatten takes at most
 * FLATTEN_CLOSES_PER_INSTRUMENT_MAX per base asset; flattens that close again what earlier closes left unfilled take
 * more each time, so the index past the cap is bounded by their rate over the key window only (README, "Not defended").
 */

import { describe, expect, test } from 'bun:test'
import type { DomainEvent, EventOf } from '../../src/domain/events/index.ts'
import type { KernelParams } from '../../src/domain/kernel-config.ts'
import { FLATTEN_CLOSES_PER_INSTRUMENT_MAX } from '../../src/kernel/index.ts'
import { ACCOUNT, config, d, Harness, market, ops } from './fixtures.ts'

const CAP = 4
const PARAMS: Partial<KernelParams> = { idempotencyKeyHeldMs: 3_600_000, idempotencyKeysHeldMax: CAP }

function flatten(h: Harness, flattenId: string) {
  const markets = { 'sim:BTC-USD': market('50000', { observedAtMs: h.nowMs }), 'sim:AAPL': market('190', { observedAtMs: h.nowMs }) }
  return h.run({ kind: 'flatten', nowMs: h.nowMs, principal: ops, accountId: ACCOUNT, flattenId, markets })
}

function closesOf(events: readonly DomainEvent[]): EventOf<'order.accepted'>[] {
  return events.filter((event): event is EventOf<'order.accepted'> => event.type === 'order.accepted')
}

/** The index at its cap: CAP orders placed and canceled within the window; a new order is refused. */
function atCap(): Harness {
  const h = Harness.funded({ config: config({ params: PARAMS }) })
  for (let index = 0; index < CAP; index++) h.cancel(h.placedId({ client_order_id: `k${index}` }, { market: market('50000', { observedAtMs: h.nowMs }) }))
  expect(h.state.idempotency.size).toBe(CAP)
  expect(h.place({ client_order_id: 'over' }, { market: market('50000', { observedAtMs: h.nowMs }) }).reply).toMatchObject({ kind: 'rejected', reason: 'OVERLOADED' })
  return h
}

describe("a flatten's closes with the key index at its cap", () => {
  test('are sent, each under its own key past the cap: a kill switch is not refused for a full index', () => {
    const h = atCap()
    const decision = flatten(h, 'f-1')
    expect(closesOf(decision.events).map((close) => [close.symbol, close.qty])).toEqual([['AAPL', d('50')], ['BTC-USD', d('2')]])
    expect((decision.events[0] as EventOf<'account.flatten_requested'>).notClosed).toEqual([])
    expect(h.state.idempotency.size).toBe(CAP + 2)
  })

  test(`take at most ${FLATTEN_CLOSES_PER_INSTRUMENT_MAX} keys per base asset in one flatten, a holding of many maxQty included`, () => {
    const h = atCap()
    h.run({ kind: 'fund', nowMs: h.nowMs, principalId: 'config', accountId: ACCOUNT, asset: 'BTC', amount: d('100000'), reference: 'spec' })
    const closes = closesOf(flatten(h, 'f-1').events)
    expect(closes.filter((close) => close.baseAsset === 'BTC')).toHaveLength(FLATTEN_CLOSES_PER_INSTRUMENT_MAX)
    expect(h.state.idempotency.size).toBe(CAP + FLATTEN_CLOSES_PER_INSTRUMENT_MAX + 1)
  })
})
