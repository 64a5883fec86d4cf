/**
 * The place-send gate's rules (src/runtime/place-send-gate.ts, moved out of engine.ts unchanged): which decisions wait
 * for the standby, and how the answer comes back — held calls carry `sendHeld`, a refusing or throwing gate rejects,
 * a throw at once. The engine's use of it is covered end to end by specs/runtime/ha/send-gate.test.ts.
 */

import { describe, expect, test } from 'bun:test'
import type { DomainEvent } from '../../src/domain/events/index.ts'
import type { Committed } from '../../src/runtime/engine-types.ts'
import { answerAfterSendGate, requestsGatedSend } from '../../src/runtime/place-send-gate.ts'

const of = (...types: DomainEvent['type'][]): DomainEvent[] => types.map((type) => ({ type }) as DomainEvent)

function committed(): Committed {
  return { decision: { events: [], reply: { kind: 'done' } }, lsns: [7] }
}

describe('the place-send gate', () => {
  test('places and amends wait for it; cancels and everything else do not', () => {
    expect(requestsGatedSend(of('order.send_requested'))).toBe(true)
    expect(requestsGatedSend(of('order.accepted', 'order.amend_send_requested'))).toBe(true)
    expect(requestsGatedSend(of('order.cancel_send_requested', 'order.resend_requested', 'order.resend_refused'))).toBe(false)
    expect(requestsGatedSend([])).toBe(false)
  })

  test('a held call comes back with sendHeld; a passed one without; both for the last LSN asked', async () => {
    const asked: number[] = []
    const held = Promise.withResolvers<Committed>()
    answerAfterSendGate(async (lsn) => (asked.push(lsn), { send: false, reason: 'HA_STANDBY_UNCONFIRMED: x', retryAfterMs: 25 }), 9, committed(), { resolve: held.resolve, reject: held.reject })
    expect((await held.promise).sendHeld).toEqual({ reason: 'HA_STANDBY_UNCONFIRMED: x', retryAfterMs: 25 })
    const passed = Promise.withResolvers<Committed>()
    answerAfterSendGate(async (lsn) => (asked.push(lsn), { send: true }), 11, committed(), { resolve: passed.resolve, reject: passed.reject })
    expect((await passed.promise).sendHeld).toBeUndefined()
    expect(asked).toEqual([9, 11])
  })

  test('a gate that rejects rejects the answer; one that throws rejects it at once', async () => {
    const refused = Promise.withResolvers<Committed>()
    answerAfterSendGate(() => Promise.reject(new Error('not leading')), 1, committed(), { resolve: refused.resolve, reject: refused.reject })
    await expect(refused.promise).rejects.toThrow('not leading')
    const rejected: unknown[] = []
    answerAfterSendGate(() => { throw new Error('broken') }, 1, committed(), { resolve: () => undefined, reject: (error) => void rejected.push(error) })
    expect(rejected).toEqual([new Error('broken')])
  })
})
