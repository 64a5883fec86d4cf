/**
 * The work index with several venues and a venue's share of the runtime's call budget (NextWorkOptions.venueHeld,
 * runtime/call-budget.ts): a held venue's Lanes 1–3 groups are passed over, its Lane0 never is. Seeded random traffic
 * over two venues (places, cancels, venue answers, Unknown orders read back, time passing), and after every step the
 * index and the walk (reference-next-work.ts) are asked with random venues held, busy and reconcile-held sets: the
 * answers must be the same item, pick after pick, and a held venue's places, amends and read-backs are never picked.
 */

import { describe, expect, test } from 'bun:test'
import { instrumentKey } from '../../src/domain/instruments.ts'
import type { KernelConfig } from '../../src/domain/kernel-config.ts'
import { nextWork, type NextWorkOptions, type WorkItem } from '../../src/kernel/index.ts'
import { queueMismatches } from '../../src/kernel/queues.ts'
import { ACCOUNT, config, d, Harness, body, ops, paperFacts, placeCommand, policy, trader } from './fixtures.ts'
import { prng as random } from '../wal/support.ts'
import { referenceNextWork } from './reference-next-work.ts'
import { answerOneCall, answerReadBack } from './work-answers.ts'

const VENUES = ['sim', 'sim2', 'sim3'] as const
const SYMBOLS = [
  { symbol: 'BTC-USD', price: '50000', qty: '0.001' },
  { symbol: 'ETH-USD', price: '3000', qty: '0.01' },
] as const

/** The sim's instruments under every venue of VENUES, each allowed. */
function venuesConfig(callsPerInstrumentMax: number): KernelConfig {
  const keys = VENUES.flatMap((venue) => SYMBOLS.map((leg) => instrumentKey(venue, leg.symbol)))
  const base = config({ policies: [policy({ maxOpenOrders: 100_000, instruments: keys })], params: { callsPerInstrumentMax, lane2DepthMax: 100_000, accountQueuedMax: 100_000 } })
  const sims = base.instruments.filter((instrument) => instrument.venue === 'sim')
  return { ...base, instruments: VENUES.flatMap((venue) => sims.map((instrument) => ({ ...instrument, venue }))) }
}

class VenuesDriver {
  readonly harness: Harness
  readonly rand: () => number
  compared = 0
  picked = 0
  heldPassedOver = 0
  lane0WhileHeld = 0
  private key = 0

  constructor(seed: number) {
    this.rand = random(seed)
    this.harness = Harness.funded({ config: venuesConfig(1 + this.int(3)) })
    this.harness.run({ kind: 'fund', nowMs: this.harness.nowMs, principalId: 'config', accountId: ACCOUNT, asset: 'USD', amount: d('100000000'), reference: 'more' })
  }

  int(bound: number): number {
    return Math.floor(this.rand() * bound)
  }

  options(): NextWorkOptions {
    const state = this.harness.state
    const busy = new Set<string>()
    const reconcileHeld = new Set<string>()
    for (const queue of state.queues) for (const orderId of queue.keys()) if (this.rand() < 0.04) busy.add(orderId)
    for (const orderId of state.queues[3].keys()) if (this.rand() < 0.2) reconcileHeld.add(orderId)
    const held = new Set<string>(VENUES.filter(() => this.rand() < 0.4))
    return { nowMs: this.harness.nowMs, busy, reconcileHeld, lane3First: this.rand() < 0.2, venueHeld: (venue) => held.has(venue) }
  }

  compare(options: NextWorkOptions, context: string): WorkItem | null {
    const expected = referenceNextWork(this.harness.state, options)
    const actual = nextWork(this.harness.state, options)
    this.compared++
    if (JSON.stringify(actual) !== JSON.stringify(expected)) throw new Error(`${context}: index picked ${JSON.stringify(actual)}, the walk ${JSON.stringify(expected)}`)
    if (actual !== null && options.venueHeld?.(actual.venue) === true) {
      if (actual.lane !== 0) throw new Error(`${context}: ${JSON.stringify(actual)} picked from a held venue`)
      this.lane0WhileHeld++
    }
    return actual
  }

  step(index: number): void {
    const roll = this.rand()
    const context = `step ${index}`
    if (roll < 0.3) this.place()
    else if (roll < 0.55) this.pick(context)
    else if (roll < 0.75) this.answer()
    else if (roll < 0.85) this.cancel()
    else if (roll < 0.95) this.harness.nowMs += this.int(1_500)
    else this.harness.run({ kind: 'kill_switch', nowMs: this.harness.nowMs, principal: ops, action: this.rand() < 0.5 ? 'CANCEL_ONLY' : 'RESUME', note: 'spec' })
    this.compare(this.options(), context)
  }

  place(): void {
    const leg = SYMBOLS[this.int(SYMBOLS.length)] ?? SYMBOLS[0]
    const venue = VENUES[this.int(VENUES.length)] ?? 'sim'
    const market = { referencePrice: d(leg.price), observedAtMs: this.harness.nowMs, previousPrice: null }
    this.harness.run(placeCommand({ nowMs: this.harness.nowMs, body: body({ client_order_id: `k${this.key++}`, venue, symbol: leg.symbol, qty: leg.qty, price: leg.price }), market }))
  }

  /** As the executor: pick with the venues held at the time (they change as calls start and end), then start it. */
  pick(context: string): void {
    for (let picks = 1 + this.int(6); picks > 0; picks--) {
      const options = this.options()
      const unheld = this.compare({ ...options, venueHeld: undefined }, context)
      const item = this.compare(options, context)
      if (unheld !== null && unheld.lane !== 0 && options.venueHeld?.(unheld.venue) === true) this.heldPassedOver++
      if (item === null) return
      this.picked++
      if (item.kind === 'reconcile') this.reconcile(item.orderId)
      else this.harness.send(item.orderId, item.kind, paperFacts)
    }
  }

  answer(): void {
    answerOneCall(this.harness, this.rand)
  }


  cancel(): void {
    const ids = [...this.harness.state.orders.keys()]
    const orderId = ids[this.int(ids.length)]
    if (orderId !== undefined) this.harness.run({ kind: 'cancel', nowMs: this.harness.nowMs, principal: trader, orderId, reason: 'USER_CANCEL' })
  }

  reconcile(orderId: string): void {
    answerReadBack(this.harness, this.rand, orderId)
  }

}

describe('the work index with venues held by their share of the call budget', () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    test(`seed ${seed}: the same item as the walk after every step, a held venue's Lanes 1–3 never picked, its Lane0 always`, () => {
      const driver = new VenuesDriver(seed)
      for (let index = 0; index < 1_500; index++) {
        driver.step(index)
        if (index % 100 === 0) expect(queueMismatches(driver.harness.state)).toEqual([])
      }
      expect(driver.picked).toBeGreaterThan(60)
      expect(driver.heldPassedOver).toBeGreaterThan(10)
      expect(driver.lane0WhileHeld).toBeGreaterThan(5)
      expect(driver.compared).toBeGreaterThan(2_000)
    })
  }
})
