import { describe, expect, test } from 'bun:test'
import { replay, stateDigest } from '../../src/kernel/index.ts'
import { config, Harness, market } from './fixtures.ts'

describe('idempotency', () => {
  test('the same key and body returns the first answer and creates no second order', () => {
    const harness = Harness.funded()
    const first = harness.place()
    const second = harness.place()
    expect(second.events).toEqual([])
    expect(second.reply).toEqual({ kind: 'accepted', orderId: (first.reply as { orderId: string }).orderId, duplicate: true })
    expect(harness.state.orders.size).toBe(1)
  })

  test('the Idempotency-Key header takes precedence over client_order_id', () => {
    const harness = Harness.funded()
    const first = harness.place({ client_order_id: 'x' }, { idempotencyKey: 'K' })
    const second = harness.place({ client_order_id: 'x' }, { idempotencyKey: 'K2' })
    expect(first.reply.kind).toBe('accepted')
    expect(second.reply).toMatchObject({ kind: 'accepted', duplicate: false })
    expect(harness.state.orders.size).toBe(2)
  })

  test('the same key with a different body is a conflict that emits nothing', () => {
    const harness = Harness.funded()
    const first = harness.place()
    const conflict = harness.place({ qty: '0.2' })
    expect(conflict.events).toEqual([])
    expect(conflict.reply).toEqual({ kind: 'conflict', orderId: (first.reply as { orderId: string }).orderId, reason: 'IDEMPOTENCY_CONFLICT' })
  })

  test('a repeat of a definite rejection returns the same rejection', () => {
    const harness = Harness.funded()
    const first = harness.place({ qty: '3' })
    expect(first.reply).toMatchObject({ kind: 'rejected', reason: 'INSUFFICIENT_FUNDS', duplicate: false })
    const second = harness.place({ qty: '3' })
    expect(second.events).toEqual([])
    expect(second.reply).toMatchObject({ kind: 'rejected', reason: 'INSUFFICIENT_FUNDS', guard: 'reservation', duplicate: true })
  })

  test('a retryable rejection is not remembered: a retry with the same key is evaluated afresh', () => {
    const harness = Harness.funded()
    expect(harness.place({}, { market: null }).reply).toMatchObject({ kind: 'rejected', reason: 'DATA_MISSING' })
    expect(harness.place({}, { market: market() }).reply).toMatchObject({ kind: 'accepted', duplicate: false })
  })

  test('the dedupe index survives replay: after a rebuild from the log a repeat is still a duplicate', () => {
    const harness = Harness.funded()
    harness.place()
    const rebuilt = replay(harness.log)
    expect(stateDigest(rebuilt)).toBe(stateDigest(harness.state))
    const again = new Harness()
    again.state = rebuilt
    expect(again.place().reply).toMatchObject({ kind: 'accepted', duplicate: true })
  })

  test('the dedupe index is keyed by account and key', () => {
    const harness = Harness.funded({ config: config() })
    harness.place()
    expect(harness.state.idempotency.size).toBe(1)
    const [key] = [...harness.state.idempotency.keys()]
    expect(key).toBe('acct-1 c1')
  })
})
