/**
 * The book rules wired into data health with the limits of the recorded config (Option A: the instrument's
 * touchQtyMin, the params' spreadBpsMax and touchShareBpsMax). An aggressive order on a thin touch is refused
 * DATA_THIN_BOOK and one taking too large a share of it IMPACT_TOO_LARGE — at intake, at an amend that reprices or adds,
 * at a resend and at the recheck of the send (I-100 check 4). Passive and reduce-only orders pass; cancels and
 * flatten's closes never face them. With every limit absent (the default) nothing changes, not even the inputs
 * recorded. The decision records show what the rules looked at, and deciding the same commands again gives the same
 * events.
 */

import { describe, expect, test } from 'bun:test'
import type { DomainEvent, EventOf } from '../../src/domain/events/index.ts'
import type { KernelConfig } from '../../src/domain/kernel-config.ts'
import type { BookTouch, MarketSnapshot } from '../../src/domain/market.ts'
import { applyInPlace, initialState, stateDigest, type Decision, type KernelCommand } from '../../src/kernel/index.ts'
import { ACCOUNT, config, d, Harness, market, ops, paperFacts, policy } from './fixtures.ts'

interface Limits {
  touchQtyMin?: string
  spreadBpsMax?: number
  touchShareBpsMax?: number
}

/** The default config with the book limits set on BTC-USD and in the params; market orders allowed. */
function limitsConfig(limits: Limits): KernelConfig {
  const base = config({ policies: [policy({ marketOrderInstruments: ['sim:BTC-USD'] })] })
  const instruments = base.instruments.map((instrument) =>
    instrument.symbol === 'BTC-USD' && limits.touchQtyMin !== undefined ? { ...instrument, touchQtyMin: d(limits.touchQtyMin) } : instrument,
  )
  const params = {
    ...base.params,
    ...(limits.spreadBpsMax === undefined ? {} : { spreadBpsMax: limits.spreadBpsMax }),
    ...(limits.touchShareBpsMax === undefined ? {} : { touchShareBpsMax: limits.touchShareBpsMax }),
  }
  return { ...base, instruments, params }
}

/** A touch around 50 000: bid 49 990 × bidQty, ask 50 010 × askQty (a spread of 20, 4 bps). */
function touch(askQty: string, bidQty = askQty, spread = { bid: '49990', ask: '50010' }): BookTouch {
  return { bidPrice: d(spread.bid), bidQty: d(bidQty), askPrice: d(spread.ask), askQty: d(askQty) }
}

function withTouch(book: BookTouch | undefined): MarketSnapshot {
  return book === undefined ? market('50000') : market('50000', { touch: book })
}

function placeOn(h: Harness, book: BookTouch | undefined, body: Record<string, unknown>): Decision {
  return h.place(body, { market: withTouch(book) })
}

function dataHealthOf(decision: Decision) {
  const event = decision.events[0] as EventOf<'order.accepted'> | EventOf<'order.rejected'> | EventOf<'order.amend_rejected'> | undefined
  return event?.decision.guards.find((guard) => guard.guard === 'data_health')
}

const MARKET_BUY = { type: 'market', price: undefined, qty: '0.1', client_order_id: 'c-mkt' }

describe('the book rules in data health', () => {
  test('defaults off: no limit configured, a market buy on an empty touch passes and records exactly the inputs it did before', () => {
    const withBook = Harness.funded({ config: limitsConfig({}) })
    const plain = Harness.funded({ config: limitsConfig({}) })
    const a = placeOn(withBook, touch('0', '0'), MARKET_BUY)
    const b = placeOn(plain, undefined, MARKET_BUY)
    expect(a.reply.kind).toBe('accepted')
    expect(a.events).toEqual(b.events)
    expect(Object.keys(dataHealthOf(a)?.inputs ?? {}).sort()).toEqual(['ageMs', 'previousPrice', 'price', 'priceBandBps', 'referenceJumpBps', 'referencePrice', 'referenceStaleMs'])
  })

  test('an aggressive order on a thin touch is refused DATA_THIN_BOOK, and its decision record shows what the rule looked at', () => {
    const h = Harness.funded({ config: limitsConfig({ touchQtyMin: '0.5' }) })
    const decision = placeOn(h, touch('0.2', '9'), MARKET_BUY)
    expect(decision.reply).toMatchObject({ kind: 'rejected', reason: 'DATA_THIN_BOOK', guard: 'data_health' })
    expect(dataHealthOf(decision)).toMatchObject({
      outcome: 'fail',
      reason: 'DATA_THIN_BOOK',
      inputs: { aggressive: true, touchPrice: '50010', touchQty: '0.2', spread: '20', qty: '0.1', touchQtyMin: '0.5', spreadBpsMax: null, touchShareBpsMax: null },
    })
    // A limit buy reaching the ask takes too; a sell hits the 9 bid, which is enough.
    expect(placeOn(h, touch('0.2', '9'), { price: '50010', client_order_id: 'c-lim' }).reply).toMatchObject({ reason: 'DATA_THIN_BOOK' })
    // No touch shown at all is a thin book for an aggressive order.
    expect(placeOn(h, undefined, { ...MARKET_BUY, client_order_id: 'c-none' }).reply).toMatchObject({ reason: 'DATA_THIN_BOOK' })
    expect(placeOn(h, touch('0.2', '9'), { side: 'sell', type: 'market', price: undefined, client_order_id: 'c-sell' }).reply.kind).toBe('accepted')
  })

  test('a spread wider than spreadBpsMax is a thin book', () => {
    const h = Harness.funded({ config: limitsConfig({ spreadBpsMax: 10 }) })
    const wide = touch('5', '5', { bid: '49900', ask: '50100' }) // 200 wide: 40 bps of 50 000
    expect(placeOn(h, wide, MARKET_BUY).reply).toMatchObject({ kind: 'rejected', reason: 'DATA_THIN_BOOK' })
    expect(placeOn(h, touch('5'), { ...MARKET_BUY, client_order_id: 'c-narrow' }).reply.kind).toBe('accepted')
  })

  test('too large a share of the touch is IMPACT_TOO_LARGE (422); exactly the share passes', () => {
    const h = Harness.funded({ config: limitsConfig({ touchShareBpsMax: 2_500 }) })
    // 25 % of the 0.3 offer is 0.075.
    const decision = placeOn(h, touch('0.3'), MARKET_BUY)
    expect(decision.reply).toMatchObject({ kind: 'rejected', reason: 'IMPACT_TOO_LARGE', guard: 'data_health' })
    expect(dataHealthOf(decision)?.inputs).toMatchObject({ touchQty: '0.3', qty: '0.1', touchShareBpsMax: 2_500 })
    expect(placeOn(h, touch('0.4'), { ...MARKET_BUY, client_order_id: 'c-share' }).reply.kind).toBe('accepted')
  })

  test('the share is the quantity as sent: one off the lot that rounds down to within the bound passes, as at the send', () => {
    const h = Harness.funded({ config: limitsConfig({ touchShareBpsMax: 2_500 }) })
    // 25 % of the 0.4 offer is 0.1; 0.10009 goes out as 0.1 (lot 0.0001), which the send's recheck passes too.
    const decision = placeOn(h, touch('0.4'), { ...MARKET_BUY, qty: '0.10009', client_order_id: 'c-off-lot' })
    expect(decision.reply.kind).toBe('accepted')
    expect(dataHealthOf(decision)?.inputs).toMatchObject({ touchQty: '0.4', qty: '0.1', touchShareBpsMax: 2_500 })
    expect((decision.events[0] as EventOf<'order.accepted'>).qty).toBe(d('0.1'))
    // One lot more than the share is still refused.
    expect(placeOn(h, touch('0.4'), { ...MARKET_BUY, qty: '0.1001', client_order_id: 'c-over' }).reply).toMatchObject({ kind: 'rejected', reason: 'IMPACT_TOO_LARGE' })
  })

  test('passive and reduce-only orders pass on a thin touch', () => {
    const h = Harness.funded({ config: limitsConfig({ touchQtyMin: '1', touchShareBpsMax: 100 }) })
    const passive = placeOn(h, touch('0.001'), { price: '49995', client_order_id: 'c-passive' })
    expect(passive.reply.kind).toBe('accepted')
    expect(dataHealthOf(passive)?.inputs).toMatchObject({ aggressive: false })
    // On an account without the passive buy open: a market sell would cross it (SELF_TRADE_PREVENTED).
    const other = Harness.funded({ config: limitsConfig({ touchQtyMin: '1', touchShareBpsMax: 100 }) })
    const close = placeOn(other, touch('0.001'), { side: 'sell', type: 'market', price: undefined, reduce_only: true, client_order_id: 'c-close' })
    expect(close.reply.kind).toBe('accepted')
  })

  test('an amend that makes the order aggressive on a thin touch is refused; a quantity cut never faces the book', () => {
    const h = Harness.funded({ config: limitsConfig({ touchQtyMin: '1' }) })
    const orderId = h.placedId({ price: '50000' }, { market: withTouch(touch('5')) })
    h.send(orderId)
    h.placeResult(orderId, { kind: 'ok', value: { venueOrderId: 'v-1' } })
    const reprice = h.amend(orderId, { price: '50020' }, { market: withTouch(touch('0.2')) })
    expect(reprice.reply).toMatchObject({ kind: 'rejected', reason: 'DATA_THIN_BOOK', guard: 'data_health' })
    expect(dataHealthOf(reprice)?.inputs).toMatchObject({ aggressive: true, touchQty: '0.2' })
    expect(h.amend(orderId, { qty: '0.05' }, { market: withTouch(touch('0.2')) }).reply.kind).toBe('amend_accepted')
  })

  test('at the send (I-100 check 4): a place accepted on a good touch is blocked once the touch thinned; a cancel goes out', () => {
    const h = Harness.funded({ config: limitsConfig({ touchQtyMin: '0.5' }) })
    const placed = placeOn(h, touch('5'), MARKET_BUY)
    if (placed.reply.kind !== 'accepted') throw new Error('expected accepted')
    const orderId = placed.reply.orderId
    const blocked = h.run({ kind: 'send', nowMs: h.nowMs, orderId, action: 'place', facts: paperFacts, market: withTouch(touch('0.1')) })
    const event = blocked.events.find((item) => item.type === 'order.send_blocked') as EventOf<'order.send_blocked'> | undefined
    expect(event?.gate.checks.find((check) => check.check === 'guards_pass')).toMatchObject({ pass: false, detail: 'a guard refused the send: DATA_THIN_BOOK' })
    expect(h.order(orderId).status).toBe('Rejected')

    const open = h.openOrder({ client_order_id: 'c-open', price: '49000' })
    h.cancel(open)
    const cancel = h.run({ kind: 'send', nowMs: h.nowMs, orderId: open, action: 'cancel', facts: paperFacts, market: withTouch(touch('0')) })
    expect(h.eventTypes(cancel)).toEqual(['order.cancel_send_requested'])
  })

  test('a resend faces the book rules as its intake did', () => {
    const h = Harness.funded({ config: limitsConfig({ touchShareBpsMax: 100 }) })
    // The fixtures' default order, a limit buy of 0.1 at 50 000, accepted on a deep ask at 50 000 and its place lost.
    const book = touch('1', '1', { bid: '49990', ask: '50000' })
    const orderId = h.placedId({}, { market: market('50000', { touch: touch('50', '50', { bid: '49990', ask: '50000' }) }) })
    h.send(orderId)
    h.placeResult(orderId, { kind: 'unknown', reason: 'timeout' })
    h.nowMs += 5_000
    h.run({ kind: 'reconcile_result', nowMs: h.nowMs, orderId, venueOrder: null, trades: [] })
    expect(h.order(orderId)).toMatchObject({ status: 'Failed', notAtVenue: true })
    const refused = h.run({ kind: 'resend', nowMs: h.nowMs, principal: ops, orderId, market: market('50000', { observedAtMs: h.nowMs, touch: book }) })
    expect(refused.reply).toMatchObject({ kind: 'refused', reason: 'IMPACT_TOO_LARGE' })
  })

  test("flatten's closes never face the book rules, even where the venue takes no reduce-only flag", () => {
    const base = limitsConfig({ touchQtyMin: '1', touchShareBpsMax: 100 })
    const h = Harness.funded({ config: { ...base, instruments: base.instruments.map((instrument) => ({ ...instrument, reduceOnly: false })) } })
    const flatten = h.run({ kind: 'flatten', nowMs: h.nowMs, principal: ops, accountId: ACCOUNT, flattenId: 'f-1', markets: { 'sim:BTC-USD': market('50000', { observedAtMs: h.nowMs, touch: touch('0') }) } })
    const close = flatten.events.find((event) => event.type === 'order.accepted' && event.symbol === 'BTC-USD') as EventOf<'order.accepted'> | undefined
    if (close === undefined) throw new Error('no close for BTC-USD')
    const sent = h.run({ kind: 'send', nowMs: h.nowMs, orderId: close.orderId, action: 'place', facts: paperFacts, market: market('50000', { observedAtMs: h.nowMs, touch: touch('0') }) })
    expect(h.eventTypes(sent)).toEqual(['order.send_requested'])
  })

  test('deciding the same commands again gives the same events, and replaying them the same state', () => {
    const commands: KernelCommand[] = []
    const record = (h: Harness): Harness => {
      const run = h.run.bind(h)
      h.run = (command: KernelCommand) => {
        commands.push(command)
        return run(command)
      }
      return h
    }
    const first = record(Harness.funded({ config: limitsConfig({ touchQtyMin: '0.5', spreadBpsMax: 30, touchShareBpsMax: 5_000 }) }))
    placeOn(first, touch('0.2'), MARKET_BUY)
    placeOn(first, touch('5'), { ...MARKET_BUY, client_order_id: 'c-2' })
    placeOn(first, touch('0.15'), { ...MARKET_BUY, client_order_id: 'c-3', qty: '0.1' })
    placeOn(first, touch('5'), { price: '49000', client_order_id: 'c-4' })
    const again = Harness.funded({ config: limitsConfig({ touchQtyMin: '0.5', spreadBpsMax: 30, touchShareBpsMax: 5_000 }) })
    for (const command of commands) again.run(command)
    expect(again.log).toEqual(first.log)
    const reasons = first.log.filter((event): event is EventOf<'order.rejected'> => event.type === 'order.rejected').map((event) => event.reason)
    expect(reasons).toEqual(['DATA_THIN_BOOK', 'DATA_THIN_BOOK'])
    const replayed = initialState()
    first.log.forEach((event: DomainEvent, index) => applyInPlace(replayed, event, { lsn: index + 1 }))
    expect(stateDigest(replayed)).toBe(stateDigest(first.state))
  })
})
