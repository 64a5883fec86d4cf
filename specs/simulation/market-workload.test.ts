/**
 * Market orders in the simulation's workload (scenario.ts Scenario.marketOrders, workload.ts validPlace): before, the
 * sim's policies allowed none, so no market order was ever accepted and market-order protection (a market order sent
 * as a limit at its protection price, src/kernel/venue-form.ts) met no fault, crash, replay or venue check. Now about
 * half the seeds allow them and place some; the market-protection invariant holds that no venue trade of one is worse
 * than its protection price. A seed that does not draw them, and the older workloads, place none, so their runs are
 * what they were.
 */

import { describe, expect, test } from 'bun:test'
import type { Units } from '../../src/domain/decimal.ts'
import type { Order } from '../../src/domain/orders.ts'
import type { SimInspection } from '../../src/venues/sim/index.ts'
import { describeFailure } from './batch.ts'
import { SIM_DEFAULTS } from './defaults.ts'
import { checkProtectedFills } from './invariants.ts'
import { runSeed } from './run-seed.ts'
import { drawScenario } from './scenario.ts'

const STEPS = 60
const OPTIONS = { steps: STEPS, stepMsMax: SIM_DEFAULTS.stepMsMax, strict: true }

describe('market orders in the simulation', () => {
  test('a seed that draws them gets market orders accepted and traded within their protection; one that does not, and older workloads, get none', async () => {
    expect(drawScenario(2, { steps: STEPS, horizonMs: 1 }).marketOrders).toBe(true)
    expect(drawScenario(1, { steps: STEPS, horizonMs: 1 }).marketOrders).toBe(false)
    const drawn = await runSeed(2, OPTIONS)
    expect(drawn.failure === null ? null : describeFailure(drawn.failure)).toBeNull()
    expect(drawn.stats.counters.marketOrders).toBeGreaterThan(0)
    expect(drawn.stats.counters.protectedTrades).toBeGreaterThan(0)
    for (const [seed, older] of [[1, {}], [2, { withoutTtl: true }]] as const) {
      const result = await runSeed(seed, { ...OPTIONS, ...older })
      expect(result.failure === null ? null : describeFailure(result.failure)).toBeNull()
      expect(result.stats.counters.marketOrders ?? 0).toBe(0)
    }
  }, 60_000)

  test('the check flags a venue trade of a protected market order worse than its protection price, a buy above and a sell below', () => {
    const order = (side: 'buy' | 'sell', protectionPrice: Units | null) =>
      ({ orderId: `o-${side}`, side, type: 'market', protectionPrice }) as unknown as Order
    const state = { orders: new Map([['o-buy', order('buy', 100n)], ['o-sell', order('sell', 90n)]]) } as never
    const trade = (orderId: string, price: Units) => ({ clientOrderId: `eg-${orderId}`, execId: `x-${orderId}-${price}`, price })
    const inspection = (trades: { clientOrderId: string; execId: string; price: Units }[]) => ({ trades }) as unknown as SimInspection
    expect(checkProtectedFills(state, inspection([trade('o-buy', 100n), trade('o-sell', 90n)]))).toEqual({ violations: [], trades: 2 })
    const worse = checkProtectedFills(state, inspection([trade('o-buy', 101n), trade('o-sell', 89n)]))
    expect(worse.violations.map((violation) => violation.invariant)).toEqual(['market-protection', 'market-protection'])
  })
})
