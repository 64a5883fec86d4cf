/**
 * Venue health in the kernel (src/kernel/venue-health.ts): the I-100 gate's check 8 reads the level the log recorded
 * for the order's venue, holds places and amends to a CRITICAL venue (VENUE_HEALTH_CRITICAL) but never cancels or
 * flatten closes, and lets an emergency override through: proposed by one admin, approved by a second, in force until
 * its expiry, its scope deciding whether only reduce-only orders pass. Replaying the log decides alike.
 */

import { describe, expect, test } from 'bun:test'
import type { Principal } from '../../src/domain/accounts.ts'
import type { EventOf } from '../../src/domain/events/index.ts'
import { applyInPlace, decide, initialState, stateDigest, type Decision, type KernelCommand } from '../../src/kernel/index.ts'
import { ACCOUNT, admin, Harness, market, ops, T0, trader } from './fixtures.ts'

const admin2: Principal = { id: 'bea', roles: ['admin'], accounts: [], liveAllowed: false }

function blocked(decision: Decision): EventOf<'order.send_blocked'> {
  const event = decision.events.find((item) => item.type === 'order.send_blocked')
  if (event === undefined || event.type !== 'order.send_blocked') throw new Error(`expected a blocked send, got ${decision.events.map((item) => item.type).join(', ')}`)
  return event
}

function sent(decision: Decision): boolean {
  return decision.events.some((item) => item.type === 'order.send_requested' || item.type === 'order.cancel_send_requested' || item.type === 'order.amend_send_requested')
}

function propose(harness: Harness, options: { by?: Principal; durationMs?: number; scope?: 'reduce_only' | 'all'; reason?: string } = {}): Decision {
  return harness.run({
    kind: 'venue_override', op: 'propose', nowMs: harness.nowMs, principal: options.by ?? admin, venue: 'sim', reason: options.reason ?? 'venue says its timeouts are a display bug',
    durationMs: options.durationMs ?? 60_000, scope: options.scope ?? 'all',
  })
}

function approve(harness: Harness, overrideId: string, by: Principal = admin2): Decision {
  return harness.run({ kind: 'venue_override', op: 'approve', nowMs: harness.nowMs, principal: by, venue: 'sim', overrideId })
}

describe('check 8: venue health recorded in the log', () => {
  test('a place to a CRITICAL venue is blocked with VENUE_HEALTH_CRITICAL, its explanation naming the record that set the level', () => {
    const harness = Harness.funded()
    harness.venueHealth('CRITICAL')
    const lsn = harness.state.venueHealth.get('sim')?.lsn
    expect(lsn).toBe(harness.state.lastLsn)
    const orderId = harness.placedId()
    const event = blocked(harness.send(orderId))
    expect(event.reason).toBe('VENUE_HEALTH_CRITICAL')
    const check = event.gate.checks.find((item) => item.check === 'health_not_critical')
    expect(check?.pass).toBe(false)
    expect(check?.detail).toContain(`venue sim CRITICAL since venue.health_changed at LSN ${lsn}`)
    expect(harness.order(orderId).status).toBe('Rejected')
    expect(harness.reserved('USD')).toBe(0n)
  })

  test('DEGRADED is shown but does not block; the same level again records nothing', () => {
    const harness = Harness.funded()
    expect(harness.eventTypes(harness.venueHealth('DEGRADED'))).toEqual(['venue.health_changed'])
    expect(harness.venueHealth('DEGRADED').events).toEqual([])
    const orderId = harness.placedId()
    expect(sent(harness.send(orderId))).toBe(true)
  })

  test('a cancel and a flatten close to a CRITICAL venue are sent', () => {
    const harness = Harness.funded()
    const openId = harness.openOrder()
    harness.venueHealth('CRITICAL')
    harness.cancel(openId)
    expect(sent(harness.send(openId, 'cancel'))).toBe(true)
    const flatten = harness.run({ kind: 'flatten', nowMs: T0, principal: ops, accountId: ACCOUNT, flattenId: 'f-1', markets: { 'sim:BTC-USD': market('50000') } })
    const close = flatten.events.find((event) => event.type === 'order.accepted')
    if (close === undefined || close.type !== 'order.accepted') throw new Error('expected a close')
    const decision = harness.send(close.orderId)
    expect(sent(decision)).toBe(true)
  })

  test('an amend of an order at a CRITICAL venue fails with VENUE_HEALTH_CRITICAL; the order stands', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder()
    harness.amend(orderId, { qty: '0.2' })
    harness.venueHealth('CRITICAL')
    const decision = harness.send(orderId, 'amend')
    expect(blocked(decision).reason).toBe('VENUE_HEALTH_CRITICAL')
    expect(harness.order(orderId).status).toBe('AckedOpen')
  })

  test('back to OK, places are sent again', () => {
    const harness = Harness.funded()
    harness.venueHealth('CRITICAL')
    harness.venueHealth('OK')
    expect(sent(harness.send(harness.placedId()))).toBe(true)
  })

  test('a venue with no instrument is refused (VENUE_UNKNOWN) and nothing is recorded', () => {
    const harness = Harness.funded()
    const decision = harness.venueHealth('CRITICAL', 'nowhere')
    expect(decision.reply).toMatchObject({ kind: 'refused', reason: 'VENUE_UNKNOWN' })
    expect(decision.events).toEqual([])
  })
})

describe('the emergency override (§14)', () => {
  test('takes two distinct admins: the proposer cannot approve; once approved the place is sent', () => {
    const harness = Harness.funded()
    harness.venueHealth('CRITICAL')
    expect(harness.eventTypes(propose(harness))).toEqual(['venue.override_proposed'])
    // Proposed but not approved: still blocked, and the detail says so.
    const first = harness.placedId({ client_order_id: 'c1' })
    expect(blocked(harness.send(first)).gate.checks.find((item) => item.check === 'health_not_critical')?.detail).toContain('sim#1 pending_approval')
    expect(approve(harness, 'sim#1', admin).reply).toMatchObject({ kind: 'refused', reason: 'OVERRIDE_SELF_APPROVAL' })
    expect(approve(harness, 'sim#2').reply).toMatchObject({ kind: 'refused', reason: 'OVERRIDE_NOT_PENDING' })
    expect(harness.eventTypes(approve(harness, 'sim#1'))).toEqual(['venue.override_approved'])
    expect(approve(harness, 'sim#1').reply).toMatchObject({ kind: 'refused', reason: 'OVERRIDE_NOT_PENDING' })
    const second = harness.placedId({ client_order_id: 'c2' })
    const decision = harness.send(second)
    expect(sent(decision)).toBe(true)
    const send = decision.events.find((event) => event.type === 'order.send_requested')
    if (send?.type !== 'order.send_requested') throw new Error('expected a send')
    expect(send.gate.checks.find((item) => item.check === 'health_not_critical')?.detail).toContain('override=true (sim#1 in_force, proposed by ada, approved by bea')
  })

  test("a token whose sub differs from the proposer's only in letter case is the proposer: no second admin", () => {
    const harness = Harness.funded()
    harness.venueHealth('CRITICAL')
    propose(harness)
    // One person, two spellings of the same name (an identity provider that keeps the case a user typed, a hand-minted
    // token): counted as a second admin, one person alone would put an override in force.
    for (const id of ['ADA', 'Ada', 'adA']) {
      expect(approve(harness, 'sim#1', { ...admin, id }).reply).toMatchObject({ kind: 'refused', reason: 'OVERRIDE_SELF_APPROVAL' })
    }
    expect(harness.state.venueHealth.get('sim')?.override?.approvedBy).toBeNull()
    expect(harness.eventTypes(approve(harness, 'sim#1'))).toEqual(['venue.override_approved'])
  })

  test('expires on its own: at its untilMs the venue blocks again, and it can no longer be approved or revoked', () => {
    const harness = Harness.funded()
    harness.venueHealth('CRITICAL')
    propose(harness, { durationMs: 10_000 })
    approve(harness, 'sim#1')
    const fresh = (): { market: ReturnType<typeof market> } => ({ market: market('50000', { observedAtMs: harness.nowMs }) })
    harness.nowMs = T0 + 9_999
    expect(sent(harness.send(harness.placedId({ client_order_id: 'c1' }, fresh())))).toBe(true)
    harness.nowMs = T0 + 10_000
    const event = blocked(harness.send(harness.placedId({ client_order_id: 'c2' }, fresh())))
    expect(event.reason).toBe('VENUE_HEALTH_CRITICAL')
    expect(event.gate.checks.find((item) => item.check === 'health_not_critical')?.detail).toContain('sim#1 expired')
    const revoke = harness.run({ kind: 'venue_override', op: 'revoke', nowMs: harness.nowMs, principal: ops, venue: 'sim', note: 'n' })
    expect(revoke.reply).toMatchObject({ kind: 'refused', reason: 'OVERRIDE_NOT_FOUND' })
    // A proposal not approved before its expiry lapses too.
    propose(harness, { durationMs: 1_000 })
    harness.nowMs += 1_000
    expect(approve(harness, 'sim#2').reply).toMatchObject({ kind: 'refused', reason: 'OVERRIDE_NOT_PENDING' })
  })

  test('scope reduce_only lets only reduce-only orders through (degraded operation)', () => {
    const harness = Harness.funded()
    harness.venueHealth('CRITICAL')
    propose(harness, { scope: 'reduce_only' })
    approve(harness, 'sim#1')
    expect(blocked(harness.send(harness.placedId({ client_order_id: 'c1' }))).reason).toBe('VENUE_HEALTH_CRITICAL')
    const reducing = harness.placedId({ client_order_id: 'c2', side: 'sell', qty: '0.1', reduce_only: true })
    expect(sent(harness.send(reducing))).toBe(true)
  })

  test('a revoke ends it at once; roles: propose and approve need admin, revoke ops or admin', () => {
    const harness = Harness.funded()
    harness.venueHealth('CRITICAL')
    expect(propose(harness, { by: ops }).reply).toMatchObject({ kind: 'refused', reason: 'PERMISSION_DENIED' })
    propose(harness)
    expect(approve(harness, 'sim#1', ops).reply).toMatchObject({ kind: 'refused', reason: 'PERMISSION_DENIED' })
    approve(harness, 'sim#1')
    const byTrader = harness.run({ kind: 'venue_override', op: 'revoke', nowMs: harness.nowMs, principal: trader, venue: 'sim', note: 'n' })
    expect(byTrader.reply).toMatchObject({ kind: 'refused', reason: 'PERMISSION_DENIED' })
    const revoke = harness.run({ kind: 'venue_override', op: 'revoke', nowMs: harness.nowMs, principal: ops, venue: 'sim', note: 'venue fixed its gateway' })
    expect(harness.eventTypes(revoke)).toEqual(['venue.override_revoked'])
    expect(blocked(harness.send(harness.placedId())).reason).toBe('VENUE_HEALTH_CRITICAL')
  })

  test('bad input is refused and records nothing: an empty or overlong reason, a duration below 1 ms, an unknown venue', () => {
    const harness = Harness.funded()
    for (const decision of [
      propose(harness, { reason: '  ' }),
      propose(harness, { reason: 'x'.repeat(257) }),
      propose(harness, { durationMs: 0 }),
      harness.run({ kind: 'venue_override', op: 'propose', nowMs: T0, principal: admin, venue: 'nowhere', reason: 'r', durationMs: 1, scope: 'all' }),
    ]) {
      expect(decision.reply.kind).toBe('refused')
      expect(decision.events).toEqual([])
    }
    expect(harness.state.venueHealth.size).toBe(0)
  })
})

describe('replay', () => {
  test('replaying the log gives the same state, and its commands decided again give the same events, verdicts included', () => {
    const harness = Harness.funded()
    const commands: KernelCommand[] = []
    const run = harness.run.bind(harness)
    harness.run = (command) => {
      commands.push(command)
      return run(command)
    }
    const facts = { haLeader: true, liveExplicit: true, durabilityMode: 'fsync', schemaCompatible: true, auditVerified: true }
    harness.venueHealth('CRITICAL')
    propose(harness, { durationMs: 5_000 })
    harness.nowMs = T0 + 1
    approve(harness, 'sim#1')
    const placed = harness.placedId({ client_order_id: 'c1' })
    harness.run({ kind: 'send', nowMs: T0 + 2, orderId: placed, action: 'place', facts })
    const late = harness.placedId({ client_order_id: 'c2' })
    harness.run({ kind: 'send', nowMs: T0 + 5_000, orderId: late, action: 'place', facts })
    expect(harness.order(placed).status).toBe('Sent')
    expect(harness.order(late).status).toBe('Rejected')
    // Folding the log from scratch gives the live state, bit for bit.
    const replayed = initialState()
    harness.log.forEach((event, index) => applyInPlace(replayed, event, { lsn: index + 1 }))
    expect(stateDigest(replayed)).toBe(stateDigest(harness.state))
    // The same commands decided again from the same start: the same log, byte for byte (the kernel reads no live health).
    const again = Harness.funded()
    for (const command of commands) again.run(command)
    expect(again.log).toEqual(harness.log)
    expect(decide(replayed, { kind: 'venue_health', nowMs: T0, venue: 'sim', level: 'CRITICAL', score: 10, detail: 'd' }).events).toEqual([])
  })
})

describe('an override lapses at its expiry, and the lapse is recorded once', () => {
  function lapse(harness: Harness, overrideId: string): Decision {
    return harness.run({ kind: 'venue_override_lapse', nowMs: harness.nowMs, venue: 'sim', overrideId })
  }

  test('recorded once it has expired by the notice, with its expiry and whether it was in force; not before; never twice', () => {
    const harness = Harness.funded()
    harness.venueHealth('CRITICAL')
    propose(harness, { durationMs: 5_000 })
    approve(harness, 'sim#1')
    const fresh = (): { market: ReturnType<typeof market> } => ({ market: market('50000', { observedAtMs: harness.nowMs }) })
    harness.nowMs = T0 + 4_999
    expect(lapse(harness, 'sim#1').events).toEqual([])
    expect(sent(harness.send(harness.placedId({ client_order_id: 'c1' }, fresh())))).toBe(true)
    // Noticed late (a crash, a failover): the record says both when it lapsed and when that was recorded.
    harness.nowMs = T0 + 7_000
    const lapsed = lapse(harness, 'sim#1')
    expect(lapsed.events).toEqual([{ type: 'venue.override_lapsed', atMs: T0 + 7_000, venue: 'sim', overrideId: 'sim#1', untilMs: T0 + 5_000, approved: true }])
    expect(harness.state.venueHealth.get('sim')?.override).toBeNull()
    expect(lapse(harness, 'sim#1').events).toEqual([])
    // The gate held the venue from untilMs on either way; after the record it still does.
    const event = blocked(harness.send(harness.placedId({ client_order_id: 'c2' }, fresh())))
    expect(event.reason).toBe('VENUE_HEALTH_CRITICAL')
    expect(event.gate.checks.find((item) => item.check === 'health_not_critical')?.detail).toContain('override=false (none)')
    // A new proposal numbers on from the lapsed one.
    propose(harness)
    expect(harness.state.venueHealth.get('sim')?.override?.overrideId).toBe('sim#2')
  })

  test('a proposal never approved lapses too (approved false); a revoked or replaced override, or another id, records nothing', () => {
    const harness = Harness.funded()
    harness.venueHealth('CRITICAL')
    propose(harness, { durationMs: 1_000 })
    harness.nowMs = T0 + 1_000
    expect(lapse(harness, 'sim#1').events).toMatchObject([{ type: 'venue.override_lapsed', overrideId: 'sim#1', approved: false }])
    propose(harness, { durationMs: 1_000 })
    approve(harness, 'sim#2')
    harness.run({ kind: 'venue_override', op: 'revoke', nowMs: harness.nowMs, principal: ops, venue: 'sim', note: 'n' })
    harness.nowMs += 5_000
    expect(lapse(harness, 'sim#2').events).toEqual([])
    propose(harness, { durationMs: 1_000 })
    propose(harness, { durationMs: 60_000 })
    harness.nowMs += 2_000
    expect(lapse(harness, 'sim#3').events).toEqual([])
    expect(lapse(harness, 'sim#4').events).toEqual([])
    expect(harness.run({ kind: 'venue_override_lapse', nowMs: harness.nowMs, venue: 'nowhere', overrideId: 'nowhere#1' }).events).toEqual([])
    // Replayed from scratch: the same state, the lapse included.
    const replayed = initialState()
    harness.log.forEach((event, index) => applyInPlace(replayed, event, { lsn: index + 1 }))
    expect(stateDigest(replayed)).toBe(stateDigest(harness.state))
  })
})
