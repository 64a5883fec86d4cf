/**
 * The trades check's window, indexed (compared-window.ts: the ended orders with a fill, kept as fills and ends are
 * applied, and any other order looked up when named) against the full walk it replaced (every open order and every
 * order that ended within the venue's trade history, listed when the run starts: the listed window, kept as the
 * oracle): on seeded random workloads — partial and late fills, cancels, reopenings, retirements, a wall clock that
 * steps back, venue trades that match, differ, are missing or name orders the ledger lacks, open breaks, and changes
 * between the run's start and the check — both find the same breaks, pass the same lacking trades and cover the
 * same keys.
 */

import { describe, expect, test } from 'bun:test'
import { runWindows } from '../../src/backoffice/compared-window.ts'
import { CoveredKeys } from '../../src/backoffice/covered-keys.ts'
import type { FillPage } from '../../src/backoffice/external-checks.ts'
import { endedSince, indexEndedFills, indexOpenOrders, openOrdersOf } from '../../src/backoffice/held-order-index.ts'
import { initialLedger, type FillRecord, type LedgerState } from '../../src/backoffice/ledger-state.ts'
import { applyEvent } from '../../src/backoffice/ledger.ts'
import type { TrackedOrder } from '../../src/backoffice/orders.ts'
import { comparedFromMs, venueTrades } from '../../src/backoffice/venue-trades.ts'
import type { DomainEvent } from '../../src/domain/events/index.ts'
import { venueClientOrderId } from '../../src/domain/orders.ts'
import { isTerminal } from '../../src/domain/states.ts'
import { unslicedWork, WorkSlices } from '../../src/runtime/work-slices.ts'
import type { VenueAdapter, VenueTrade } from '../../src/venues/adapter.ts'
import { accepted, AT_MS, canceled, d, fill, unknown } from './events.ts'

const ACCOUNTS = ['acct-1', 'acct-2', 'acct-3'] as const
const HISTORY_MS = 60_000

/** A small deterministic PRNG (mulberry32). */
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

/** A ledger driven by random steps, with the fills it booked and what the venue says it traded. */
class Workload {
  readonly ledger: LedgerState = initialLedger()
  readonly fills: FillRecord[] = []
  readonly trades: VenueTrade[] = []
  readonly ids: string[] = []
  nowMs = AT_MS
  readonly #random: () => number
  #execs = 0

  readonly #stepBackChance: number
  readonly #tradeChance: number

  constructor(seed: number, options: { stepBackChance?: number; tradeChance?: number } = {}) {
    this.#random = prng(seed)
    this.#stepBackChance = options.stepBackChance ?? 0.03
    this.#tradeChance = options.tradeChance ?? 0.9
    this.ledger.retention = { keptMax: 25, graceMs: 20_000, heldMax: null }
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.#random() * items.length)]!
  }

  chance(p: number): boolean {
    return this.#random() < p
  }

  apply(event: DomainEvent): void {
    const booked = applyEvent(this.ledger, { ...event, atMs: this.nowMs } as DomainEvent, this.ledger.lastLsn + 1)
    if (booked.fill !== null) this.fills.push(booked.fill)
  }

  step(): void {
    // The clock mostly moves on, sometimes stands still, now and then steps back (past the walk's slack, too).
    if (this.chance(this.#stepBackChance)) this.nowMs -= Math.floor(this.#random() * 15_000)
    else this.nowMs += Math.floor(this.#random() * 3_000)
    const held = this.ids.map((id) => this.ledger.orders.get(id)).filter((order): order is TrackedOrder => order !== undefined)
    const roll = this.#random()
    if (roll < 0.3 || held.length === 0) {
      const orderId = `o${this.ids.length}`
      this.ids.push(orderId)
      this.apply(accepted({ orderId, side: 'buy', qty: '3', price: '100', accountId: this.pick(ACCOUNTS) }))
      return
    }
    const order = this.pick(held)
    if (roll < 0.5 && order.cumQty < order.qty) this.fill(order)
    else if (roll < 0.75 && !isTerminal(order.status)) this.apply(canceled(order.orderId))
    else if (roll < 0.8 && isTerminal(order.status)) this.apply(unknown(order.orderId))
    else if (roll < 0.9) this.venueOnlyTrade(order)
    else if (this.chance(0.5)) this.trades.push(this.trade(`ghost-${this.#execs++}`, venueClientOrderId(`gone${this.#execs}`), this.pick(ACCOUNTS), 1n))
  }

  /** A fill (late, if the order ended) and, mostly, the venue's trade of it (now and then at another price, or lost). */
  fill(order: TrackedOrder): void {
    const execId = `x${this.#execs++}`
    const cumQty = order.cumQty + d('1')
    this.apply(fill(order.orderId, { execId, qty: '1', price: '100', cumQty: (cumQty / d('1')).toString() }))
    if (this.chance(this.#tradeChance)) this.trades.push({ ...this.trade(execId, venueClientOrderId(order.orderId), order.accountId, d('1')), price: this.chance(0.05) ? d('101') : d('100') })
  }

  /** A venue trade the ledger has no fill of (in flight, or lost). */
  venueOnlyTrade(order: TrackedOrder): void {
    this.trades.push(this.trade(`v${this.#execs++}`, venueClientOrderId(order.orderId), order.accountId, d('1')))
  }

  trade(execId: string, clientOrderId: string, account: string, qty: bigint): VenueTrade {
    return {
      execId, clientOrderId, venueOrderId: `v-${execId}`, account, symbol: 'BTC-USD', side: 'buy', qty, price: d('100'), fee: 0n, feeAsset: 'USD',
      liquidity: 'taker', venueTimeMs: this.nowMs - Math.floor(this.#random() * 2_000),
    }
  }

  pageOf(accountId: string, page: FillPage): FillRecord[] {
    return this.fills
      .filter((fill) => fill.accountId === accountId && fill.lsn >= page.fromLsn && fill.lsn <= page.toLsn && (page.afterLsn === undefined || fill.lsn > page.afterLsn))
      .slice(0, page.limit)
  }
}

function adapterOf(work: Workload): VenueAdapter {
  return { venue: 'sim', tradeHistoryMs: HISTORY_MS, trades: async ({ account }: { account: string }) => ({ kind: 'ok' as const, value: work.trades.filter((trade) => trade.account === account) }) } as unknown as VenueAdapter
}

interface CheckResult {
  found: unknown
  lacking: string[]
  covered: CoveredKeys
}

/**
 * One run both ways, from the same start: the indexed window and the listed one (the full walk) are taken, `during`
 * changes the ledger, then each account's trades check runs once with each.
 */
async function bothWays(
  work: Workload,
  options: { during?: () => void; openBreakKeys?: string[]; slices?: () => WorkSlices; startSlices?: WorkSlices } = {},
): Promise<{ indexed: CheckResult[]; listed: CheckResult[]; wentIndexed: boolean }> {
  const adapter = adapterOf(work)
  const { ledger } = work
  const slices = options.slices ?? unslicedWork
  await indexOpenOrders(ledger.orders, slices())
  await indexEndedFills(ledger, slices())
  const fromMs = comparedFromMs(adapter, work.nowMs)
  const open = new Map(ACCOUNTS.map((accountId) => [accountId, [...openOrdersOf(ledger.orders, 'sim', accountId).values()]]))
  // The oracle's list first, in one stretch: the indexed window's start may pause (`startSlices`), and change the ledger then.
  const ended = await endedSince(ledger, 'sim', fromMs, unslicedWork())
  const windows = await runWindows(ledger, 'sim', fromMs, open, options.startSlices ?? slices(), options.openBreakKeys ?? [])
  options.during?.()
  const check = async (accountId: string, orders: Parameters<typeof venueTrades>[0]['orders']): Promise<CheckResult> => {
    const covered = new CoveredKeys()
    const lacking: string[] = []
    const found = await venueTrades({
      adapter, ledger, accountId, orders, nowMs: work.nowMs + 1_000, covered, slices: slices(),
      fillsStoredThrough: () => true, fillsFrom: (page) => work.pageOf(accountId, page), fillsOfOrder: (orderId) => work.fills.filter((fill) => fill.orderId === orderId),
      onLacking: (trade) => void lacking.push(trade.execId),
    })
    return { found, lacking, covered }
  }
  const indexed: CheckResult[] = []
  const listed: CheckResult[] = []
  for (const accountId of ACCOUNTS) {
    indexed.push(await check(accountId, windows.windowOf(accountId)))
    listed.push(await check(accountId, [...(open.get(accountId) ?? []), ...(ended.get(accountId) ?? [])]))
  }
  windows.close()
  return { indexed, listed, wentIndexed: windows.indexed }
}

function expectSame(work: Workload, { indexed, listed }: { indexed: CheckResult[]; listed: CheckResult[] }, label: string): void {
  const keys = [
    ...work.ids.map((orderId) => `venue_trades:sim:order:${orderId}`),
    ...work.fills.map((fill) => `venue_trades:sim:${fill.execId}`),
    ...work.trades.map((trade) => `venue_trades:sim:${trade.execId}`),
  ]
  for (const [index, accountId] of ACCOUNTS.entries()) {
    const mine = indexed[index]!
    const oracle = listed[index]!
    expect({ label, accountId, found: mine.found, lacking: mine.lacking }).toEqual({ label, accountId, found: oracle.found, lacking: oracle.lacking })
    const coveredBy = (result: CheckResult): string[] => keys.filter((key) => result.covered.has(key))
    expect({ label, accountId, covered: coveredBy(mine) }).toEqual({ label, accountId, covered: coveredBy(oracle) })
    expect({ label, accountId, listed: [...mine.covered].sort() }).toEqual({ label, accountId, listed: [...oracle.covered].sort() })
  }
}

describe('the trades check\'s window: indexed against the full walk', () => {
  test('seeded random workloads, checked every few steps: the same breaks, lacking trades and covered keys', async () => {
    let indexedRuns = 0
    for (let seed = 1; seed <= 40; seed++) {
      const work = new Workload(seed)
      for (let step = 0; step < 240; step++) {
        work.step()
        if (step % 20 !== 19) continue
        const result = await bothWays(work)
        expectSame(work, result, `seed ${seed} step ${step}`)
        if (result.indexed.some((run) => Array.isArray(run.found) && run.found.length > 0)) indexedRuns++
      }
    }
    // The workloads do raise breaks (the comparison is not of empty answers).
    expect(indexedRuns).toBeGreaterThan(50)
  })

  test('changes between the run\'s start and the check (ends, reopenings, late fills, retirements, new orders) and open breaks', async () => {
    for (let seed = 100; seed < 140; seed++) {
      const work = new Workload(seed)
      for (let step = 0; step < 150; step++) work.step()
      for (let round = 0; round < 4; round++) {
        const openBreakKeys = work.ids.filter((_, index) => index % 3 === round % 3).map((orderId) => `venue_trades:sim:order:${orderId}`)
        const during = (): void => {
          for (let step = 0; step < 15; step++) {
            const held = work.ids.map((id) => work.ledger.orders.get(id)).filter((order): order is TrackedOrder => order !== undefined)
            const ended = held.filter((order) => isTerminal(order.status) && order.cumQty < order.qty)
            const reopened = held.filter((order) => order.status === 'Unknown' && order.cumQty < order.qty)
            // Late fills and reopenings are what the run's start cannot see: make them common here.
            if (ended.length > 0 && work.chance(0.3)) work.fill(work.pick(ended))
            else if (ended.length > 0 && work.chance(0.2)) work.apply(unknown(work.pick(ended).orderId))
            else if (reopened.length > 0 && work.chance(0.3)) work.fill(work.pick(reopened))
            else work.step()
          }
        }
        const result = await bothWays(work, { during, openBreakKeys })
        expectSame(work, result, `seed ${seed} round ${round}`)
        // The open breaks' keys are answered as of the check, whatever changed since (as reconcile asks after all accounts).
        for (let step = 0; step < 30; step++) work.step()
        for (const [index, accountId] of ACCOUNTS.entries()) {
          const coveredBy = (results: CheckResult[]): string[] => openBreakKeys.filter((key) => results[index]!.covered.has(key))
          expect({ seed, round, accountId, covered: coveredBy(result.indexed) }).toEqual({ seed, round, accountId, covered: coveredBy(result.listed) })
        }
      }
    }
  })

  test('walked with a pause after every item, the first build and the runs find what the full walk finds', async () => {
    for (let seed = 200; seed < 215; seed++) {
      const work = new Workload(seed)
      for (let step = 0; step < 200; step++) work.step()
      let tick = 0
      const everyItem = (): WorkSlices => new WorkSlices({ sliceMs: 1, itemsPerClockCheck: 1, nowMs: () => tick++, pause: async () => undefined })
      expectSame(work, await bothWays(work, { slices: everyItem }), `seed ${seed}`)
    }
  })

  test('changes during the pauses of the run\'s start (its walk of the ended orders with fills) are as if made after it', async () => {
    let indexedRuns = 0
    for (let seed = 300; seed < 330; seed++) {
      // Fills the venue mostly lost: an order the venue's trades name is found through them, these only otherwise.
      const work = new Workload(seed, { stepBackChance: 0, tradeChance: 0.2 })
      for (let step = 0; step < 200; step++) work.step()
      await indexOpenOrders(work.ledger.orders, unslicedWork())
      await indexEndedFills(work.ledger, unslicedWork())
      let tick = 0
      const changing = new WorkSlices({
        sliceMs: 1, itemsPerClockCheck: 1, nowMs: () => tick++,
        pause: async () => {
          const held = work.ids.map((id) => work.ledger.orders.get(id)).filter((order): order is TrackedOrder => order !== undefined)
          const filledEnds = held.filter((order) => isTerminal(order.status) && order.cumQty !== 0n)
          // Reopen an ended order with fills the walk may not have reached yet, then fill it; or any other step.
          if (filledEnds.length > 0 && work.chance(0.4)) {
            const order = work.pick(filledEnds)
            work.apply(unknown(order.orderId))
            if (order.cumQty < order.qty && work.chance(0.5)) work.fill(order)
          } else work.step()
        },
      })
      const result = await bothWays(work, { startSlices: changing })
      // The listed way's own walk sees what changed during its pauses (as before the index): only the indexed way is as of its start.
      if (!result.wentIndexed) continue
      indexedRuns++
      expectSame(work, result, `seed ${seed}`)
    }
    expect(indexedRuns).toBeGreaterThan(20)
  })
})

describe('the trades check walks what has something to compare', () => {
  test('ended orders with no fill and no venue trade are not walked: a run\'s items do not grow with them', async () => {
    const itemsWith = async (unfilledEnds: number): Promise<number> => {
      const work = new Workload(7)
      work.ledger.retention = null
      for (let index = 0; index < unfilledEnds + 10; index++) {
        const orderId = `o${index}`
        work.ids.push(orderId)
        work.apply(accepted({ orderId, side: 'buy', qty: '3', price: '100', accountId: 'acct-1' }))
        // Ten of them fill (with the venue's trades); the rest end unfilled, all within the venue's trade history.
        if (index < 10) work.fill(work.ledger.orders.get(orderId)!)
        work.apply(canceled(orderId))
      }
      const adapter = adapterOf(work)
      await indexOpenOrders(work.ledger.orders, unslicedWork())
      await indexEndedFills(work.ledger, unslicedWork())
      // Every item of every walk reads the clock once.
      let items = 0
      const counting = new WorkSlices({ sliceMs: Number.POSITIVE_INFINITY, itemsPerClockCheck: 1, nowMs: () => items++, pause: async () => undefined })
      const open = new Map([['acct-1', [...openOrdersOf(work.ledger.orders, 'sim', 'acct-1').values()]]])
      items = 0
      const windows = await runWindows(work.ledger, 'sim', comparedFromMs(adapter, work.nowMs), open, counting)
      const found = await venueTrades({
        adapter, ledger: work.ledger, accountId: 'acct-1', orders: windows.windowOf('acct-1'), nowMs: work.nowMs, covered: new CoveredKeys(), slices: counting,
        fillsStoredThrough: () => true, fillsFrom: (page) => work.pageOf('acct-1', page), fillsOfOrder: (orderId) => work.fills.filter((fill) => fill.orderId === orderId),
      })
      windows.close()
      expect(found).toEqual([])
      return items
    }
    const few = await itemsWith(10)
    const many = await itemsWith(2_000)
    expect(many).toBe(few)
    expect(many).toBeLessThan(200)
  })
})
