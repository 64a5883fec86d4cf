import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { backOfficeOf } from '../../src/backoffice/backoffice-of.ts'
import { reconcileVenue } from '../../src/backoffice/external-checks.ts'
import { CoveredKeys } from '../../src/backoffice/covered-keys.ts'
import { endedSince, ENDED_WALK_SLACK_MS, heldOrderOf, indexOpenOrders, openOrdersOf } from '../../src/backoffice/held-order-index.ts'
import { venueTrades } from '../../src/backoffice/venue-trades.ts'
import type { VenueAdapter } from '../../src/venues/adapter.ts'
import { initialLedger, type LedgerState } from '../../src/backoffice/ledger-state.ts'
import { applyEvent, cloneLedger } from '../../src/backoffice/ledger.ts'
import type { TrackedOrder } from '../../src/backoffice/orders.ts'
import { formatDecimal } from '../../src/domain/decimal.ts'
import type { DomainEvent } from '../../src/domain/events/index.ts'
import { amendClientOrderId, cancelClientOrderId, venueClientOrderId } from '../../src/domain/orders.ts'
import { isTerminal } from '../../src/domain/states.ts'
import { unslicedWork, WorkSlices } from '../../src/runtime/work-slices.ts'
import { drive, run, startWorld, traderA, worldsStoppedAfterEach, type World } from '../runtime/harness.ts'
import { accepted, AT_MS, canceled, fill, unknown } from './events.ts'

const ACCOUNTS = ['acct-1', 'acct-2'] as const

/** Applies `events` to `ledger` from LSN `ledger.lastLsn + 1` on. */
function applyAll(ledger: LedgerState, events: readonly DomainEvent[]): void {
  for (const event of events) applyEvent(ledger, event, ledger.lastLsn + 1)
}

/** What the open-order index must hold: the ledger's orders not done, per account (sorted ids). */
function notDoneOf(ledger: LedgerState, accountId: string): string[] {
  return [...ledger.orders.values()].filter((order) => order.accountId === accountId && !isTerminal(order.status)).map((order) => order.orderId).sort()
}

/** The index's open orders of the account (sorted ids); the index must be built. */
function indexedOf(ledger: LedgerState, accountId: string): string[] {
  return [...openOrdersOf(ledger.orders, 'sim', accountId).keys()].sort()
}

const at = (event: DomainEvent, atMs: number): DomainEvent => ({ ...event, atMs }) as DomainEvent

/** One step: accept a new order, or move an existing one (fill it whole, cancel it, or make it Unknown: a reopening when it had ended). */
const stepArb = fc.record({ kind: fc.constantFrom('accept', 'fill', 'cancel', 'unknown'), pick: fc.nat(), account: fc.constantFrom(...ACCOUNTS) })
type Step = typeof stepArb extends fc.Arbitrary<infer T> ? T : never

/** Applies steps to a ledger as the kernel would log them. */
class Moves {
  readonly #ledger: LedgerState
  readonly #ids: string[] = []
  readonly #filled = new Set<string>()

  constructor(ledger: LedgerState) {
    this.#ledger = ledger
  }

  apply(move: Step): void {
    if (move.kind === 'accept' || this.#ids.length === 0) {
      const orderId = `o${this.#ids.length}`
      this.#ids.push(orderId)
      applyAll(this.#ledger, [accepted({ orderId, side: 'buy', qty: '1', price: '100', accountId: move.account })])
      return
    }
    const orderId = this.#ids[move.pick % this.#ids.length]!
    if (move.kind === 'fill' && !this.#filled.has(orderId)) {
      this.#filled.add(orderId)
      applyAll(this.#ledger, [fill(orderId, { execId: `${orderId}-x`, qty: '1', price: '100', cumQty: '1' })])
    } else if (move.kind === 'cancel') applyAll(this.#ledger, [canceled(orderId)])
    else if (move.kind === 'unknown') applyAll(this.#ledger, [unknown(orderId)])
  }
}

describe('held-order index', () => {
  test('the open orders, indexed when first asked for, follow every acceptance, fill, end and reopening after that', async () => {
    // `askAt`: the step at which reconcile first asks (the index is built then, from the orders).
    // size 'max': fast-check's default size ('small') generates at most about 10 elements, whatever maxLength says.
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 60, size: 'max' }), fc.nat({ max: 60 }), async (steps, askAt) => {
        const ledger = initialLedger()
        const moves = new Moves(ledger)
        for (const [index, move] of steps.entries()) {
          if (index === askAt) await indexOpenOrders(ledger.orders, unslicedWork())
          moves.apply(move)
          if (index >= askAt) for (const accountId of ACCOUNTS) expect(indexedOf(ledger, accountId)).toEqual(notDoneOf(ledger, accountId))
        }
      }),
      { seed: 4_242, numRuns: 200 },
    )
  })

  test('the first build, paused after every order, files what changes during its pauses', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 40, size: 'max' }), fc.array(stepArb, { minLength: 1, maxLength: 40, size: 'max' }), async (before, during) => {
        const ledger = initialLedger()
        const moves = new Moves(ledger)
        for (const move of before) moves.apply(move)
        let tick = 0
        const pending = [...during]
        const slices = new WorkSlices({ sliceMs: 1, itemsPerClockCheck: 1, nowMs: () => tick++, pause: async () => void (pending.length > 0 && moves.apply(pending.shift()!)) })
        await indexOpenOrders(ledger.orders, slices)
        for (const accountId of ACCOUNTS) expect(indexedOf(ledger, accountId)).toEqual(notDoneOf(ledger, accountId))
        for (const move of pending) moves.apply(move)
        for (const accountId of ACCOUNTS) expect(indexedOf(ledger, accountId)).toEqual(notDoneOf(ledger, accountId))
      }),
      { seed: 4_243, numRuns: 200 },
    )
  })

  test('open orders are not answered from an index that is not built', () => {
    const ledger = initialLedger()
    applyAll(ledger, [accepted({ orderId: 'a', side: 'buy', qty: '1', price: '100' })])
    expect(() => openOrdersOf(ledger.orders, 'sim', 'acct-1')).toThrow('the open-order index is not built')
  })

  test('a copy of the ledger gets an index of its own: the original\'s does not follow the copy', async () => {
    const ledger = initialLedger()
    applyAll(ledger, [accepted({ orderId: 'a', side: 'buy', qty: '1', price: '100' })])
    await indexOpenOrders(ledger.orders, unslicedWork())
    expect(indexedOf(ledger, 'acct-1')).toEqual(['a'])
    const copy = cloneLedger(ledger)
    applyAll(copy, [canceled('a'), accepted({ orderId: 'b', side: 'buy', qty: '1', price: '100' })])
    await indexOpenOrders(copy.orders, unslicedWork())
    expect(indexedOf(copy, 'acct-1')).toEqual(notDoneOf(copy, 'acct-1'))
    expect(indexedOf(copy, 'acct-1')).toEqual(['b'])
    expect(indexedOf(ledger, 'acct-1')).toEqual(notDoneOf(ledger, 'acct-1'))
    expect(indexedOf(ledger, 'acct-1')).toEqual(['a'])
  })

  test('ended since a time: per account, newest first, this venue only, not an order that reopened', async () => {
    const ledger = initialLedger()
    const orders = ['a', 'b', 'c', 'd', 'e']
    applyAll(ledger, orders.map((orderId, index) => accepted({ orderId, side: 'buy', qty: '1', price: '100', accountId: ACCOUNTS[index % 2]! })))
    applyAll(ledger, [{ ...accepted({ orderId: 'other', side: 'buy', qty: '1', price: '100' }), venue: 'elsewhere' } as DomainEvent])
    orders.forEach((orderId, index) => applyAll(ledger, [at(canceled(orderId), AT_MS + 1_000 * index)]))
    applyAll(ledger, [at(canceled('other'), AT_MS + 10_000), at(unknown('d'), AT_MS + 10_000)])
    const ids = (byAccount: Map<string, TrackedOrder[]>): Record<string, string[]> =>
      Object.fromEntries([...byAccount].map(([accountId, ended]) => [accountId, ended.map((order) => order.orderId)]))
    expect(ids(await endedSince(ledger, 'sim', AT_MS + 1_000, unslicedWork()))).toEqual({ 'acct-1': ['e', 'c'], 'acct-2': ['b'] })
    expect(ids(await endedSince(ledger, 'sim', Number.NEGATIVE_INFINITY, unslicedWork()))).toEqual({ 'acct-1': ['e', 'c', 'a'], 'acct-2': ['b'] })
    expect(ids(await endedSince(ledger, 'sim', AT_MS + 60_000, unslicedWork()))).toEqual({})
  })

  test('ended since a time: an end listed after a much older one is not walked to (the slack), one within the slack is', async () => {
    const ledger = initialLedger()
    applyAll(ledger, ['early', 'late', 'stepped'].map((orderId) => accepted({ orderId, side: 'buy', qty: '1', price: '100' })))
    // The wall clock steps back after 'late' ended: 'stepped' is listed after it with an earlier time.
    applyAll(ledger, [at(canceled('early'), AT_MS + 50_000), at(canceled('late'), AT_MS + 60_000), at(canceled('stepped'), AT_MS + 50_000 - ENDED_WALK_SLACK_MS - 1)])
    const from = async (fromMs: number): Promise<string[]> => ((await endedSince(ledger, 'sim', fromMs, unslicedWork())).get('acct-1') ?? []).map((order) => order.orderId)
    // The newest entry is older than the slack allows: the walk stops there, and finds nothing (fewer compared, no false break).
    expect(await from(AT_MS + 50_000)).toEqual([])
    expect(await from(AT_MS + 45_000)).toEqual(['late', 'early'])
  })

  test('ended since a time, walked with a pause after every entry: ends, reopenings and retirements during the walk', async () => {
    const ledger = initialLedger()
    const orders = Array.from({ length: 8 }, (_, index) => `o${index}`)
    applyAll(ledger, [...orders, 'later'].map((orderId) => accepted({ orderId, side: 'buy', qty: '1', price: '100' })))
    orders.forEach((orderId, index) => applyAll(ledger, [at(canceled(orderId), AT_MS + index)]))
    let pauses = 0
    let tick = 0
    const slices = new WorkSlices({
      sliceMs: 1, itemsPerClockCheck: 1, nowMs: () => tick++,
      pause: async () => {
        pauses++
        // Before the walk reaches o7's entry: 'later' ends (after the walk's start: not walked), and the walk's own
        // entry o7 reopens and ends again (its order is still returned: the trades check reads its state).
        if (pauses === 1) applyAll(ledger, [at(canceled('later'), AT_MS + 10), at(unknown('o7'), AT_MS + 10), at(canceled('o7'), AT_MS + 11)])
        // Later: o5 (not walked yet) reopens, and o2 leaves the ledger as a retirement would take it.
        if (pauses === 2) {
          applyAll(ledger, [at(unknown('o5'), AT_MS + 12)])
          ledger.orders.delete('o2')
        }
      },
    })
    const ended = await endedSince(ledger, 'sim', Number.NEGATIVE_INFINITY, slices)
    expect((ended.get('acct-1') ?? []).map((order) => order.orderId)).toEqual(['o7', 'o6', 'o4', 'o3', 'o1', 'o0'])
    expect(pauses).toBeGreaterThanOrEqual(6)
  })

  test('ended since a time: the list rebuilt during a pause (a Map changed outside its functions) is walked to the end', async () => {
    const ledger = initialLedger()
    const orders = Array.from({ length: 5 }, (_, index) => `o${index}`)
    applyAll(ledger, orders.map((orderId) => accepted({ orderId, side: 'buy', qty: '1', price: '100' })))
    orders.forEach((orderId, index) => applyAll(ledger, [at(canceled(orderId), AT_MS + index)]))
    let pauses = 0
    let tick = 0
    const slices = new WorkSlices({
      sliceMs: 1, itemsPerClockCheck: 1, nowMs: () => tick++,
      // A size the list does not expect makes the next use rebuild it from the Map.
      pause: async () => void (++pauses === 2 && ledger.endedOrders.delete('o1') && applyAll(ledger, [accepted({ orderId: 'x', side: 'buy', qty: '1', price: '100' }), at(canceled('x'), AT_MS + 20)])),
    })
    const ended = await endedSince(ledger, 'sim', Number.NEGATIVE_INFINITY, slices)
    // The walk goes on along the list as it was when it started (o1 included), to its oldest end.
    expect((ended.get('acct-1') ?? []).map((order) => order.orderId)).toEqual(['o4', 'o3', 'o2', 'o1', 'o0'])
  })

  test('the held order a venue client id names: its own id and an applied amend\'s, in its account on its venue only', () => {
    const ledger = initialLedger()
    applyAll(ledger, [accepted({ orderId: 'a', side: 'buy', qty: '2', price: '100' })])
    const amendId = amendClientOrderId('a', 1)
    applyAll(ledger, [{ type: 'order.amended', atMs: AT_MS, orderId: 'a', amendId: 1, qty: 1n, price: 100n, reservationTotal: 100n, amendClientOrderId: amendId } as unknown as DomainEvent])
    const found = (clientOrderId: string, accountId = 'acct-1', venue = 'sim'): string | undefined => heldOrderOf(ledger.orders, venue, accountId, clientOrderId)?.orderId
    expect(found(venueClientOrderId('a'))).toBe('a')
    expect(found(amendId)).toBe('a')
    expect(found(amendClientOrderId('a', 2))).toBeUndefined()
    expect(found(cancelClientOrderId('a', 1))).toBeUndefined()
    expect(found(venueClientOrderId('a'), 'acct-2')).toBeUndefined()
    expect(found(venueClientOrderId('a'), 'acct-1', 'elsewhere')).toBeUndefined()
    expect(found(venueClientOrderId('missing'))).toBeUndefined()
    expect(found('a')).toBeUndefined()
    expect(found('eg-')).toBeUndefined()
  })

  test('an amend sent and not answered: its id names the order (the venue may apply it first); a trade under it is a fill in flight, not a foreign trade', async () => {
    // Review finding: such a trade read as one of an order egress does not hold, a false break, never a fill in flight.
    const ledger = initialLedger()
    const amendId = amendClientOrderId('o1', 1)
    applyAll(ledger, [
      accepted({ orderId: 'o1', side: 'buy', qty: '1', price: '100' }),
      { type: 'order.amend_requested', atMs: AT_MS, orderId: 'o1', principalId: 'p', amendId: 1, amendClientOrderId: amendId, qty: 2n, price: 100n, reservationTotal: 200n, decision: {} } as unknown as DomainEvent,
    ])
    const found = (clientOrderId: string): string | undefined => heldOrderOf(ledger.orders, 'sim', 'acct-1', clientOrderId)?.orderId
    // Asked for, not sent: the venue cannot know it yet.
    expect(found(amendId)).toBeUndefined()
    applyAll(ledger, [{ type: 'order.amend_send_requested', atMs: AT_MS, orderId: 'o1', amendId: 1, attempt: 1, amendClientOrderId: amendId, origClientOrderId: venueClientOrderId('o1'), qty: 2n, price: 100n, gate: null } as unknown as DomainEvent])
    expect(found(amendId)).toBe('o1')
    expect(found(amendClientOrderId('o1', 2))).toBeUndefined()

    const nowMs = AT_MS + 1000
    const trade = { execId: 'T1', clientOrderId: amendId, account: 'acct-1', symbol: 'BTC-USD', side: 'buy', qty: 150_000_000n, price: 10_000_000_000n, fee: 0n, feeAsset: 'USD', venueTimeMs: nowMs - 100 }
    const adapter = { venue: 'sim', trades: () => Promise.resolve({ kind: 'ok', value: [trade] }) } as unknown as VenueAdapter
    const lacking: unknown[] = []
    const observations = await venueTrades({
      adapter,
      ledger,
      accountId: 'acct-1',
      orders: [...ledger.orders.values()],
      nowMs,
      covered: new CoveredKeys(),
      slices: unslicedWork(),
      fillsStoredThrough: () => true,
      fillsFrom: () => [],
      fillsOfOrder: () => [],
      onLacking: (lacked) => void lacking.push(lacked),
    })
    expect(JSON.stringify(observations)).not.toContain('does not hold')
    expect(lacking.length).toBe(1)

    // Failed: the venue never applied it, and its id names nothing again.
    applyAll(ledger, [{ type: 'order.amend_failed', atMs: AT_MS, orderId: 'o1', amendId: 1, reason: 'VENUE_REJECTED' } as unknown as DomainEvent])
    expect(found(amendId)).toBeUndefined()
  })
})

describe('reconcile against the venue does not walk every held order', () => {
  const worlds = worldsStoppedAfterEach()

  /** Marketable IOC limits (they fill and end at once) and one resting order, in acct-a. */
  async function placeRound(target: World, round: number): Promise<void> {
    for (let index = 0; index < 4; index++) {
      const reference = target.gateway.options.venues[0]?.prices.referencePrice('ETH-USD')?.price ?? 0n
      const resting = index === 3
      const price = formatDecimal(resting ? (reference * 97n) / 100n : (reference * 101n) / 100n)
      const body = { account: 'acct-a', symbol: 'ETH-USD', side: 'buy', type: 'limit', qty: '0.1', price, tif: resting ? 'GTC' : 'IOC' }
      const result = await target.gateway.place(traderA, { ...body, client_order_id: `walk-${round}-${index}` }, null)
      expect({ index, reply: result.reply.kind === 'accepted' ? 'accepted' : result.reply }).toEqual({ index, reply: 'accepted' })
    }
    await run(target, 300)
  }

  test('orders that ended before the venue\'s trade history are not looked at; open ones and recent ends are compared', async () => {
    const historyMs = 10_000
    const target = await startWorld({ seed: 61, venueOptions: { endedOrderRetentionMs: historyMs } })
    worlds.push(target)
    const office = backOfficeOf(target.gateway, { reconcileIntervalMs: null })
    const ledger = office.projector.ledger
    const source = { adapter: target.venue, balanceBasis: 'trading' as const }
    const fillReads = office.projector.fillReads()
    const reconcile = (): ReturnType<typeof reconcileVenue> => drive(target, reconcileVenue(source, ledger, fillReads, { nowMs: () => target.clock.nowMs(), slices: unslicedWork() }))
    for (let round = 0; round < 10; round++) await placeRound(target, round)
    expect((await reconcile()).observations).toEqual([])
    const oldIds = [...ledger.orders.keys()]
    await target.clock.advanceAsync(3 * historyMs)
    await placeRound(target, 10)
    const newIds = [...ledger.orders.keys()].filter((orderId) => !oldIds.includes(orderId))
    const oldOpen = oldIds.filter((orderId) => !isTerminal(ledger.orders.get(orderId)!.status))
    // From here on, any walk over all the ledger's orders throws, and lookups of end times are counted.
    const walked = (): never => {
      throw new Error('reconcile walked every held order')
    }
    Object.assign(ledger.orders, { values: walked, keys: walked, entries: walked, forEach: walked, [Symbol.iterator]: walked })
    const endedAtOf = ledger.endedOrders.get.bind(ledger.endedOrders)
    let endLookups = 0
    ledger.endedOrders.get = (orderId) => (endLookups++, endedAtOf(orderId))
    const result = await reconcile()
    expect(result.skipped).toEqual([])
    expect(result.observations).toEqual([])
    const comparedOrders = [...(result.coveredKeys.get('venue_trades') ?? [])].filter((key) => key.startsWith('venue_trades:sim:order:')).map((key) => key.slice('venue_trades:sim:order:'.length))
    expect(newIds.length).toBe(4)
    expect(oldOpen.length).toBeGreaterThan(5)
    expect(oldIds.length - oldOpen.length).toBeGreaterThan(20)
    // Each compared order's end time is looked up at most twice (the walk of recent ends, the trades check); the 20-odd
    // orders that ended before the venue's trade history are not looked up at all.
    expect(endLookups).toBeLessThanOrEqual(2 * comparedOrders.length)
    expect(comparedOrders.sort()).toEqual([...newIds, ...oldOpen].sort())
  })
})
