import { describe, expect, test } from 'bun:test'
import { GATE_CHECKS, type GateInput } from '../../src/domain/gate.ts'
import type { EventOf } from '../../src/domain/events/index.ts'
import { evaluateGate } from '../../src/kernel/index.ts'
import { admin, Harness, ops, paperFacts, T0 } from './fixtures.ts'

const allGood: GateInput = {
  action: 'place',
  mode: 'live',
  haLeader: true,
  liveExplicit: true,
  durabilityMode: 'fsync',
  schemaCompatible: true,
  health: 'OK',
  healthOverride: false,
  auditVerified: true,
  policyAllows: true,
  guardsPassed: true,
  reservationHeld: true,
}

const breakers: Record<(typeof GATE_CHECKS)[number], Partial<GateInput>> = {
  ha_leader: { haLeader: false },
  mode_live_explicit: { liveExplicit: false },
  policy_allow: { policyAllows: false },
  guards_pass: { guardsPassed: false },
  reservation_held: { reservationHeld: false },
  durability_live: { durabilityMode: 'none' },
  schema_compatible: { schemaCompatible: false },
  health_not_critical: { health: 'CRITICAL' },
  audit_verified: { auditVerified: false },
}

describe('I-100 gate', () => {
  test('all nine checks passing allow a live send', () => {
    const verdict = evaluateGate(allGood)
    expect(verdict.checks.map((c) => c.check)).toEqual([...GATE_CHECKS])
    expect(verdict).toMatchObject({ pass: true, sendAllowed: true })
  })

  for (const check of GATE_CHECKS) {
    test(`${check} failing alone blocks a live send`, () => {
      const verdict = evaluateGate({ ...allGood, ...breakers[check] })
      expect(verdict.pass).toBe(false)
      expect(verdict.sendAllowed).toBe(false)
      expect(verdict.checks.filter((c) => !c.pass).map((c) => c.check)).toEqual([check])
    })
  }

  test('an operator override lets a send pass CRITICAL health', () => {
    expect(evaluateGate({ ...allGood, health: 'CRITICAL', healthOverride: true }).pass).toBe(true)
  })

  test('in paper the live-only checks are recorded but do not block the sim send', () => {
    const verdict = evaluateGate({ ...allGood, mode: 'paper', liveExplicit: false, durabilityMode: 'none' })
    expect(verdict.pass).toBe(false)
    expect(verdict.sendAllowed).toBe(true)
  })

  test('in paper a failing non-live check still blocks', () => {
    expect(evaluateGate({ ...allGood, mode: 'paper', haLeader: false }).sendAllowed).toBe(false)
  })

  test('in shadow nothing is sent even when every check passes', () => {
    expect(evaluateGate({ ...allGood, mode: 'shadow' }).sendAllowed).toBe(false)
  })

  test('a cancel is not stopped by audit, health or reservation checks, but is by a non-leader', () => {
    const cancel = { ...allGood, action: 'cancel' as const, auditVerified: false, health: 'CRITICAL' as const, reservationHeld: false }
    expect(evaluateGate(cancel).sendAllowed).toBe(true)
    expect(evaluateGate({ ...cancel, haLeader: false }).sendAllowed).toBe(false)
  })

  test('a live send blocked by the gate is recorded with its verdict and rejects the order, releasing its reservation', () => {
    const harness = Harness.funded()
    harness.run({ kind: 'set_mode', nowMs: T0, principal: admin, mode: 'live', note: '' })
    const orderId = harness.placedId()
    const decision = harness.send(orderId, 'place', { ...paperFacts, durabilityMode: 'none' })
    const event = decision.events[0] as EventOf<'order.send_blocked'>
    expect(event).toMatchObject({ type: 'order.send_blocked', reason: 'GATE_BLOCKED' })
    expect(event.gate.checks.find((c) => c.check === 'durability_live')?.pass).toBe(false)
    expect(harness.order(orderId).status).toBe('Rejected')
    expect(harness.reserved('USD')).toBe(0n)
  })

  test('a paper send records the gate verdict and goes to the sim venue', () => {
    const harness = Harness.funded()
    const orderId = harness.placedId()
    const event = harness.send(orderId, 'place', { ...paperFacts, liveExplicit: false, durabilityMode: 'none' }).events[0] as EventOf<'order.send_requested'>
    expect(event.type).toBe('order.send_requested')
    expect(event.gate).toMatchObject({ mode: 'paper', pass: false, sendAllowed: true })
  })

  test('a shadow send is recorded and not sent', () => {
    const harness = Harness.funded()
    harness.run({ kind: 'set_mode', nowMs: T0, principal: admin, mode: 'shadow', note: '' })
    const orderId = harness.placedId()
    expect(harness.send(orderId).events[0]).toMatchObject({ type: 'order.send_blocked', reason: 'SHADOW_NOT_SENT' })
    expect(harness.order(orderId).status).toBe('Rejected')
  })

  test('a blocked cancel is retried later, never dropped', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder()
    harness.cancel(orderId)
    harness.send(orderId, 'cancel', { ...paperFacts, haLeader: false })
    expect(harness.order(orderId).status).toBe('CancelRequested')
    expect(harness.next()).toBeNull()
    harness.nowMs += 1_000
    expect(harness.next()).toMatchObject({ kind: 'cancel', orderId })
  })
})
