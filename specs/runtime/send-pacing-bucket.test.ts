/**
 * The request budget's bucket (src/runtime/send-pacing.ts) on its own: one second's worth at start, refilled at the
 * rate in integer milli-tokens (exact on a simulated clock), Lane0's calls spending it into a debt of at most one
 * second's worth, and the wake time the executor's timer is armed with.
 */

import { describe, expect, test } from 'bun:test'
import { SimClock } from '../../src/runtime/clock.ts'
import { SendPacing } from '../../src/runtime/send-pacing.ts'

const T0 = 1_767_225_600_000
const KEY = 'v1:ABC'

function pacing(rateLimitPerSecond: number): SendPacing {
  return new SendPacing(new SimClock({ startMs: T0 }), [{ venue: 'v1', symbol: 'ABC', rateLimitPerSecond }])
}

/** Picks at `nowMs` until the budget is spent; how many it took. */
function spendAll(budget: SendPacing, nowMs: number): number {
  budget.pumpAt(nowMs)
  let taken = 0
  while (!budget.spent(KEY)) {
    budget.took('v1', 'ABC')
    taken++
  }
  return taken
}

describe('the request budget per venue×symbol', () => {
  test("a second's worth at start, then one token every 1000/rate ms; the wake is when the next one is whole", () => {
    const budget = pacing(4)
    expect(spendAll(budget, T0)).toBe(4)
    expect(budget.dueMsBefore(Number.POSITIVE_INFINITY)).toBe(T0 + 250)
    expect(spendAll(budget, T0 + 249)).toBe(0)
    expect(spendAll(budget, T0 + 250)).toBe(1)
    // Ten seconds of quiet refill one second's worth, no more.
    expect(spendAll(budget, T0 + 10_250)).toBe(4)
  })

  test("Lane0's calls are never refused but spend the budget, into a debt of at most one second's worth", () => {
    const budget = pacing(5)
    budget.pumpAt(T0)
    for (let cancel = 0; cancel < 50; cancel++) budget.took('v1', 'ABC')
    expect(budget.spent(KEY)).toBe(true)
    // From −5 tokens, a whole one is back after 6 × 200 ms.
    expect(budget.dueMsBefore(Number.POSITIVE_INFINITY)).toBe(T0 + 1_200)
    expect(spendAll(budget, T0 + 1_199)).toBe(0)
    expect(spendAll(budget, T0 + 1_200)).toBe(1)
  })

  test('an instrument without a budget is never paced, and a budget below 1 is none', () => {
    const budget = new SendPacing(new SimClock({ startMs: T0 }), [{ venue: 'v1', symbol: 'ABC', rateLimitPerSecond: 0 }])
    expect(budget.active).toBe(false)
    budget.pumpAt(T0)
    for (let place = 0; place < 100; place++) budget.took('v1', 'ABC')
    expect(budget.spent(KEY)).toBe(false)
    expect(budget.spent('v1:OTHER')).toBe(false)
    expect(budget.dueMsBefore(Number.POSITIVE_INFINITY)).toBe(Number.POSITIVE_INFINITY)
  })

  test('a wait is counted once however often the pick finds the budget spent, by venue', () => {
    const budget = pacing(2)
    spendAll(budget, T0)
    for (let pick = 0; pick < 10; pick++) budget.spent(KEY)
    expect(budget.stats.waitsByVenue.get('v1')).toBe(1)
    spendAll(budget, T0 + 500)
    expect(budget.stats.waitsByVenue.get('v1')).toBe(2)
  })
})
