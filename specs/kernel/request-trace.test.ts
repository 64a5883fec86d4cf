/**
 * The request's W3C trace context on what the kernel decides for it (src/domain/trace-context.ts traceMemberOf): a
 * place the kernel rejects records it on `order.rejected` (payload version 6) as an accepted one does on
 * `order.accepted`; a flatten records its request's on its own `account.flatten_requested` (payload version 6) and on
 * what it writes for orders — each close's `order.accepted`, each cancel's record; a command without one records none. Every event goes through the log codec (fixtures.ts).
 */

import { describe, expect, test } from 'bun:test'
import type { DomainEvent } from '../../src/domain/events/index.ts'
import { ACCOUNT, Harness, market, ops } from './fixtures.ts'

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'

function tracesOf(events: readonly DomainEvent[], type: DomainEvent['type']): (string | undefined)[] {
  return events.filter((event) => event.type === type).map((event) => (event as { traceparent?: string }).traceparent)
}

describe('a rejected place records the trace of the request', () => {
  test('a guard failure (policy: notional over the cap) records it on order.rejected', () => {
    const harness = Harness.funded()
    const decision = harness.place({ qty: '900', price: '61000', client_order_id: 'big' }, { traceparent: TRACEPARENT })
    expect(decision.reply.kind).toBe('rejected')
    expect(tracesOf(decision.events, 'order.rejected')).toEqual([TRACEPARENT])
    expect(tracesOf(harness.log, 'order.rejected')).toEqual([TRACEPARENT]) // through the codec
  })

  test('a syntax failure (no account the kernel can use) records it too', () => {
    const harness = Harness.funded()
    const decision = harness.place({ qty: 'lots', client_order_id: 'bad' }, { traceparent: TRACEPARENT })
    expect(decision.reply.kind).toBe('rejected')
    expect(tracesOf(harness.log, 'order.rejected')).toEqual([TRACEPARENT])
  })

  test('a rejected place without one records none (no member), and its repeat records nothing', () => {
    const harness = Harness.funded()
    const decision = harness.place({ qty: '900', price: '61000', client_order_id: 'big' })
    expect(decision.reply.kind).toBe('rejected')
    const rejected = harness.log.filter((event) => event.type === 'order.rejected')
    expect(rejected).toHaveLength(1)
    expect('traceparent' in (rejected[0] as object)).toBe(false)
    const repeat = harness.place({ qty: '900', price: '61000', client_order_id: 'big' }, { traceparent: TRACEPARENT })
    expect(repeat.reply).toMatchObject({ kind: 'rejected', duplicate: true })
    expect(repeat.events).toEqual([])
  })
})

describe("a flatten records its request's trace on its own record and on those it writes for orders", () => {
  function flattened(traced: boolean): DomainEvent[] {
    const harness = Harness.funded()
    harness.placedId({ client_order_id: 'resting' })
    const decision = harness.run({
      kind: 'flatten', nowMs: harness.nowMs, principal: ops, accountId: ACCOUNT, flattenId: 'f-1',
      markets: { 'sim:BTC-USD': market('50000'), 'sim:AAPL': market('190') }, buildCommit: 'b',
      ...(traced ? { traceparent: TRACEPARENT } : {}),
    })
    expect(decision.reply.kind).toBe('done')
    return harness.log.slice(-decision.events.length)
  }

  test('account.flatten_requested, each close (order.accepted) and each cancel carry it', () => {
    const events = flattened(true)
    const closes = tracesOf(events, 'order.accepted')
    expect(closes.length).toBe(2) // BTC and AAPL
    expect(closes).toEqual([TRACEPARENT, TRACEPARENT])
    expect(tracesOf(events, 'order.canceled')).toEqual([TRACEPARENT]) // the resting buy, never sent: ended on the spot
    expect(tracesOf(events, 'account.flatten_requested')).toEqual([TRACEPARENT])
  })

  test('without one, none of them does', () => {
    const events = flattened(false)
    expect(events.some((event) => 'traceparent' in event)).toBe(false)
    expect(tracesOf(events, 'order.accepted').length).toBe(2)
  })
})
