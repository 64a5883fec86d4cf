/**
 * Self-trade prevention (src/kernel/intake/self-trade.ts, the own-quotes index src/kernel/own-quotes.ts): an order
 * that would cross an open order of the same account on the other side of the same venue and symbol is refused
 * SELF_TRADE_PREVENTED by guard 2 — at intake, for an OCO list's second leg, for an amend's new terms and for a resend —
 * and the decision record names the order it would cross. Flatten's closes bypass it.
 */

import { describe, expect, test } from 'bun:test'
import type { Policy } from '../../src/domain/accounts.ts'
import type { Order } from '../../src/domain/orders.ts'
import { reasonInfo } from '../../src/domain/reasons.ts'
import { isTerminal } from '../../src/domain/states.ts'
import { applyInPlace, decide, initialState, stateDigest, type Decision, type KernelState, type PlaceCommand } from '../../src/kernel/index.ts'
import { nearestOwnOpposite } from '../../src/kernel/own-quotes.ts'
import { decodeKernelState, encodeKernelState } from '../../src/runtime/snapshot/index.ts'
import { ACCOUNT, admin, body, config, d, Harness, market, ops, placeCommand, policy, report, T0, trader } from './fixtures.ts'

const OTHER = 'acct-2'

function funded(overrides: Partial<Policy> = {}): Harness {
  const policies = [policy(overrides), policy({ ...overrides, accountId: OTHER })]
  const harness = Harness.funded({ config: config({ policies }) })
  for (const [asset, amount] of [['USD', '100000'], ['BTC', '2']] as const) {
    harness.run({ kind: 'fund', nowMs: T0, principalId: 'config', accountId: OTHER, asset, amount: d(amount), reference: 'config' })
  }
  return harness
}

const both = { ...trader, accounts: [ACCOUNT, OTHER] }

function rejected(decision: Decision): { reason: string; guard: string } {
  if (decision.reply.kind !== 'rejected') throw new Error(`expected rejected, got ${JSON.stringify(decision.reply)}`)
  return { reason: decision.reply.reason, guard: decision.reply.guard }
}

function policyInputs(decision: Decision): Record<string, unknown> {
  const event = decision.events[0]
  if (event === undefined || !('decision' in event)) throw new Error('expected a decision record')
  const record = event.decision.guards.find((guard) => guard.guard === 'policy')
  if (record === undefined) throw new Error('expected the policy guard in the record')
  return record.inputs
}

describe('self-trade prevention at intake', () => {
  test('a buy at or above the account’s own lowest sell is refused, 422, naming that sell; below it passes', () => {
    const harness = funded()
    const ask = harness.openOrder({ client_order_id: 'ask', side: 'sell', price: '50100' })
    harness.openOrder({ client_order_id: 'ask-far', side: 'sell', price: '50300' })
    const atAsk = harness.place({ client_order_id: 'b1', price: '50100' })
    expect(rejected(atAsk)).toEqual({ reason: 'SELF_TRADE_PREVENTED', guard: 'policy' })
    expect(reasonInfo('SELF_TRADE_PREVENTED')).toMatchObject({ errorClass: 'definite_reject', httpStatus: 422 })
    expect(policyInputs(atAsk)).toMatchObject({ selfTradeOrderId: ask, selfTradePrice: '50100' })
    expect(atAsk.events.map((event) => event.type)).toEqual(['order.rejected'])
    expect(rejected(harness.place({ client_order_id: 'b2', price: '50200' })).reason).toBe('SELF_TRADE_PREVENTED')
    const below = harness.place({ client_order_id: 'b3', price: '50099' })
    expect(below.reply.kind).toBe('accepted')
    // The record of a pass names the nearest own order on the other side too: explain shows what was looked at.
    expect(policyInputs(below)).toMatchObject({ selfTradeOrderId: ask, selfTradePrice: '50100' })
  })

  test('a sell at or below the account’s own highest buy is refused; above it passes; a price rounded to the tick counts as sent', () => {
    const harness = funded()
    const bid = harness.openOrder({ client_order_id: 'bid', side: 'buy', price: '49900' })
    harness.openOrder({ client_order_id: 'bid-low', side: 'buy', price: '49800' })
    expect(rejected(harness.place({ client_order_id: 's1', side: 'sell', price: '49900' })).reason).toBe('SELF_TRADE_PREVENTED')
    expect(policyInputs(harness.place({ client_order_id: 's2', side: 'sell', price: '49850' }))).toMatchObject({ selfTradeOrderId: bid, selfTradePrice: '49900' })
    // 49899.995 rounds up to the tick (0.01) as a sell: 49900.00, which crosses.
    expect(rejected(harness.place({ client_order_id: 's3', side: 'sell', price: '49899.995' })).reason).toBe('SELF_TRADE_PREVENTED')
    expect(harness.place({ client_order_id: 's4', side: 'sell', price: '49900.01' }).reply.kind).toBe('accepted')
  })

  test('a market order crosses any own open order on the other side, and an open market order blocks any on its other side', () => {
    const harness = funded({ marketOrderInstruments: ['sim:BTC-USD'] })
    harness.openOrder({ client_order_id: 'ask', side: 'sell', price: '52000' })
    const market = harness.place({ client_order_id: 'm1', type: 'market', price: undefined, qty: '0.01' })
    expect(rejected(market).reason).toBe('SELF_TRADE_PREVENTED')
    const fresh = funded({ marketOrderInstruments: ['sim:BTC-USD'] })
    const buy = fresh.placedId({ client_order_id: 'm2', type: 'market', price: undefined, qty: '0.01' })
    const sell = fresh.place({ client_order_id: 's1', side: 'sell', price: '52000' })
    expect(rejected(sell).reason).toBe('SELF_TRADE_PREVENTED')
    expect(policyInputs(sell)).toMatchObject({ selfTradeOrderId: buy, selfTradePrice: 'market' })
  })

  test('other accounts, other symbols and the same side never block', () => {
    const harness = funded()
    harness.openOrder({ client_order_id: 'ask', side: 'sell', price: '50000' })
    expect(harness.place({ client_order_id: 'other', account: OTHER }, { principal: both }).reply.kind).toBe('accepted')
    expect(harness.place({ client_order_id: 'eth', symbol: 'ETH-USD', price: '3000' }, { market: market('3000') }).reply.kind).toBe('accepted')
    expect(harness.place({ client_order_id: 'same-side', side: 'sell', price: '49000' }).reply.kind).toBe('accepted')
  })

  test('an order blocks while it may trade (queued, cancel pending) and no longer once it ended', () => {
    const harness = funded()
    const queued = harness.placedId({ client_order_id: 'ask-q', side: 'sell', price: '50000' })
    expect(rejected(harness.place({ client_order_id: 'b1' })).reason).toBe('SELF_TRADE_PREVENTED')
    harness.send(queued)
    harness.placeResult(queued, { kind: 'ok', value: { venueOrderId: 'v-1' } })
    harness.cancel(queued)
    expect(harness.order(queued).status).toBe('CancelRequested')
    expect(rejected(harness.place({ client_order_id: 'b2' })).reason).toBe('SELF_TRADE_PREVENTED')
    harness.send(queued, 'cancel')
    harness.cancelResult(queued, { kind: 'ok', value: { accepted: true } })
    harness.report(report(harness.order(queued), { execId: 'x-1', kind: 'canceled' }))
    expect(isTerminal(harness.order(queued).status)).toBe(true)
    const after = harness.place({ client_order_id: 'b3' })
    expect(after.reply.kind).toBe('accepted')
    expect(policyInputs(after)).not.toHaveProperty('selfTradeOrderId')
  })

  test('flatten is never blocked by the orders it cancels, and its close then blocks a buy that would cross it', () => {
    const harness = funded()
    harness.openOrder({ client_order_id: 'bid', side: 'buy', price: '50000', qty: '0.1' })
    const flatten = harness.run({ kind: 'flatten', nowMs: T0, principal: ops, accountId: ACCOUNT, flattenId: 'f-1', markets: { 'sim:BTC-USD': market('50000') } })
    const closes = flatten.events.filter((event) => event.type === 'order.accepted')
    expect(closes.length).toBe(1)
    const close = closes[0]
    if (close?.type !== 'order.accepted') throw new Error('expected a close')
    expect(close.side).toBe('sell')
    // 47500: the band's floor, below the open bid being canceled. A buy at or above it crosses the close.
    expect(rejected(harness.place({ client_order_id: 'b-after', price: '48000' })).reason).toBe('SELF_TRADE_PREVENTED')
  })
})

describe('self-trade prevention beyond a new order', () => {
  test('an amend into a cross is refused and the order stands; an amend asked holds its new price against crossing orders', () => {
    const harness = funded()
    const ask = harness.openOrder({ client_order_id: 'ask', side: 'sell', price: '50200' })
    const bid = harness.openOrder({ client_order_id: 'bid', side: 'buy', price: '50000' })
    const refused = harness.amend(bid, { price: '50200' })
    expect(rejected(refused)).toEqual({ reason: 'SELF_TRADE_PREVENTED', guard: 'policy' })
    expect(refused.events.map((event) => event.type)).toEqual(['order.amend_rejected'])
    expect(policyInputs(refused)).toMatchObject({ selfTradeOrderId: ask, selfTradePrice: '50200' })
    expect(harness.order(bid)).toMatchObject({ price: d('50000'), amend: null, status: 'AckedOpen' })
    // An amend of the bid up to 50150 is asked: until the venue answers, the bid may rest at either price.
    expect(harness.amend(bid, { price: '50150' }).reply.kind).toBe('amend_accepted')
    expect(rejected(harness.place({ client_order_id: 's1', side: 'sell', price: '50100' })).reason).toBe('SELF_TRADE_PREVENTED')
    harness.send(bid, 'amend')
    harness.amendResult(bid, { kind: 'rejected', reason: 'too_late_to_amend' })
    expect(harness.order(bid).amend).toMatchObject({ stage: 'failed' })
    expect(harness.place({ client_order_id: 's2', side: 'sell', price: '50100' }).reply.kind).toBe('accepted')
  })

  test('a resend of an order a crossing order was placed against while it was Failed is refused, naming the order it would cross, and the order stays Failed', () => {
    const harness = funded()
    const orderId = harness.placedId({ client_order_id: 'bid', qty: '1', price: '50000' })
    harness.send(orderId)
    harness.placeResult(orderId, { kind: 'unknown', reason: 'timeout' })
    harness.nowMs += 5_000
    harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, orderId, venueOrder: null, trades: [] })
    expect(harness.order(orderId).status).toBe('Failed')
    const askId = harness.openOrder({ client_order_id: 'ask', side: 'sell', price: '50000' })
    const resend = harness.run({ kind: 'resend', nowMs: harness.nowMs, principal: admin, orderId, market: market('50000', { observedAtMs: harness.nowMs }) })
    // The detail (in the reply and the recorded refusal) names the order it would cross and its price.
    const detail = `the account policy refuses the order now: it would cross the account's own open order (selfTradeOrderId=${askId}, selfTradePrice=50000)`
    expect(resend.reply).toEqual({ kind: 'refused', reason: 'SELF_TRADE_PREVENTED', detail })
    expect(resend.events.map((event) => event.type)).toEqual(['order.resend_refused'])
    expect(resend.events[0]).toMatchObject({ reason: 'SELF_TRADE_PREVENTED', detail })
    expect(harness.order(orderId).status).toBe('Failed')
  })

  test('an OCO list whose legs cross each other is refused at its second leg; legs on opposite sides that do not cross pass', () => {
    const harness = funded()
    const list = (key: string, legs: Record<string, unknown>[]): Decision =>
      harness.run({
        kind: 'place_list',
        nowMs: harness.nowMs,
        principal: trader,
        idempotencyKey: null,
        body: { type: 'oco', account: ACCOUNT, client_list_id: key, orders: legs },
        market: market(),
        live: { credentialPresent: true, environmentLive: true, haLeader: true },
        configDigest: 'cfg-1',
        buildCommit: 'test',
      })
    const crossing = list('l-1', [body({ side: 'buy', price: '50100', client_order_id: undefined }), body({ side: 'sell', price: '50000', client_order_id: undefined })])
    expect(crossing.reply).toMatchObject({ kind: 'list_rejected', leg: 1, reason: 'SELF_TRADE_PREVENTED', guard: 'policy' })
    const apart = list('l-2', [body({ side: 'buy', price: '49500', client_order_id: undefined }), body({ side: 'sell', price: '50500', client_order_id: undefined })])
    expect(apart.reply.kind).toBe('list_accepted')
    // The list's legs are open orders like any: a sell at the list's buy is refused.
    expect(rejected(harness.place({ client_order_id: 's1', side: 'sell', price: '49500' })).reason).toBe('SELF_TRADE_PREVENTED')
  })

  test('replayed from genesis and restored from a snapshot, the kernel decides the same refusal, on the same state digest', () => {
    const harness = funded()
    const ask = harness.openOrder({ client_order_id: 'ask', side: 'sell', price: '50100' })
    harness.openOrder({ client_order_id: 'ask-2', side: 'sell', price: '50050' })
    harness.cancel(ask)
    harness.placedId({ client_order_id: 'bid', price: '49000' })
    // The live state answers first (its index is built and kept in step by apply), then the replayed and restored ones.
    const command: PlaceCommand = placeCommand({ body: body({ client_order_id: 'x', price: '50050' }) })
    const live = decide(harness.state, command)
    const replayed: KernelState = initialState()
    for (const [index, event] of harness.log.entries()) applyInPlace(replayed, event, { lsn: index + 1 })
    const encoded = encodeKernelState(harness.state)
    const restored = decodeKernelState({ json: JSON.parse(JSON.stringify(encoded.json)), idempotency: encoded.idempotency })
    expect(stateDigest(replayed)).toBe(stateDigest(harness.state))
    expect(stateDigest(restored)).toBe(stateDigest(harness.state))
    expect(rejected(live).reason).toBe('SELF_TRADE_PREVENTED')
    expect(decide(replayed, command)).toEqual(live)
    expect(decide(restored, command)).toEqual(live)
  })

  test('the index answers as a scan of the open orders would, through random opens, amends and ends', () => {
    const harness = funded()
    let seed = 7
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return seed % n
    }
    const open: string[] = []
    for (let step = 0; step < 150; step++) {
      const pick = random(4)
      if (pick <= 1 || open.length === 0) {
        const side = random(2) === 0 ? 'buy' : 'sell'
        const price = String(side === 'buy' ? 49000 + random(900) : 50100 + random(900))
        const decision = harness.place({ client_order_id: `o-${step}`, side, price, qty: '0.01' })
        if (decision.reply.kind === 'accepted') open.push(decision.reply.orderId)
      } else if (pick === 2) {
        const orderId = open[random(open.length)] as string
        const order = harness.order(orderId)
        if (order.status === 'Enqueued') {
          harness.send(orderId)
          harness.placeResult(orderId, { kind: 'ok', value: { venueOrderId: `v-${orderId}` } })
        } else if (order.status === 'AckedOpen' && order.amend === null) {
          const price = String(order.side === 'buy' ? 49000 + random(900) : 50100 + random(900))
          harness.amend(orderId, { price })
        }
      } else {
        const orderId = open.splice(random(open.length), 1)[0] as string
        harness.cancel(orderId)
      }
      for (const side of ['buy', 'sell'] as const) {
        const nearest = nearestOwnOpposite(harness.state, { accountId: ACCOUNT, instrumentKey: 'sim:BTC-USD', side })
        expect(nearest?.orderId ?? null).toBe(scanNearest(harness.state, side === 'buy' ? 'sell' : 'buy'))
      }
    }
  })
})

/** The nearest open order on `side` by a scan of every order: highest buy, lowest sell, lower id first. */
function scanNearest(state: KernelState, side: 'buy' | 'sell'): string | null {
  let best: Order | null = null
  let bestPrice = 0n
  for (const order of state.orders.values()) {
    if (order.accountId !== ACCOUNT || order.side !== side || isTerminal(order.status) || order.price === null) continue
    const amend = order.amend
    const pending = amend !== null && amend.stage !== 'failed' && amend.price !== null ? amend.price : order.price
    const price = side === 'buy' ? (pending > order.price ? pending : order.price) : pending < order.price ? pending : order.price
    const nearer = best === null || (side === 'buy' ? price > bestPrice : price < bestPrice) || (price === bestPrice && order.orderId < best.orderId)
    if (nearer) {
      best = order
      bestPrice = price
    }
  }
  return best?.orderId ?? null
}
