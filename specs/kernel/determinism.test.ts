import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { isTerminal } from '../../src/domain/states.ts'
import type { Units } from '../../src/domain/decimal.ts'
import { apply, decide, heldFor, nextWork, replay, stateDigest, type KernelCommand } from '../../src/kernel/index.ts'
import { queueMismatches } from '../../src/kernel/queues.ts'
import { d, Harness, paperFacts, placeCommand, report, body, T0 } from './fixtures.ts'

type Step =
  | { op: 'place'; key: number; side: 'buy' | 'sell'; qtyLots: number }
  | { op: 'work'; outcome: 'ok' | 'rejected' | 'retryable' | 'unknown' }
  | { op: 'fill'; pick: number; lots: number; execId: number; underAmend: boolean }
  | { op: 'amend'; pick: number; qtyLots: number; priceTicks: number }
  | { op: 'replaced'; pick: number; execId: number }
  | { op: 'cancel'; pick: number }
  | { op: 'reconcile'; pick: number; found: boolean; amendApplied: boolean }
  | { op: 'tick'; ms: number }

const step: fc.Arbitrary<Step> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('work' as const), outcome: fc.constantFrom('ok' as const, 'ok' as const, 'rejected' as const, 'retryable' as const, 'unknown' as const) }), weight: 3 },
  fc.record({ op: fc.constant('place' as const), key: fc.integer({ min: 0, max: 30 }), side: fc.constantFrom('buy' as const, 'sell' as const), qtyLots: fc.integer({ min: 1, max: 50 }) }),
  fc.record({ op: fc.constant('work' as const), outcome: fc.constantFrom('ok' as const, 'rejected' as const, 'retryable' as const, 'unknown' as const) }),
  fc.record({ op: fc.constant('fill' as const), pick: fc.nat(), lots: fc.integer({ min: 1, max: 30 }), execId: fc.integer({ min: 0, max: 40 }), underAmend: fc.boolean() }),
  { arbitrary: fc.record({ op: fc.constant('amend' as const), pick: fc.nat(), qtyLots: fc.integer({ min: 1, max: 60 }), priceTicks: fc.integer({ min: -100, max: 100 }) }), weight: 3 },
  fc.record({ op: fc.constant('replaced' as const), pick: fc.nat(), execId: fc.integer({ min: 50, max: 90 }) }),
  fc.record({ op: fc.constant('cancel' as const), pick: fc.nat() }),
  fc.record({ op: fc.constant('reconcile' as const), pick: fc.nat(), found: fc.boolean(), amendApplied: fc.boolean() }),
  fc.record({ op: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 6_000 }) }),
)

function pickOrder(harness: Harness, pick: number): string | null {
  const ids = [...harness.state.orders.keys()].sort()
  return ids.length === 0 ? null : (ids[pick % ids.length] ?? null)
}

function toCommand(harness: Harness, s: Step): KernelCommand | null {
  const nowMs = harness.nowMs
  switch (s.op) {
    case 'place':
      return placeCommand({ nowMs, market: { referencePrice: d('50000'), observedAtMs: nowMs, previousPrice: null }, body: body({ client_order_id: `k${s.key}`, side: s.side, qty: `0.0${String(s.qtyLots).padStart(2, '0')}` }) })
    case 'work': {
      const item = nextWork(harness.state, { nowMs })
      if (item === null || item.kind === 'reconcile') return null
      const call = harness.state.inFlight.get(`${item.venue}:${item.symbol}`)
      if (call !== undefined) return null
      return { kind: 'send', nowMs, orderId: item.orderId, action: item.kind, facts: paperFacts }
    }
    case 'fill': {
      const orderId = pickOrder(harness, s.pick)
      if (orderId === null) return null
      const order = harness.order(orderId)
      const clientOrderId = s.underAmend && order.amend !== null ? order.amend.clientOrderId : order.venueClientOrderId
      return { kind: 'venue_report', nowMs, report: report(order, { execId: `e${s.execId}`, kind: 'fill', clientOrderId, lastQty: d('0.001') * BigInt(s.lots), lastPrice: d('49990'), cumQty: order.cumQty + d('0.001') * BigInt(s.lots) }) }
    }
    case 'amend': {
      const orderId = pickOrder(harness, s.pick)
      if (orderId === null) return null
      const market = { referencePrice: d('50000'), observedAtMs: nowMs, previousPrice: null }
      const live = { credentialPresent: true, environmentLive: true, haLeader: true }
      const change = { qty: d('0.001') * BigInt(s.qtyLots), price: d('50000') + d('0.01') * BigInt(s.priceTicks) }
      return { kind: 'amend', nowMs, principal: { id: 'alice', roles: ['trader'], accounts: ['acct-1'], liveAllowed: false }, orderId, ...change, market, live, configDigest: 'cfg-1', buildCommit: 'test' }
    }
    case 'replaced': {
      const orderId = pickOrder(harness, s.pick)
      const order = orderId === null ? null : harness.order(orderId)
      if (order?.amend == null) return null
      return { kind: 'venue_report', nowMs, report: report(order, { execId: `e${s.execId}`, kind: 'replaced', clientOrderId: order.amend.clientOrderId, origClientOrderId: order.venueClientOrderId, cumQty: order.cumQty }) }
    }
    case 'cancel': {
      const orderId = pickOrder(harness, s.pick)
      return orderId === null ? null : { kind: 'cancel', nowMs, principal: { id: 'alice', roles: ['trader'], accounts: ['acct-1'], liveAllowed: false }, orderId, reason: 'USER_CANCEL' }
    }
    case 'reconcile': {
      const orderId = pickOrder(harness, s.pick)
      if (orderId === null) return null
      const order = harness.order(orderId)
      const amended = s.amendApplied && order.amend !== null ? order.amend : null
      const ids = { clientOrderId: amended?.clientOrderId ?? order.venueClientOrderId, qty: amended?.qty ?? order.qty }
      const venueOrder = s.found ? { ...ids, venueOrderId: 'v', account: order.accountId, symbol: order.symbol, side: order.side, cumQty: order.cumQty, status: 'open' as const } : null
      return { kind: 'reconcile_result', nowMs, orderId, venueOrder, trades: [] }
    }
    case 'tick':
      harness.nowMs += s.ms
      return null
  }
}

/** Feeds the result of the last send (if any) back, as the runtime would after the adapter call. */
function completeCalls(harness: Harness, outcome: Extract<Step, { op: 'work' }>['outcome']): void {
  for (const [, call] of [...harness.state.inFlight]) {
    const value = { venueOrderId: `v-${call.orderId}` }
    const result = outcome === 'ok' ? { kind: 'ok' as const, value } : outcome === 'retryable' ? { kind: 'retryable' as const, reason: '429', retryAfterMs: 100 } : { kind: outcome, reason: 'x' }
    const accepted = outcome === 'ok' ? { kind: 'ok' as const, value: { accepted: true as const } } : result.kind === 'ok' ? { kind: 'unknown' as const, reason: 'x' } : result
    if (call.action === 'place') harness.placeResult(call.orderId, result)
    else if (call.action === 'amend') harness.amendResult(call.orderId, accepted)
    else harness.cancelResult(call.orderId, outcome === 'ok' ? { kind: 'ok', value: { accepted: true } } : result.kind === 'ok' ? { kind: 'unknown', reason: 'x' } : result)
  }
}

function checkInvariants(harness: Harness): void {
  const held = new Map<string, Units>()
  for (const order of harness.state.orders.values()) {
    expect(order.reservation.remaining >= 0n).toBe(true)
    expect(order.cumQty <= order.qty).toBe(true)
    // Terminal: nothing but what a buy's synthetic quantity pending a true-up keeps held.
    if (isTerminal(order.status)) expect(order.reservation.remaining).toBe(heldFor(order))
    // What an order holds is never more than its worst case (its own unfilled share, or a pending amend's if larger).
    // It can be less only for an order that was terminal and came back through an anomaly: it holds nothing.
    expect(order.reservation.remaining <= heldFor(order)).toBe(true)
    if (order.reservation.remaining < heldFor(order)) expect(harness.log.some((e) => e.type === 'order.transition_refused' || e.type === 'alert.raised')).toBe(true)
    expect(order.clientIdChain[0]).toBe(order.venueClientOrderId)
    held.set(order.reservation.asset, (held.get(order.reservation.asset) ?? 0n) + order.reservation.remaining)
    if (order.syntheticFeeHeld > 0n) held.set(order.quoteAsset, (held.get(order.quoteAsset) ?? 0n) + order.syntheticFeeHeld)
  }
  const reserved = harness.state.accounts.get('acct-1')?.reserved ?? new Map<string, Units>()
  for (const asset of new Set([...held.keys(), ...reserved.keys()])) expect(reserved.get(asset) ?? 0n).toBe(held.get(asset) ?? 0n)
  // apply moves an order only between the queue its work was in and the one it is in now (syncQueues).
  expect(queueMismatches(harness.state)).toEqual([])
}

describe('determinism and invariants', () => {
  test('decide never mutates the state it is given', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder()
    const before = stateDigest(harness.state)
    decide(harness.state, placeCommand({ body: body({ client_order_id: 'other' }) }))
    decide(harness.state, { kind: 'cancel', nowMs: T0, principal: { id: 'alice', roles: ['trader'], accounts: ['acct-1'], liveAllowed: false }, orderId, reason: 'USER_CANCEL' })
    expect(stateDigest(harness.state)).toBe(before)
  })

  test('apply returns a new state and leaves its input unchanged', () => {
    const harness = Harness.funded()
    const before = stateDigest(harness.state)
    const [event] = decide(harness.state, placeCommand()).events
    if (event === undefined) throw new Error('expected an event')
    const next = apply(harness.state, event, { lsn: harness.state.lastLsn + 1 })
    expect(stateDigest(harness.state)).toBe(before)
    expect(stateDigest(next)).not.toBe(before)
  })

  test('applying the same events twice from scratch gives equal digests', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder()
    harness.report(report(harness.order(orderId), { execId: 'f', kind: 'fill', lastQty: d('0.05'), lastPrice: d('50000'), cumQty: d('0.05') }))
    expect(stateDigest(replay(harness.log))).toBe(stateDigest(replay(harness.log)))
    expect(stateDigest(replay(harness.log))).toBe(stateDigest(harness.state))
  })

  test('random command sequences (with amends racing fills and answers) keep reservations consistent and replay equals the live projection', () => {
    // size 'max': fast-check's default size ('small') generates at most about 10 elements, whatever maxLength says.
    fc.assert(
      fc.property(fc.array(step, { maxLength: 80, size: 'max' }), (steps) => {
        const harness = Harness.funded()
        for (const s of steps) {
          const command = toCommand(harness, s)
          if (command !== null) harness.run(command)
          if (s.op === 'work') completeCalls(harness, s.outcome)
          checkInvariants(harness)
        }
        expect(stateDigest(replay(harness.log))).toBe(stateDigest(harness.state))
      }),
      { numRuns: 150, seed: 42 },
    )
  })
})
