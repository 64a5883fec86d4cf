/**
 * Who ended an order never sent. Such an order is canceled on the spot (src/kernel/cancel.ts cancelEvents): its one
 * record is `order.canceled`, with no `order.cancel_requested` before it, and command records are off by default — so
 * the log did not say who canceled it (an operator's cancel of a trader's order, a TTL, a kill switch, a start). Since
 * payload version 11 the record names the principal (`principalId`): the caller's, or a system one (egress:ttl, the
 * start's). A record written before reads as it did, without one, and replays to the same state.
 */

import { describe, expect, test } from 'bun:test'
import { decodeEvent, encodeEvent, type DomainEvent, type EventOf } from '../../src/domain/events/index.ts'
import { decodeTrustedEvent } from '../../src/domain/events/trusted-decode.ts'
import { summaryOf } from '../../src/http/routes/order-log.ts'
import { replay, stateDigest, TTL_PRINCIPAL_ID } from '../../src/kernel/index.ts'
import { olderPayload } from '../domain/events/member-fixtures.ts'
import { Harness, ops, T0, trader } from './fixtures.ts'

const START: typeof trader = { id: 'egress-bootstrap', roles: ['ops', 'admin'], accounts: [], liveAllowed: true }

function canceledOf(events: readonly DomainEvent[]): EventOf<'order.canceled'> {
  const canceled = events.find((event) => event.type === 'order.canceled')
  if (canceled === undefined) throw new Error('no order.canceled')
  return canceled as EventOf<'order.canceled'>
}

describe('order.canceled of an order never sent names who ended it', () => {
  test("an operator's cancel of a trader's queued order names the operator, in the record and its story line", () => {
    const harness = Harness.funded()
    const orderId = harness.placedId()
    const decision = harness.run({ kind: 'cancel', nowMs: harness.nowMs, principal: ops, orderId, reason: 'USER_CANCEL' })
    expect(harness.eventTypes(decision)).toEqual(['order.canceled'])
    const canceled = canceledOf(harness.log)
    expect(canceled).toMatchObject({ orderId, reason: 'CANCELED_BEFORE_SEND', source: 'local', principalId: 'olga' })
    expect(summaryOf(canceled)).toBe('canceled by olga (CANCELED_BEFORE_SEND, local)')
  })

  test('a TTL expiry names egress:ttl; a kill switch its operator; a start its own principal', () => {
    const ttl = Harness.funded()
    const expiring = ttl.placedId({ ttl_ms: 1_000 })
    ttl.nowMs = T0 + 1_000
    ttl.run({ kind: 'ttl_expire', nowMs: ttl.nowMs, orderId: expiring })
    expect(TTL_PRINCIPAL_ID).toBe('egress:ttl')
    expect(canceledOf(ttl.log)).toMatchObject({ reason: 'TTL_EXPIRED', principalId: 'egress:ttl' })

    const halted = Harness.funded()
    halted.placedId()
    halted.run({ kind: 'kill_switch', nowMs: halted.nowMs, principal: ops, action: 'HALT', note: 'spec' })
    expect(canceledOf(halted.log)).toMatchObject({ reason: 'KILL_SWITCH_HALT', principalId: 'olga' })

    const started = Harness.funded()
    started.placedId()
    started.nowMs = T0 + 120_000
    started.run({ kind: 'expire_stale', nowMs: started.nowMs, principal: START, ageMsMax: 60_000 })
    expect(canceledOf(started.log)).toMatchObject({ reason: 'STALE_AT_START', principalId: 'egress-bootstrap' })
  })

  test('a venue cancel names no one: the venue ended it', () => {
    const canceled: DomainEvent = { type: 'order.canceled', atMs: T0, orderId: 'o-1', reason: 'VENUE_CANCELED', source: 'venue' }
    expect(decodeEvent(encodeEvent(canceled))).toEqual(canceled)
    expect(summaryOf(canceled)).toBe('canceled (VENUE_CANCELED, venue)')
  })

  test('a record written before (version 4, 3) reads without a principal and replays to the same state', () => {
    const harness = Harness.funded()
    const orderId = harness.placedId()
    harness.cancel(orderId)
    const canceled = canceledOf(harness.log)
    expect(canceled.principalId).toBe('alice')
    // 12 since: the config digest the cancel was decided under (kernel/attribution.ts), absent before as the principal was.
    expect(encodeEvent(canceled).version).toBe(12)
    const { principalId: _, configDigest: _digest, ...written } = canceled
    for (const version of [3, 4]) {
      const older = olderPayload(written, version)
      const decoded = decodeEvent(older)
      expect(decoded).toEqual(written)
      expect('principalId' in decoded).toBe(false)
      expect(decodeTrustedEvent(older)).toEqual(written)
      expect(summaryOf(decoded)).toBe('canceled (CANCELED_BEFORE_SEND, local)')
      const oldLog = harness.log.map((event) => (event === canceled ? decoded : event))
      expect(stateDigest(replay(oldLog))).toBe(stateDigest(replay(harness.log)))
    }
  })
})
