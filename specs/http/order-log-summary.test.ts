/**
 * The one-line story of an order's events: a send retry held by the HA send gate must not read as the venue's answer
 * (the venue never saw the call).
 */

import { expect, test } from 'bun:test'
import { summaryOf } from '../../src/http/routes/order-log.ts'

const retry = (venueReason: string) => ({ type: 'order.send_retry' as const, atMs: 1, orderId: 'o-1', action: 'place' as const, venueReason, retryAtMs: 2 })

test('a send retry held by the HA send gate says it never reached the venue', () => {
  const summary = summaryOf(retry('HA_STANDBY_UNCONFIRMED: the standby did not confirm the send record at LSN 9'))
  expect(summary).toBe('place held before the venue, to be retried: HA_STANDBY_UNCONFIRMED: the standby did not confirm the send record at LSN 9')
  expect(summary).not.toContain('venue said')
})

test("a venue's own retryable answer still reads as the venue's", () => {
  expect(summaryOf(retry('rate limited'))).toBe('place to be retried: the venue said rate limited')
})

const cancelRequested = (principalId: string, reason: 'USER_CANCEL' | 'FLATTEN_REQUESTED') => ({ type: 'order.cancel_requested' as const, atMs: 1, orderId: 'o-1', principalId, reason })

test("a cancel the gateway asks for again (wanted while the order was Unknown) does not read as a user's new request", () => {
  // kernel/inbox.ts resumeCancel records it as 'egress' and USER_CANCEL whatever the first request was (a flatten's too).
  const summary = summaryOf(cancelRequested('egress', 'USER_CANCEL'))
  expect(summary).toBe("cancel requested again by the gateway (USER_CANCEL): a cancel was wanted while the order's state was unknown, and the venue now shows it open; the first cancel request says who asked and why")
  expect(summaryOf(cancelRequested('olga', 'FLATTEN_REQUESTED'))).toBe('cancel requested by olga (FLATTEN_REQUESTED)')
})

test('a send held at its call by a kill switch or a mode change says it never reached the venue, as its call does', () => {
  // src/runtime/call-holds.ts: the executor answers retryable on the venue's behalf, the venue never called.
  const switchHeld = 'KILL_SWITCH_CANCEL_ONLY: the trading switch is cancel_only, engaged after the send was decided; not called'
  expect(summaryOf(retry(switchHeld))).toBe(`place held before the venue, to be retried: ${switchHeld}`)
  const modeHeld = 'MODE_CHANGED: decided in paper, the mode is live now; not called'
  expect(summaryOf(retry(modeHeld))).toBe(`place held before the venue, to be retried: ${modeHeld}`)
  const completed = (detail: string) => ({ type: 'order.call_completed' as const, atMs: 1, orderId: 'o-1', action: 'place' as const, outcome: 'retryable' as const, detail })
  expect(summaryOf(completed(switchHeld))).toBe(`place not called, answered retryable on the venue's behalf: ${switchHeld}`)
  expect(summaryOf(completed('rate limited'))).toBe('place call returned retryable: rate limited')
})

test("the gateway's cancel of a place a kill switch held is its first request, the switch's, not one asked again", () => {
  // kernel/results.ts: a place answered retryable under HALT or CANCEL_ONLY is read back and canceled.
  const summary = summaryOf({ type: 'order.cancel_requested', atMs: 1, orderId: 'o-1', principalId: 'egress', reason: 'KILL_SWITCH_HALT' })
  expect(summary).toBe("cancel requested by the gateway (KILL_SWITCH_HALT): the trading switch holds the order's place, which is not sent again; the order is read back and canceled where the venue has it")
  expect(summary).not.toContain('again by the gateway')
})
