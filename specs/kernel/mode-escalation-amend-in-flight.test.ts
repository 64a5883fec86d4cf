/**
 * Known gap, pinned (not fixed): an amend whose call is in flight when the mode changes to one that reaches further
 * (paper → live) is not ended by the change (mode-escalation.ts ends only work not yet sent); answered retryable it goes
 * back to Lane2 and its next send is decided under live, though its intake ran paper's checks. The amend does not
 * remember the mode it was decided under, and nothing in the kernel state says an escalation happened since its call
 * went out; keeping that fact needs a kernel-state field (snapshot format 13) whose value a format-12 snapshot cannot
 * give as replaying its log would (the mode change and the send lie before the snapshot), or a new record type.
 *
 * What keeps it harmless today: no build lets a live send pass the I-100 gate (check 2, `liveExplicit`, is false in
 * serve), so that send is blocked and the amend fails (GATE_BLOCKED), never sent. This spec holds that: it fails the day
 * live becomes runnable, which is when the amend must remember its mode.
 */

import { describe, expect, test } from 'bun:test'
import type { GateFacts } from '../../src/domain/gate.ts'
import { admin, d, Harness, paperFacts } from './fixtures.ts'

/** The facts `egress serve` gives the gate (src/cli/serve-gateway.ts): live is never explicit. */
const serveFacts: GateFacts = { ...paperFacts, liveExplicit: false }

describe('an amend in flight at paper → live, answered retryable', () => {
  test('is not sent under live: the gate blocks it and the amend fails; the order stands', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder()
    harness.amend(orderId, { qty: '0.2' })
    harness.send(orderId, 'amend', serveFacts)
    harness.run({ kind: 'set_mode', nowMs: harness.nowMs, principal: admin, mode: 'live', note: '' })
    expect(harness.order(orderId).amend).toMatchObject({ stage: 'sent' })
    harness.amendResult(orderId, { kind: 'retryable', reason: 'rate_limited', retryAfterMs: 0 })
    expect(harness.next()).toMatchObject({ kind: 'amend', orderId })
    const send = harness.send(orderId, 'amend', serveFacts)
    expect(harness.eventTypes(send)).not.toContain('order.amend_send_requested')
    expect(harness.order(orderId)).toMatchObject({ status: 'AckedOpen', qty: d('0.1'), amend: { stage: 'failed' }, lastReason: 'GATE_BLOCKED' })
  })
})
