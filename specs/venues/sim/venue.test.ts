import { describe, expect, test } from 'bun:test'
import { parseDecimal as d } from '../../../src/domain/decimal.ts'
import { SimReason } from '../../../src/venues/index.ts'
import { harness, kinds, limit, okValue, START_MS, within } from './fixture.ts'

/** Client order ids that appear on more than one venue order: must always be empty. */
function clientIdsOnSeveralOrders(orders: readonly { clientOrderIds: readonly string[] }[]): string[] {
  const seen = new Map<string, number>()
  for (const order of orders) for (const id of order.clientOrderIds) seen.set(id, (seen.get(id) ?? 0) + 1)
  return [...seen].filter(([, count]) => count > 1).map(([id]) => id)
}

describe('sim venue orders', () => {
  test('a second place with a known clientOrderId is rejected as a duplicate and creates no order', async () => {
    const { clock, venue, reports } = harness()
    const request = limit({ clientOrderId: 'dup', price: d('49000') })
    okValue(await within(clock, venue.place(request)))
    const second = await within(clock, venue.place({ ...request, qty: d('2') }))
    expect(second).toEqual({ kind: 'rejected', reason: SimReason.duplicateClientOrderId })
    expect(venue.inspect().orders).toHaveLength(1)
    expect(venue.inspect().requests.duplicatePlaces).toBe(1)
    expect(kinds(reports)).toEqual(['new'])
  })

  test('with duplicateClientOrderId "ack" a resend returns the existing order id', async () => {
    const { clock, venue } = harness({ duplicateClientOrderId: 'ack' })
    const request = limit({ clientOrderId: 'again', price: d('49000') })
    const first = okValue(await within(clock, venue.place(request)))
    expect(okValue(await within(clock, venue.place(request)))).toEqual(first)
    expect(venue.inspect().orders).toHaveLength(1)
  })

  test('with duplicateClientOrderId "ack" a resend of a rejected order is rejected again, for the same reason', async () => {
    const { clock, venue, reports } = harness({ duplicateClientOrderId: 'ack' })
    const request = limit({ clientOrderId: 'refused', price: d('49000.005') })
    const first = await within(clock, venue.place(request))
    expect(first).toEqual({ kind: 'rejected', reason: SimReason.invalidPrice })
    expect(await within(clock, venue.place(request))).toEqual(first)
    expect(venue.inspect().orders).toHaveLength(1)
    expect(kinds(reports)).toEqual(['rejected'])
  })

  test('two sends of one clientOrderId in flight at once still make one venue order', async () => {
    const { clock, venue } = harness()
    const request = limit({ clientOrderId: 'race', price: d('49000') })
    const [a, b] = await Promise.all([within(clock, venue.place(request)), venue.place(request)])
    expect([a.kind, b.kind].sort()).toEqual(['ok', 'rejected'])
    expect(clientIdsOnSeveralOrders(venue.inspect().orders)).toEqual([])
    expect(venue.inspect().orders).toHaveLength(1)
  })

  test('cancel closes an open order and reports it under the cancel id with the original id', async () => {
    const { clock, venue, reports } = harness()
    okValue(await within(clock, venue.place(limit({ clientOrderId: 'o1', price: d('49000') }))))
    const cancel = { clientOrderId: 'x1', origClientOrderId: 'o1', account: 'acct', symbol: 'BTC-USD' }
    expect(await within(clock, venue.cancel(cancel))).toEqual({ kind: 'ok', value: { accepted: true } })
    expect(reports.at(-1)).toMatchObject({ kind: 'canceled', clientOrderId: 'x1', origClientOrderId: 'o1' })
    expect(okValue(await within(clock, venue.orderStatus('o1')))?.status).toBe('canceled')
    expect(okValue(await within(clock, venue.openOrders('acct')))).toEqual([])
  })

  test('cancel of a filled order is too late; of an unknown or foreign order, unknown', async () => {
    const { clock, venue, reports } = harness()
    okValue(await within(clock, venue.place(limit({ clientOrderId: 'f1' }))))
    const cancel = { clientOrderId: 'x2', origClientOrderId: 'f1', account: 'acct', symbol: 'BTC-USD' }
    expect(await within(clock, venue.cancel(cancel))).toEqual({ kind: 'rejected', reason: SimReason.tooLateToCancel })
    expect(reports.at(-1)).toMatchObject({ kind: 'cancel_rejected', origClientOrderId: 'f1' })
    const unknown = await within(clock, venue.cancel({ ...cancel, origClientOrderId: 'nope' }))
    expect(unknown).toEqual({ kind: 'rejected', reason: SimReason.unknownOrder })
    const foreign = await within(clock, venue.cancel({ ...cancel, account: 'other' }))
    expect(foreign).toEqual({ kind: 'rejected', reason: SimReason.unknownOrder })
  })

  test('amend replaces qty and price, keeps the venue order id, and chains the client ids', async () => {
    const { clock, venue, reports } = harness()
    const ack = okValue(await within(clock, venue.place(limit({ clientOrderId: 'a1', price: d('49000') }))))
    const amend = { clientOrderId: 'a2', origClientOrderId: 'a1', account: 'acct', symbol: 'BTC-USD', qty: d('3'), price: d('49500') }
    okValue(await within(clock, venue.amend(amend)))
    expect(reports.at(-1)).toMatchObject({ kind: 'replaced', clientOrderId: 'a2', origClientOrderId: 'a1' })
    const status = okValue(await within(clock, venue.orderStatus('a2')))
    expect(status).toMatchObject({ venueOrderId: ack.venueOrderId, clientOrderId: 'a2', qty: d('3'), price: d('49500') })
    // The old id still finds the order (under its new id), and stays taken.
    expect(okValue(await within(clock, venue.orderStatus('a1')))?.clientOrderId).toBe('a2')
    expect(venue.inspect().orders[0]?.clientOrderIds).toEqual(['a1', 'a2'])
    const reuse = await within(clock, venue.place(limit({ clientOrderId: 'a1' })))
    expect(reuse).toEqual({ kind: 'rejected', reason: SimReason.duplicateClientOrderId })
  })

  test('an amend that makes the order marketable fills it as taker at once', async () => {
    const { clock, venue, reports } = harness()
    okValue(await within(clock, venue.place(limit({ clientOrderId: 'm1', price: d('49000') })), 20))
    okValue(await within(clock, venue.amend({ clientOrderId: 'm1', origClientOrderId: 'm1', account: 'acct', symbol: 'BTC-USD', qty: d('1'), price: d('50001') }), 20))
    expect(kinds(reports)).toEqual(['new', 'replaced', 'fill'])
    expect(reports.at(-1)).toMatchObject({ liquidity: 'taker', lastPrice: d('50000'), cumQty: d('1') })
  })

  test('amend below the filled quantity, of a closed order, or post-only into a cross is rejected', async () => {
    const { clock, venue } = harness({ partialFillProbability: 1 })
    okValue(await within(clock, venue.place(limit({ clientOrderId: 'pf', price: d('50000') })), 20))
    const filled = okValue(await within(clock, venue.orderStatus('pf'), 20))?.cumQty ?? 0n
    const base = { clientOrderId: 'pf', origClientOrderId: 'pf', account: 'acct', symbol: 'BTC-USD' }
    expect(await within(clock, venue.amend({ ...base, qty: filled }), 20)).toMatchObject({ reason: SimReason.invalidQuantity })
    okValue(await within(clock, venue.place(limit({ clientOrderId: 'po', postOnly: true, price: d('49000') })), 20))
    const cross = await within(clock, venue.amend({ ...base, clientOrderId: 'po', origClientOrderId: 'po', qty: d('1'), price: d('50000') }), 20)
    expect(cross).toMatchObject({ reason: SimReason.postOnlyWouldCross })
    okValue(await within(clock, venue.cancel({ ...base, clientOrderId: 'c', origClientOrderId: 'po' }), 20))
    const late = await within(clock, venue.amend({ ...base, clientOrderId: 'po', origClientOrderId: 'po', qty: d('2') }), 20)
    expect(late).toMatchObject({ reason: SimReason.tooLateToAmend })
  })

  test('status, open orders and trades answer by client id and account', async () => {
    const { clock, venue } = harness({ balances: {} })
    okValue(await within(clock, venue.place(limit({ clientOrderId: 't1', account: 'A' }))))
    okValue(await within(clock, venue.place(limit({ clientOrderId: 't2', account: 'B' }))))
    okValue(await within(clock, venue.place(limit({ clientOrderId: 'r1', account: 'A', price: d('40000') }))))
    expect(okValue(await within(clock, venue.orderStatus('missing')))).toBeNull()
    expect(okValue(await within(clock, venue.openOrders('A'))).map((o) => o.clientOrderId)).toEqual(['r1'])
    expect(okValue(await within(clock, venue.openOrders('B')))).toEqual([])
    expect(okValue(await within(clock, venue.trades({ account: 'A' }))).map((t) => t.clientOrderId)).toEqual(['t1'])
    const byId = okValue(await within(clock, venue.trades({ clientOrderId: 't2' })))
    expect(byId).toHaveLength(1)
    expect(byId[0]).toMatchObject({ account: 'B', qty: d('1'), price: d('50000'), venueTimeMs: expect.any(Number) })
    expect(okValue(await within(clock, venue.trades({ clientOrderId: 'missing' })))).toEqual([])
    expect(okValue(await within(clock, venue.trades({})))).toHaveLength(2)
  })

  test('answers and reports never arrive synchronously inside the call', async () => {
    const { clock, venue, reports } = harness()
    let resolved = false
    void venue.place(limit()).then(() => {
      resolved = true
    })
    await Promise.resolve()
    expect(resolved).toBe(false)
    expect(reports).toEqual([])
    expect(clock.nowMs()).toBe(START_MS)
    await clock.advanceAsync(20)
    expect(resolved).toBe(true)
  })

  test('the price walk is observable with the time it was observed, and an idle venue leaves the clock idle', async () => {
    const { clock, venue } = harness({ priceStepTicksMax: 3 })
    expect(venue.referencePrice('BTC-USD')).toMatchObject({ symbol: 'BTC-USD', price: d('50000'), observedAtMs: START_MS })
    expect(venue.referencePrice('NOPE')).toBeNull()
    clock.advance(1_050)
    const later = venue.referencePrice('BTC-USD')
    expect(later?.observedAtMs).toBe(START_MS + 1_000)
    expect(clock.runUntilIdle(10).idle).toBe(true)
  })

  test('a price stall freezes the price and lets its observed-at time age', async () => {
    const { clock, venue } = harness({ priceStepTicksMax: 3, faults: { priceStalls: [{ symbol: 'BTC-USD', startMs: START_MS + 500, endMs: START_MS + 5_000 }] } })
    clock.advance(3_000)
    expect(venue.referencePrice('BTC-USD')?.observedAtMs).toBe(START_MS + 400)
    expect(venue.referencePrice('ETH-USD')?.observedAtMs).toBe(START_MS + 3_000)
    clock.advance(3_000)
    expect(venue.referencePrice('BTC-USD')?.observedAtMs).toBe(START_MS + 6_000)
  })

  test('options are validated with messages saying what was expected', () => {
    expect(() => harness({ latencyMsMin: 10, latencyMsMax: 5 })).toThrow(/latencyMsMax must be an integer ≥ 10/)
    expect(() => harness({ faults: { dropReportProbability: 2 } })).toThrow(/probability in \[0, 1\]/)
    expect(() => harness({ instruments: [] })).toThrow(/at least one instrument/)
    expect(() => harness({ requestTimeoutMs: 5 })).toThrow(/requestTimeoutMs/)
  })

  test('an option the venue draws from (nextInt, a span below 2^32) is refused at construction, not at the first fill', () => {
    // Each was accepted and then threw inside a clock callback, mid-operation: a place half applied, its answer never sent.
    expect(() => harness({ fillsPerMatchMax: 2 ** 33 })).toThrow('fillsPerMatchMax must be at most')
    expect(() => harness({ marketSlippageTicksMax: 2 ** 32 })).toThrow('marketSlippageTicksMax must be at most')
    expect(() => harness({ priceStepTicksMax: 2 ** 31 })).toThrow('priceStepTicksMax must be at most')
    expect(() => harness({ latencyMsMin: 1, latencyMsMax: 2 ** 32 + 1, requestTimeoutMs: 2 ** 34 })).toThrow('latencyMsMax must be at most')
    expect(() => harness({ faults: { reorderDelayMsMax: 2 ** 32 + 1 } })).toThrow('faults.reorderDelayMsMax must be at most')
    expect(() => harness().venue.setFaults({ reorderDelayMsMax: 2 ** 32 + 1 })).toThrow('faults.reorderDelayMsMax must be at most')
    harness({ fillsPerMatchMax: 2 ** 32, marketSlippageTicksMax: 2 ** 32 - 1, priceStepTicksMax: 2 ** 31 - 1, faults: { reorderDelayMsMax: 2 ** 32 } })
  })

  test('the venue name is configurable and prefixes order and execution ids', async () => {
    const { clock, venue, reports } = harness({ venue: 'paper' })
    expect(okValue(await within(clock, venue.place(limit()))).venueOrderId).toBe('paper-o1')
    expect(reports.map((report) => report.execId)).toEqual(['paper-x1', 'paper-x2'])
    expect(reports.every((report) => report.venue === 'paper')).toBe(true)
  })
})
