import { afterEach, describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { projectorFillReads, backOfficeOf } from '../../src/backoffice/backoffice.ts'
import { reconcileVenue } from '../../src/backoffice/external-checks.ts'
import { endedSince, ENDED_WALK_SLACK_MS, heldOrderOf, openOrdersOf } from '../../src/backoffice/held-order-index.ts'
import { applyEvent, initialLedger, type LedgerState } from '../../src/backoffice/ledger.ts'
import type { TrackedOrder } from '../../src/backoffice/orders.ts'
import { formatDecimal } from '../../src/domain/decimal.ts'
import type { DomainEvent } from '../../src/domain/events/index.ts'
import { amendClientOrderId, cancelClientOrderId, venueClientOrderId } from '../../src/domain/orders.ts'
import { isTerminal } from '../../src/domain/states.ts'
import { unslicedWork, WorkSlices } from '../../src/runtime/work-slices.ts'
import { drive, removeDir, run, startWorld, traderA, type World } from '../runtime/harness.ts'
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

function indexedOf(ledger: LedgerState, accountId: string): string[] {
  return [...openOrdersOf(ledger.orders, 'sim', accountId).keys()].sort()
}

const at = (event: DomainEvent, atMs: number): DomainEvent => ({ ...event, atMs }) as DomainEvent

describe('held-order index', () => {
  test('the open orders, indexed when first asked for, follow every acceptance, fill, end and reopening after that', () => {
    // One step: accept a new order, or move an existing one (fill it whole, cancel it, or make it Unknown: a reopening
    // when it had ended). `askAt`: the step at which reconcile first asks (the index is built then, from the orders).
    const step = fc.record({ kind: fc.constantFrom('accept', 'fill', 'cancel', 'unknown'), pick: fc.nat(), account: fc.constantFrom(...ACCOUNTS) })
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 60 }), fc.nat({ max: 60 }), (steps, askAt) => {
        const ledger = initialLedger()
        const ids: string[] = []
        const filled = new Set<string>()
        steps.forEach((move, index) => {
          if (index === askAt) for (const accountId of ACCOUNTS) indexedOf(ledger, accountId)
          if (move.kind === 'accept' || ids.length === 0) {
            const orderId = `o${ids.length}`
            ids.push(orderId)
            applyAll(ledger, [accepted({ orderId, side: 'buy', qty: '1', price: '100', accountId: move.account })])
          } else {
            const orderId = ids[move.pick % ids.length]!
            if (move.kind === 'fill' && !filled.has(orderId)) {
              filled.add(orderId)
              applyAll(ledger, [fill(orderId, { execId: `${orderId}-x`, qty: '1', price: '100', cumQty: '1' })])
            } else if (move.kind === 'cancel') applyAll(ledger, [canceled(orderId)])
            else if (move.kind === 'unknown') applyAll(ledger, [unknown(orderId)])
          }
          if (index >= askAt) for (const accountId of ACCOUNTS) expect(indexedOf(ledger, accountId)).toEqual(notDoneOf(ledger, accountId))
        })
        for (const accountId of ACCOUNTS) expect(indexedOf(ledger, accountId)).toEqual(notDoneOf(ledger, accountId))
      }),
      { seed: 4_242, numRuns: 200 },
    )
  })

  test('a copy of the ledger gets an index of its own: the original\'s does not follow the copy', () => {
    const ledger = initialLedger()
    applyAll(ledger, [accepted({ orderId: 'a', side: 'buy', qty: '1', price: '100' })])
    expect(indexedOf(ledger, 'acct-1')).toEqual(['a'])
    const copy = { ...ledger, orders: new Map(ledger.orders), endedOrders: new Map(ledger.endedOrders) }
    applyAll(copy, [canceled('a'), accepted({ orderId: 'b', side: 'buy', qty: '1', price: '100' })])
    expect(indexedOf(copy, 'acct-1')).toEqual(['b'])
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

  test('ended since a time, walked with a pause after every entry: ends and reopenings during the walk', async () => {
    const ledger = initialLedger()
    const orders = Array.from({ length: 6 }, (_, index) => `o${index}`)
    applyAll(ledger, [...orders, 'later'].map((orderId) => accepted({ orderId, side: 'buy', qty: '1', price: '100' })))
    orders.forEach((orderId, index) => applyAll(ledger, [at(canceled(orderId), AT_MS + index)]))
    let pauses = 0
    let tick = 0
    const slices = new WorkSlices({
      sliceMs: 1, itemsPerClockCheck: 1, nowMs: () => tick++,
      pause: async () => {
        // After the first entry: o1 (not walked yet) reopens, and 'later' ends (after the walk's start).
        if (++pauses === 1) applyAll(ledger, [at(unknown('o1'), AT_MS + 10), at(canceled('later'), AT_MS + 10)])
      },
    })
    const ended = await endedSince(ledger, 'sim', Number.NEGATIVE_INFINITY, slices)
    expect((ended.get('acct-1') ?? []).map((order) => order.orderId)).toEqual(['o5', 'o4', 'o3', 'o2', 'o0'])
    expect(pauses).toBeGreaterThanOrEqual(5)
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
})

describe('reconcile against the venue does not walk every held order', () => {
  const worlds: World[] = []
  afterEach(async () => {
    for (const world of worlds.splice(0)) {
      await world.gateway.stop().catch(() => undefined)
      removeDir(world.dir)
    }
  })

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
    const fillReads = projectorFillReads(office.projector)
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
