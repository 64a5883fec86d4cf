import { describe, expect, test } from 'bun:test'
import { replay, resendable, stateDigest } from '../../src/kernel/index.ts'
import { config, Harness, market, ops } from './fixtures.ts'

const GRACE_MS = 5_000

/** An order whose place call was in flight when the process stopped, marked Unknown by the start after it. */
function inFlightAtStop(harness: Harness, clientOrderId: string): string {
  const orderId = harness.placedId({ client_order_id: clientOrderId })
  harness.send(orderId)
  return orderId
}

function start(harness: Harness): string[] {
  harness.run({ kind: 'bootstrap', nowMs: harness.nowMs })
  return harness.eventTypes(harness.run({ kind: 'mark_suspects', nowMs: harness.nowMs }))
}

function provenAbsent(harness: Harness, orderId: string): void {
  harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, orderId, venueOrder: null, trades: [] })
}

describe('bootstrap suspects', () => {
  test('a start marks each Unknown order once; the proof of absence keeps the mark, and the resend ends it', () => {
    const harness = Harness.funded()
    const orderId = inFlightAtStop(harness, 'a')
    expect(start(harness)).toEqual(['order.suspect_marked'])
    expect(harness.order(orderId)).toMatchObject({ status: 'Unknown', bootstrapSuspect: true })
    // A start that finds the mark (the one before crashed) does not mark it again.
    expect(start(harness)).toEqual([])

    harness.nowMs += GRACE_MS
    provenAbsent(harness, orderId)
    expect(harness.order(orderId)).toMatchObject({ status: 'Failed', notAtVenue: true, bootstrapSuspect: true })
    expect(resendable(harness.order(orderId))).toBe(true)
    // The next start after a crash here finds the suspect Failed: it is still the start's to resend.
    expect(start(harness)).toEqual([])
    expect(harness.order(orderId).bootstrapSuspect).toBe(true)

    harness.run({ kind: 'resend', nowMs: harness.nowMs, principal: ops, orderId, market: market('50000', { observedAtMs: harness.nowMs }) })
    expect(harness.order(orderId)).toMatchObject({ status: 'Enqueued', bootstrapSuspect: false })
    expect(harness.eventTypes(harness.run({ kind: 'clear_suspects', nowMs: harness.nowMs }))).toEqual([])
    // Replay of the log rebuilds the same state, marks included.
    expect(stateDigest(replay(harness.log))).toBe(stateDigest(harness.state))
  })

  test('venue evidence that the order exists ends the mark', () => {
    const harness = Harness.funded()
    const orderId = inFlightAtStop(harness, 'a')
    start(harness)
    const order = harness.order(orderId)
    const venueOrder = { clientOrderId: order.venueClientOrderId, venueOrderId: 'v-1', account: order.accountId, symbol: order.symbol, side: order.side, qty: order.qty, cumQty: 0n, status: 'open' as const }
    harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, orderId, venueOrder, trades: [] })
    expect(harness.order(orderId)).toMatchObject({ status: 'AckedOpen', bootstrapSuspect: false })
  })

  test('clearing ends every mark left: an order proven absent after it is not a suspect', () => {
    const harness = Harness.funded()
    const [first, second] = [inFlightAtStop(harness, 'a'), inFlightAtStop(harness, 'b')]
    start(harness)
    harness.nowMs += GRACE_MS
    provenAbsent(harness, first)
    expect(harness.eventTypes(harness.run({ kind: 'clear_suspects', nowMs: harness.nowMs }))).toEqual(['order.suspect_cleared', 'order.suspect_cleared'])
    expect(harness.order(first)).toMatchObject({ status: 'Failed', bootstrapSuspect: false })
    provenAbsent(harness, second)
    expect(harness.order(second)).toMatchObject({ status: 'Failed', notAtVenue: true, bootstrapSuspect: false })
  })

  test('an order Unknown while running is no suspect until a start marks it', () => {
    const harness = Harness.funded()
    const orderId = harness.placedId()
    harness.send(orderId)
    harness.placeResult(orderId, { kind: 'unknown', reason: 'timeout' })
    expect(harness.order(orderId)).toMatchObject({ status: 'Unknown', bootstrapSuspect: false })
    harness.nowMs += GRACE_MS
    provenAbsent(harness, orderId)
    expect(harness.order(orderId)).toMatchObject({ status: 'Failed', notAtVenue: true, bootstrapSuspect: false })
  })

  test('a suspect proven absent stays in the hot state until its start is done with it', () => {
    const harness = Harness.funded({ config: config({ params: { terminalOrdersKeptMax: 1, terminalOrderRetireAfterMs: 0 } }) })
    const suspect = inFlightAtStop(harness, 'a')
    const [b, c, d] = ['b', 'c', 'd'].map((tag) => harness.placedId({ client_order_id: tag })) as [string, string, string]
    start(harness)
    harness.nowMs += GRACE_MS
    provenAbsent(harness, suspect)
    // Two more orders end: the bound of one terminal order would retire the suspect, the oldest.
    for (const orderId of [b, c]) {
      harness.nowMs += 1
      harness.cancel(orderId)
    }
    expect(harness.state.orders.has(suspect)).toBe(true)
    expect(harness.state.orders.has(b)).toBe(false)
    harness.run({ kind: 'clear_suspects', nowMs: harness.nowMs })
    harness.nowMs += 1
    harness.cancel(d)
    expect(harness.state.orders.has(suspect)).toBe(false)
  })
})
