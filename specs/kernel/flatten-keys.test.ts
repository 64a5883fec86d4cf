/**
 * A flatten's closes and the cap on idempotency keys held (params.idempotencyKeysHeldMax, src/kernel/flatten-keys.ts).
 * The cap is the whole gateway's; intake refuses new orders at it (OVERLOADED), but a flatten is a kill switch: its
 * closes are not refused for a full index, they take their keys past the cap. They took them without bound: a flatten
 * whose closes ended unfilled, flattened again under a new key, took a key per close each time, so a loop of them grew
 * the index past the cap as fast as the venue answered. Now the closes take keys past the cap up to
 * FLATTEN_CLOSES_PER_INSTRUMENT_MAX per instrument configured (one flatten's most), counting the keys the index lets go
 * at the decision, those of ended orders retention retires at the next order event included; a close past that is not
 * sent and is named in not_closed as OVERLOADED.
 */

import { describe, expect, test } from 'bun:test'
import type { DomainEvent, EventOf } from '../../src/domain/events/index.ts'
import type { KernelParams } from '../../src/domain/kernel-config.ts'
import { FLATTEN_CLOSES_PER_INSTRUMENT_MAX } from '../../src/kernel/index.ts'
import { dueForRetirement, retireDueAt } from '../../src/kernel/retention.ts'
import { cloneState } from '../../src/kernel/state.ts'
import { ACCOUNT, config, d, Harness, market, ops } from './fixtures.ts'

const HOUR_MS = 3_600_000
const CAP = 4
/** Ended orders retire at the next order event (one kept), so only the window holds their keys. */
const PARAMS: Partial<KernelParams> = { idempotencyKeyHeldMs: HOUR_MS, idempotencyKeysHeldMax: CAP, terminalOrdersKeptMax: 1, terminalOrderRetireAfterMs: 0 }

function flatten(h: Harness, flattenId: string) {
  const markets = { 'sim:BTC-USD': market('50000', { observedAtMs: h.nowMs }), 'sim:AAPL': market('190', { observedAtMs: h.nowMs }) }
  return h.run({ kind: 'flatten', nowMs: h.nowMs, principal: ops, accountId: ACCOUNT, flattenId, markets })
}

function closesOf(events: readonly DomainEvent[]): EventOf<'order.accepted'>[] {
  return events.filter((event): event is EventOf<'order.accepted'> => event.type === 'order.accepted')
}

function notClosedOf(events: readonly DomainEvent[]): unknown {
  return (events[0] as EventOf<'account.flatten_requested'>).notClosed
}

/** The index at its cap: CAP orders placed and canceled within the window; a new order is refused. */
function atCap(params: Partial<KernelParams> = PARAMS): Harness {
  const h = Harness.funded({ config: config({ params }) })
  for (let index = 0; index < CAP; index++) h.cancel(h.placedId({ client_order_id: `k${index}` }, { market: market('50000', { observedAtMs: h.nowMs }) }))
  expect(h.state.idempotency.size).toBe(CAP)
  expect(h.place({ client_order_id: 'over' }, { market: market('50000', { observedAtMs: h.nowMs }) }).reply).toMatchObject({ kind: 'rejected', reason: 'OVERLOADED' })
  return h
}

/**
 * Flattens whose closes end unfilled (IOC on an empty book, canceled here) until the closes are withheld, `stepMs` apart
 * (0: all at one instant, where retention retires none of the orders touched at it).
 */
function loopUntilWithheld(h: Harness, roundsMax: number, stepMs = 0): number {
  for (let round = 0; round < roundsMax; round++) {
    h.nowMs += stepMs
    const closes = closesOf(flatten(h, `loop-${round}`).events)
    if (closes.length === 0) return round
    for (const close of closes) h.cancel(close.orderId)
  }
  return roundsMax
}

const EVERYTHING_OVERLOADED = [
  { asset: 'AAPL', qty: d('50'), reason: 'OVERLOADED' },
  { asset: 'BTC', qty: d('2'), reason: 'OVERLOADED' },
]

describe("a flatten's closes with the key index at its cap", () => {
  test('are sent, each under its own key past the cap: a kill switch is not refused for a full index', () => {
    const h = atCap()
    const decision = flatten(h, 'f-1')
    expect(closesOf(decision.events).map((close) => [close.symbol, close.qty])).toEqual([['AAPL', d('50')], ['BTC-USD', d('2')]])
    expect(notClosedOf(decision.events)).toEqual([])
    expect(h.state.idempotency.size).toBe(CAP + 2)
  })

  test(`take at most ${FLATTEN_CLOSES_PER_INSTRUMENT_MAX} keys per base asset in one flatten, a holding of many maxQty included`, () => {
    const h = atCap()
    h.run({ kind: 'fund', nowMs: h.nowMs, principalId: 'config', accountId: ACCOUNT, asset: 'BTC', amount: d('100000'), reference: 'spec' })
    const closes = closesOf(flatten(h, 'f-1').events)
    expect(closes.filter((close) => close.baseAsset === 'BTC')).toHaveLength(FLATTEN_CLOSES_PER_INSTRUMENT_MAX)
    expect(h.state.idempotency.size).toBe(CAP + FLATTEN_CLOSES_PER_INSTRUMENT_MAX + 1)
  })

  test(`a loop of flattens closing again what ended unfilled holds at most ${FLATTEN_CLOSES_PER_INSTRUMENT_MAX} keys per instrument past the cap`, () => {
    const h = atCap()
    const pastCapMax = FLATTEN_CLOSES_PER_INSTRUMENT_MAX * h.state.instruments.size
    // Two closes a round: the bound is reached after pastCapMax / 2 rounds, and every flatten after is withheld.
    expect(loopUntilWithheld(h, pastCapMax)).toBe(pastCapMax / 2)
    expect(h.state.idempotency.size).toBe(CAP + pastCapMax)
    for (let round = 0; round < 20; round++) {
      const decision = flatten(h, `more-${round}`)
      expect(closesOf(decision.events)).toEqual([])
      expect(notClosedOf(decision.events)).toEqual(EVERYTHING_OVERLOADED)
    }
    expect(h.state.idempotency.size).toBe(CAP + pastCapMax)
    const alerts = flatten(h, 'more-last').events.flatMap((event) => (event.type === 'alert.raised' ? [event.detail] : []))
    expect(alerts).toEqual([expect.stringContaining('sim:AAPL: 50 not closed (OVERLOADED; '), expect.stringContaining('sim:BTC-USD: 2 not closed (OVERLOADED; ')])
  })

  test('once the window has passed, the keys the walks forget (their orders retired) make room again', () => {
    const h = atCap()
    const pastCapMax = FLATTEN_CLOSES_PER_INSTRUMENT_MAX * h.state.instruments.size
    // A millisecond apart: each order event retires the orders ended before it, their keys held for the window only.
    loopUntilWithheld(h, pastCapMax, 1)
    expect(h.state.idempotency.size).toBe(CAP + pastCapMax)
    h.nowMs += 2 * HOUR_MS
    expect(closesOf(flatten(h, 'f-later').events).map((close) => close.qty)).toEqual([d('50'), d('2')])
    // The walks of the closes' own keys forgot aged ones first: the index never left the bound.
    expect(h.state.idempotency.size).toBeLessThanOrEqual(CAP + pastCapMax)
  })
})

describe('a kill switch on a quiet gateway at the bound', () => {
  // Ended orders are held three hours (keys one): past both, nothing retires them until an order event comes.
  const QUIET: Partial<KernelParams> = { ...PARAMS, terminalOrderRetireAfterMs: 3 * HOUR_MS }

  /** At the bound with every key's order ended; then four quiet hours: the orders are due to retire, their keys aged. */
  function quietAtBound(): Harness {
    const h = atCap(QUIET)
    loopUntilWithheld(h, FLATTEN_CLOSES_PER_INSTRUMENT_MAX * h.state.instruments.size)
    expect(notClosedOf(flatten(h, 'withheld').events)).toEqual(EVERYTHING_OVERLOADED)
    h.nowMs += 4 * HOUR_MS
    return h
  }

  test('closes: the keys of ended orders due to retire count as room, though no order event has retired them yet', () => {
    const h = quietAtBound()
    const pastCapMax = FLATTEN_CLOSES_PER_INSTRUMENT_MAX * h.state.instruments.size
    const sizeBefore = h.state.idempotency.size
    const decision = flatten(h, 'kill')
    // Counting only the keys the walks forget (orders no longer held), these closes were withheld for as long as no
    // order event came.
    expect(closesOf(decision.events).map((close) => close.qty)).toEqual([d('50'), d('2')])
    expect(notClosedOf(decision.events)).toEqual([])
    // The keys it counted go at the next order event (here the close ending): the index is back within the bound.
    expect(h.state.idempotency.size).toBe(sizeBefore + 2)
    h.cancel(closesOf(decision.events)[0]?.orderId as string)
    expect(h.state.idempotency.size).toBeLessThanOrEqual(CAP + pastCapMax)
    expect(h.state.idempotency.size).toBeLessThan(10)
  })

  test('the orders counted as due are exactly those retention retires then', () => {
    const h = quietAtBound()
    const due = [...dueForRetirement(h.state, h.nowMs)]
    const retired = cloneState(h.state)
    retireDueAt(retired, h.nowMs)
    const gone = [...h.state.orders.keys()].filter((orderId) => !retired.orders.has(orderId))
    expect(due.length).toBeGreaterThan(300)
    expect(due.toSorted()).toEqual(gone.toSorted())
    // Read only: counting retired nothing.
    expect(h.state.orders.size).toBe(retired.orders.size + due.length)
  })
})
