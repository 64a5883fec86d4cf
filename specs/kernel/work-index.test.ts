/**
 * nextWork reads the work index (src/kernel/work-index.ts) instead of walking the lane queues. These specs drive a
 * kernel through seeded random traffic — places in Lane1/Lane2, flatten closes in Lane0, cancels, amends, venue
 * answers (ok, rejected, retryable with a backoff, unknown), reconcile answers, kill switches, reconfigured call
 * slots, time passing, send decisions that threw (held while their wait runs and the order is unchanged, as the
 * executor's send-throws.ts) — and after every step ask both the index and the walk it replaced (kept below as the
 * reference) with random busy and reconcile-held sets: the answers must be the same item, pick after pick.
 */

import { describe, expect, test } from 'bun:test'
import { defaultSimInstruments, instrumentKey } from '../../src/domain/instruments.ts'
import type { Lane } from '../../src/domain/modes.ts'
import { nextDueMs, nextWork, type NextWorkOptions, type WorkItem } from '../../src/kernel/index.ts'
import { callsMaxFor, everyInstrumentFull } from '../../src/kernel/in-flight.ts'
import { queueMismatches } from '../../src/kernel/queues.ts'
import { workIndexOf } from '../../src/kernel/work-index.ts'
import { switchHolds } from '../../src/kernel/send.ts'
import { ACCOUNT, config, d, Harness, market, ops, paperFacts, placeCommand, body, policy, trader } from './fixtures.ts'
import { prng as random } from '../wal/support.ts'
import { referenceNextWork } from './reference-next-work.ts'
import { answerOneCall, answerReadBack } from './work-answers.ts'

// A reduce-only sell goes at sellPrice, above the buys: at their price it would cross them (SELF_TRADE_PREVENTED).
const SYMBOLS = [
  { symbol: 'BTC-USD', price: '50000', sellPrice: '50500', qty: '0.001' },
  { symbol: 'ETH-USD', price: '3000', sellPrice: '3030', qty: '0.01' },
  { symbol: 'AAPL', price: '190', sellPrice: '191', qty: '1' },
] as const

class Driver {
  readonly harness: Harness
  readonly rand: () => number
  compared = 0
  picked = 0
  /** Null picks with items backing off (the timer case), and reconcile items picked. */
  dueChecks = 0
  reconcilesPicked = 0
  /** Send decisions that threw (picks whose send was not made), and picks made while one was held. */
  sendThrows = 0
  picksWhileSendHeld = 0
  private key = 0
  /** Orders whose send decision threw: the order as it was then, and when its wait ends (runtime/send-throws.ts). */
  private readonly sendHolds = new Map<string, { status: string; updatedAtMs: number; untilMs: number }>()
  /** As the executor's: the wait's end while the order is unchanged since the throw, else 0. */
  readonly sendHeldUntilMs = (orderId: string): number => {
    const hold = this.sendHolds.get(orderId)
    const order = this.harness.state.orders.get(orderId)
    return hold !== undefined && order !== undefined && order.status === hold.status && order.updatedAtMs === hold.updatedAtMs ? hold.untilMs : 0
  }

  constructor(seed: number) {
    this.rand = random(seed)
    this.harness = Harness.funded({ config: this.config() })
    this.harness.run({ kind: 'fund', nowMs: this.harness.nowMs, principalId: 'config', accountId: ACCOUNT, asset: 'USD', amount: d('100000000'), reference: 'more' })
  }

  int(bound: number): number {
    return Math.floor(this.rand() * bound)
  }

  config(): ReturnType<typeof config> {
    const symbols = ['sim:BTC-USD', 'sim:ETH-USD', 'sim:AAPL']
    return config({ policies: [policy({ maxOpenOrders: 100_000, instruments: symbols })], params: { callsPerInstrumentMax: 1 + this.int(3), lane2DepthMax: 100_000 } })
  }

  market(price: string): { referencePrice: bigint; observedAtMs: number; previousPrice: null } {
    return { referencePrice: d(price), observedAtMs: this.harness.nowMs, previousPrice: null }
  }

  /**
   * Random options as the executor passes them: a few busy orders, some reconcile items held, some instruments paced;
   * now, or a bit earlier.
   */
  options(): NextWorkOptions {
    const state = this.harness.state
    const busy = new Set<string>()
    const reconcileHeld = new Set<string>()
    for (const queue of state.queues) for (const orderId of queue.keys()) if (this.rand() < 0.04) busy.add(orderId)
    for (const orderId of state.queues[3].keys()) if (this.rand() < 0.3) reconcileHeld.add(orderId)
    const nowMs = this.rand() < 0.1 ? this.harness.nowMs - this.int(2_000) : this.harness.nowMs
    // The executor's share for Lane3 (runtime/lane3-share.ts): now and then Lane3 is looked at before Lanes 1–2.
    // The executor's pacing (runtime/send-pacing.ts): now and then an instrument's request budget is spent.
    const paced = new Set(['sim:BTC-USD', 'sim:ETH-USD', 'sim:AAPL'].filter(() => this.rand() < 0.25))
    return { nowMs, busy, reconcileHeld, lane3First: this.rand() < 0.2, instrumentPaced: (key) => paced.has(key), sendHeldUntilMs: this.sendHeldUntilMs }
  }

  /** The options of a plain pick: the send holds are the executor's state, passed to every pick (as it does). */
  plain(): NextWorkOptions {
    return { nowMs: this.harness.nowMs, sendHeldUntilMs: this.sendHeldUntilMs }
  }

  /** Both answers for the same question; they must agree. */
  compare(options: NextWorkOptions, context: string): WorkItem | null {
    const expected = referenceNextWork(this.harness.state, options)
    const actual = nextWork(this.harness.state, options)
    this.compared++
    if (JSON.stringify(actual) !== JSON.stringify(expected)) {
      throw new Error(`${context}: index picked ${JSON.stringify(actual)}, the walk ${JSON.stringify(expected)}`)
    }
    if (actual === null) this.checkDue(options, context)
    return actual
  }

  /**
   * After a null pick, the timer the executor arms (nextDueMs) is no later than any not-due item nextWork can start
   * once due (not held, in a group with a free slot, budget left and no kill switch holding it), and is the notBeforeMs of a queued
   * item or the end of its send hold — never earlier than the first one. An item held by its send hold is startable
   * once both have passed.
   */
  checkDue(options: NextWorkOptions, context: string): void {
    const state = this.harness.state
    let firstDueMs = Number.POSITIVE_INFINITY
    let firstStartableDueMs = Number.POSITIVE_INFINITY
    const dues = new Set<number>()
    for (const [lane, queue] of state.queues.entries()) {
      const callsMax = callsMaxFor(state, lane as Lane)
      const callsBlocked = (lane as Lane) !== 3 && everyInstrumentFull(state, callsMax)
      for (const [orderId, kind] of queue) {
        const order = state.orders.get(orderId)
        if (order === undefined) continue
        const sendHeldUntilMs = options.sendHeldUntilMs?.(orderId) ?? 0
        const waits = [order.notBeforeMs, sendHeldUntilMs].filter((untilMs) => untilMs > options.nowMs)
        if (waits.length === 0) continue
        for (const untilMs of waits) dues.add(untilMs)
        firstDueMs = Math.min(firstDueMs, ...waits)
        const held = options.busy?.has(orderId) === true || (kind === 'reconcile' ? options.reconcileHeld?.has(orderId) === true : state.inFlight.has(orderId))
        // An instrument whose budget is spent wakes the executor when it returns (runtime/send-pacing.ts dueMsBefore).
        const paced = (lane === 1 || lane === 2) && options.instrumentPaced?.(instrumentKey(order.venue, order.symbol)) === true
        const slotFree = kind === 'reconcile' || (!callsBlocked && !paced && (state.callsByInstrument.get(instrumentKey(order.venue, order.symbol)) ?? 0) < callsMax && switchHolds(state, order, kind) === null)
        if (!held && slotFree) firstStartableDueMs = Math.min(firstStartableDueMs, Math.max(...waits))
      }
    }
    const dueMs = nextDueMs(state)
    if (firstDueMs !== Number.POSITIVE_INFINITY) this.dueChecks++
    const plausible = dueMs === Number.POSITIVE_INFINITY || dues.has(dueMs)
    if (!plausible || dueMs < firstDueMs || dueMs > firstStartableDueMs) {
      throw new Error(`${context}: nextDueMs ${dueMs}, queued items first due ${firstDueMs}, first startable ${firstStartableDueMs}`)
    }
  }

  step(index: number): void {
    const roll = this.rand()
    const context = `step ${index}`
    if (roll < 0.28) this.place()
    else if (roll < 0.5) this.pick(context)
    else if (roll < 0.7) this.answer()
    else if (roll < 0.77) this.cancel()
    else if (roll < 0.82) this.amend()
    else if (roll < 0.94) this.harness.nowMs += this.int(1_500)
    else if (roll < 0.96) this.killSwitch()
    else if (roll < 0.975) this.harness.run({ kind: 'configure', nowMs: this.harness.nowMs, config: this.config() })
    else if (roll < 0.985) this.flatten()
    else this.reconcileSome()
    this.compare(this.options(), context)
    this.compare(this.plain(), context)
  }

  place(): void {
    const reduceOnly = this.rand() < 0.2
    const leg = reduceOnly ? SYMBOLS[2] : (SYMBOLS[this.int(3)] ?? SYMBOLS[0])
    const overrides = { client_order_id: `k${this.key++}`, symbol: leg.symbol, qty: leg.qty, price: leg.price, ...(reduceOnly ? { side: 'sell', reduce_only: true, price: leg.sellPrice } : {}) }
    this.harness.run(placeCommand({ nowMs: this.harness.nowMs, body: body(overrides), market: this.market(leg.price) }))
  }

  /** What the executor does: pick, then start it (a send decision, or a reconcile answered at once). */
  pick(context: string): void {
    for (let picks = 1 + this.int(6); picks > 0; picks--) {
      const item = this.compare(this.plain(), context)
      if (item === null) return
      this.picked++
      if ([...this.sendHolds.keys()].some((orderId) => this.sendHeldUntilMs(orderId) > this.harness.nowMs)) this.picksWhileSendHeld++
      if (item.kind === 'reconcile') {
        this.reconcilesPicked++
        this.reconcile(item.orderId)
      } else if (this.rand() < 0.2) this.sendThrew(item.orderId)
      else {
        this.sendHolds.delete(item.orderId)
        this.harness.send(item.orderId, item.kind, paperFacts)
      }
    }
  }

  /** The send decision threw: nothing recorded, the order held for a wait (it ends sooner with any record of it). */
  sendThrew(orderId: string): void {
    const order = this.harness.state.orders.get(orderId)
    if (order === undefined) return
    this.sendThrows++
    this.sendHolds.set(orderId, { status: order.status, updatedAtMs: order.updatedAtMs, untilMs: this.harness.nowMs + 1 + this.int(2_000) })
  }

  answer(): void {
    answerOneCall(this.harness, this.rand)
  }


  randomOrderId(): string | undefined {
    const ids = [...this.harness.state.orders.keys()]
    return ids[this.int(ids.length)]
  }

  cancel(): void {
    const orderId = this.randomOrderId()
    if (orderId !== undefined) this.harness.run({ kind: 'cancel', nowMs: this.harness.nowMs, principal: trader, orderId, reason: 'USER_CANCEL' })
  }

  amend(): void {
    const orderId = this.randomOrderId()
    const order = orderId === undefined ? undefined : this.harness.state.orders.get(orderId)
    if (orderId === undefined || order === undefined) return
    const leg = SYMBOLS.find((candidate) => candidate.symbol === order.symbol) ?? SYMBOLS[0]
    this.harness.amend(orderId, { qty: leg.qty.replace(/1$/, '2') }, { market: this.market(leg.price) })
  }

  killSwitch(): void {
    const actions = ['HALT', 'CANCEL_ONLY', 'RESUME', 'RESUME'] as const
    this.harness.run({ kind: 'kill_switch', nowMs: this.harness.nowMs, principal: ops, action: actions[this.int(actions.length)] ?? 'RESUME', note: 'spec' })
  }

  flatten(): void {
    const markets = Object.fromEntries(SYMBOLS.map((leg) => [`sim:${leg.symbol}`, this.market(leg.price)]))
    this.harness.run({ kind: 'flatten', nowMs: this.harness.nowMs, principal: ops, accountId: ACCOUNT, flattenId: `f${this.key++}`, markets })
  }

  /** A reconcile answer for an Unknown order, outside the picks (as the executor's sweep does). */
  reconcileSome(): void {
    const unknown = [...this.harness.state.queues[3].keys()]
    const orderId = unknown[this.int(unknown.length)]
    if (orderId !== undefined) this.reconcile(orderId)
  }

  reconcile(orderId: string): void {
    answerReadBack(this.harness, this.rand, orderId)
  }

}

describe('the work index picks what the walk of the queues picked', () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]) {
    test(`seed ${seed}: the same item after every step of random traffic, busy and held sets, and a timer no later than needed`, () => {
      const driver = new Driver(seed)
      for (let index = 0; index < 1_500; index++) {
        driver.step(index)
        if (index % 100 === 0) expect(queueMismatches(driver.harness.state)).toEqual([])
      }
      // The traffic reached the cases that matter: many picks, work backing off, Unknown orders reconciled. (A cancel
      // the venue refused and the read-back found open backs off from its second repeat, reconcile.ts: seed 3 picks 94;
      // a flatten's close refuses the account's buys that would cross it while it is open, SELF_TRADE_PREVENTED: seed 5 picks 67.)
      expect(driver.picked).toBeGreaterThan(60)
      expect(driver.reconcilesPicked).toBeGreaterThan(5)
      expect(driver.dueChecks).toBeGreaterThan(50)
      expect(driver.compared).toBeGreaterThan(3_000)
      expect(driver.sendThrows).toBeGreaterThan(10)
      expect(driver.picksWhileSendHeld).toBeGreaterThan(10)
    })
  }

  test('an item set aside as not due whose notBeforeMs is then lowered (the clock stepped back) is picked at the new time', () => {
    const harness = Harness.funded({ config: config({ params: { reconcileGraceMs: 100, reconcileRecheckMs: 1_000 } }) })
    const orderId = harness.placedId({ client_order_id: 'u', qty: '0.01' })
    harness.send(orderId)
    harness.placeResult(orderId, { kind: 'unknown', reason: 'timeout' })
    const sentAtMs = harness.nowMs
    harness.run({ kind: 'reconcile_result', nowMs: sentAtMs + 50, orderId, venueOrder: null, trades: [] })
    expect(harness.order(orderId).notBeforeMs).toBe(sentAtMs + 1_050)
    expect(nextWork(harness.state, { nowMs: sentAtMs + 60 })).toBeNull()
    expect(nextDueMs(harness.state)).toBe(sentAtMs + 1_050)
    harness.run({ kind: 'reconcile_result', nowMs: sentAtMs + 20, orderId, venueOrder: null, trades: [] })
    expect(harness.order(orderId).notBeforeMs).toBe(sentAtMs + 1_020)
    expect(nextWork(harness.state, { nowMs: sentAtMs + 1_030 })).toMatchObject({ kind: 'reconcile', orderId })
  })

  test('with every configured instrument full, an order left on an instrument a reconfiguration removed waits, as in the walk', () => {
    const params = { callsPerInstrumentMax: 1 }
    const harness = Harness.funded({ config: config({ params }) })
    const btc = harness.placedId({ client_order_id: 'b', qty: '0.01' })
    const aapl = harness.placedId({ client_order_id: 'a', symbol: 'AAPL', price: '190', qty: '1' }, { market: market('190') })
    const eth = harness.placedId({ client_order_id: 'e', symbol: 'ETH-USD', price: '3000', qty: '0.01' }, { market: market('3000') })
    const instruments = defaultSimInstruments().filter((instrument) => instrument.symbol === 'BTC-USD' || instrument.symbol === 'AAPL')
    harness.run({ kind: 'configure', nowMs: harness.nowMs, config: { ...config({ params }), instruments, digest: 'cfg-2' } })
    harness.send(btc)
    harness.send(aapl)
    expect(referenceNextWork(harness.state, { nowMs: harness.nowMs })).toBeNull()
    expect(nextWork(harness.state, { nowMs: harness.nowMs })).toBeNull()
    harness.placeResult(btc, { kind: 'ok', value: { venueOrderId: 'v-b' } })
    expect(nextWork(harness.state, { nowMs: harness.nowMs })).toMatchObject({ orderId: eth })
  })

  test('orders leaving deep in a long queue (canceled while waiting) do not grow the index beyond its live work', () => {
    const harness = Harness.funded({ config: config({ policies: [policy({ maxOpenOrders: 100_000 })], params: { callsPerInstrumentMax: 1, lane2DepthMax: 100_000, accountQueuedMax: 100_000 } }) })
    harness.run({ kind: 'fund', nowMs: harness.nowMs, principalId: 'config', accountId: ACCOUNT, asset: 'USD', amount: d('1000000'), reference: 'more' })
    const blocker = harness.placedId({ client_order_id: 'blocker', qty: '0.001' })
    harness.send(blocker)
    const ids = Array.from({ length: 3_000 }, (_, index) => harness.placedId({ client_order_id: `q${index}`, qty: '0.001' }))
    expect(nextWork(harness.state, { nowMs: harness.nowMs })).toBeNull()
    for (const orderId of ids.slice(0, 2_900)) harness.cancel(orderId)
    const sizes = workIndexOf(harness.state).sizes()
    expect(sizes.entries).toBe(100)
    expect(sizes.readySlots).toBeLessThanOrEqual(2 * 100 + 64 + 1)
    harness.placeResult(blocker, { kind: 'ok', value: { venueOrderId: 'v-blocker' } })
    expect(nextWork(harness.state, { nowMs: harness.nowMs })).toMatchObject({ orderId: ids[2_900] })
  })

  test('a backlog behind full instruments and backing-off items: FIFO per lane, every item once, in the walk order', () => {
    const driver = new Driver(99)
    for (let index = 0; index < 600; index++) driver.place()
    const sequence: string[] = []
    for (let round = 0; round < 400; round++) {
      const item = driver.compare({ nowMs: driver.harness.nowMs }, `round ${round}`)
      if (item === null) {
        driver.answer()
        driver.harness.nowMs += 250
        continue
      }
      sequence.push(item.orderId)
      if (item.kind === 'reconcile') driver.reconcile(item.orderId)
      else driver.harness.send(item.orderId, item.kind, paperFacts)
    }
    expect(sequence.length).toBeGreaterThan(100)
  })
})
