/**
 * Format 24 adds each amend's requestedAtMs (when it was asked: a start fails an amend still waiting past its resend
 * window, STALE_AT_START, src/kernel/stale-at-start.ts). A snapshot keeps it, so a start restored from one decides as
 * one that replays the log. A format 23 (or 22) section did not hold it, and replaying its log gives the request's own
 * time, which the section does not have: its amends are read as asked at the order's acceptance, the earliest they can
 * have been — a start may fail such an amend that replay would have sent, never send one replay would have failed.
 */

import { expect, test } from 'bun:test'
import type { Principal } from '../../../src/domain/accounts.ts'
import type { KernelState } from '../../../src/kernel/index.ts'
import { stateDigest } from '../../../src/kernel/index.ts'
import { kernelStateBytes, kernelStateFromBytes } from '../../../src/runtime/snapshot/index.ts'
import { KERNEL_STATE_SCHEMA_V23, kernelSectionOf } from '../../../src/runtime/snapshot/state-codec.ts'
import { Harness, market, T0 } from '../../kernel/fixtures.ts'
import { asReadFromFormat23, encodeAsFormat23 } from './support.ts'

const WINDOW_MS = 60_000
const START: Principal = { id: 'egress-bootstrap', roles: ['ops', 'admin'], accounts: [], liveAllowed: true }

/** An order accepted at T0 whose amend was asked 30 s later and waits in Lane2. */
function waitingAmend(): { h: Harness; orderId: string } {
  const h = Harness.funded()
  const orderId = h.openOrder()
  h.nowMs = T0 + 30_000
  const amended = h.amend(orderId, { qty: '0.2' }, { market: market('50000', { observedAtMs: h.nowMs }) })
  expect(amended.reply.kind).toBe('amend_accepted')
  return { h, orderId }
}

/** The events a start's expire_stale decides on `state` at `nowMs`. */
function expireStale(state: KernelState, nowMs: number): string[] {
  const h = new Harness()
  h.state = state
  return h.run({ kind: 'expire_stale', nowMs, principal: START, ageMsMax: WINDOW_MS }).events.map((event) => event.type)
}

test("a snapshot keeps a waiting amend's request time: restored, a start decides on it as replay does", () => {
  const { h, orderId } = waitingAmend()
  const restored = kernelStateFromBytes(kernelStateBytes(h.state))
  expect(restored.orders.get(orderId)?.amend).toMatchObject({ stage: 'requested', requestedAtMs: T0 + 30_000 })
  expect(stateDigest(restored)).toBe(stateDigest(h.state))
  // 61 s after the acceptance, 31 s after the request: kept. 90 001 ms after it: failed.
  expect(expireStale(restored, T0 + 61_000)).toEqual([])
  expect(expireStale(restored, T0 + 30_000 + WINDOW_MS + 1)).toEqual(['order.amend_failed'])
})

test("a format 23 section's amend is read as asked at the order's acceptance: a start fails it once the order is past the window", () => {
  const { h, orderId } = waitingAmend()
  const { json, idempotency } = encodeAsFormat23(h.state)
  const restored = kernelStateFromBytes(kernelSectionOf(JSON.stringify(json), idempotency), { schema: KERNEL_STATE_SCHEMA_V23 })
  expect(restored.orders.get(orderId)?.amend).toMatchObject({ stage: 'requested', requestedAtMs: T0 })
  expect(stateDigest(restored)).toBe(stateDigest(asReadFromFormat23(h.state)))
  expect(expireStale(restored, T0 + WINDOW_MS)).toEqual([])
  expect(expireStale(restored, T0 + 61_000)).toEqual(['order.amend_failed'])
})
