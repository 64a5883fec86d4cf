/**
 * The ledger invariants under the deterministic simulation: random orders (marketable, resting, cancels) on the sim
 * venue with injected faults (dropped and duplicated reports, timeouts after the venue applied a request, lost cancel
 * acks, 429 bursts), checked every few simulated milliseconds:
 *   - the ledger balances (every asset sums to zero across the books),
 *   - positions equal the sum of their fills,
 *   - ledger balances and reservations equal the kernel's (reserved = open reservations, Unknown at worst case),
 *   - no available balance goes negative (no paper account allows it),
 * and, at the end, a full reconcile finds no internal break.
 */

import { describe, expect, test } from 'bun:test'
import { backOfficeOf } from '../../src/backoffice/backoffice-of.ts'
import { ledgerBalanced, ledgerVsKernel } from '../../src/backoffice/internal-checks.ts'
import { drive, run, startWorld, traderA, traderB, worldsStoppedAfterEach, type World } from '../runtime/harness.ts'

const SEEDS = [101, 202, 303, 404, 505, 606]
const STEPS = 60

const worlds = worldsStoppedAfterEach()

/** A small seeded generator (mulberry32): the workload is reproducible per seed. */
function prng(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

const BOOK = [
  { symbol: 'BTC-USD', mid: 60_000, lot: 0.01 },
  { symbol: 'ETH-USD', mid: 3_000, lot: 0.1 },
]

function invariants(world: World): string[] {
  const office = backOfficeOf(world.gateway, { reconcileIntervalMs: null })
  const ledger = office.projector.ledger
  const problems: string[] = []
  for (const observation of ledgerBalanced(ledger)) problems.push(`unbalanced: ${observation.what}`)
  for (const position of ledger.positions.values()) {
    const net = position.boughtQty - position.soldQty
    if (net !== position.netQty) problems.push(`position ${position.accountId} ${position.symbol}: net ${position.netQty}, fills say ${net}`)
  }
  // Compare with the kernel only at the same log position (memory may run a batch ahead of the log).
  if (world.gateway.engine.state.lastLsn === ledger.lastLsn) {
    for (const observation of ledgerVsKernel(office.projector.balanceRows(), world.gateway.engine.state)) problems.push(`${observation.what}: ${observation.expected} vs ${observation.actual}`)
  }
  for (const row of office.projector.balanceRows()) if (row.total - row.reserved < 0n) problems.push(`negative available ${row.accountId}/${row.asset}`)
  return problems
}

describe('back-office invariants under the deterministic simulation', () => {
  for (const seed of SEEDS) {
    test(`seed ${seed}: balanced, positions = fills, ledger = kernel, available ≥ 0`, async () => {
      const world = await startWorld({
        seed,
        venueOptions: { partialFillProbability: 0.3 },
        faults: { dropReportProbability: 0.05, duplicateReportProbability: 0.05, timeoutAfterApplyProbability: 0.05, cancelAckLostProbability: 0.1, throttleBurstProbability: 0.02, throttleBurstMs: 200 },
      })
      worlds.push(world)
      const office = backOfficeOf(world.gateway, { reconcileIntervalMs: null })
      const random = prng(seed)
      const accepted: string[] = []
      for (let step = 0; step < STEPS; step++) {
        const roll = random()
        if (roll < 0.15 && accepted.length > 0) {
          const orderId = accepted[Math.floor(random() * accepted.length)] as string
          const principal = world.gateway.engine.state.orders.get(orderId)?.accountId === 'acct-a' ? traderA : traderB
          await world.gateway.cancel(principal, orderId)
        } else {
          const instrument = BOOK[Math.floor(random() * BOOK.length)] as (typeof BOOK)[number]
          const side = random() < 0.5 ? 'buy' : 'sell'
          const [principal, account] = random() < 0.7 ? [traderA, 'acct-a'] : [traderB, 'acct-b']
          // Within ±2% of the opening price: some cross at once, some rest.
          const price = Math.round(instrument.mid * (0.98 + random() * 0.04))
          const qty = (instrument.lot * (1 + Math.floor(random() * 20))).toFixed(2)
          const result = await world.gateway.place(principal, { account, symbol: instrument.symbol, side, type: 'limit', qty, price: String(price), client_order_id: `s${seed}-${step}` }, null)
          if (result.reply.kind === 'accepted') accepted.push(result.reply.orderId)
        }
        await run(world, 40)
        expect(invariants(world)).toEqual([])
      }
      await run(world, 3_000)
      expect(invariants(world)).toEqual([])
      expect(office.projector.ledger.counters.fills).toBeGreaterThan(0)
      const result = await drive(world, office.reconcile())
      expect(result.observations.filter((observation) => observation.check.startsWith('ledger_'))).toEqual([])
    })
  }
})
