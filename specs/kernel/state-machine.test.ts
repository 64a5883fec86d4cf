import { describe, expect, test } from 'bun:test'
import { ORDER_STATES, TERMINAL_STATES } from '../../src/domain/states.ts'
import { transition, TRANSITIONS, type TransitionName } from '../../src/kernel/index.ts'

describe('state machine table', () => {
  const allowed: [TransitionName, string, string][] = [
    ['accept', 'Draft', 'Validated'],
    ['enqueue', 'Validated', 'Enqueued'],
    ['send', 'Enqueued', 'Sent'],
    ['ack', 'Sent', 'AckedOpen'],
    ['fill_partial', 'AckedOpen', 'Partial'],
    ['fill_full', 'Partial', 'Filled'],
    ['cancel_request', 'AckedOpen', 'CancelRequested'],
    ['cancel_send', 'CancelRequested', 'CancelPending'],
    ['venue_cancel', 'CancelPending', 'Canceled'],
    ['fill_full', 'CancelPending', 'Filled'],
    ['fill_partial', 'CancelRequested', 'CancelRequested'],
    ['fill_partial', 'Canceled', 'Canceled'],
    ['fill_full', 'Canceled', 'Filled'],
    ['cancel_local', 'Enqueued', 'Canceled'],
    ['requeue', 'Sent', 'Enqueued'],
    ['unknown', 'Sent', 'Unknown'],
    ['reconcile_failed', 'Unknown', 'Failed'],
    ['resend', 'Failed', 'Enqueued'],
    ['expire', 'AckedOpen', 'Expired'],
    ['venue_reject', 'Sent', 'Rejected'],
  ]
  for (const [name, from, to] of allowed) {
    test(`${name} moves ${from} to ${to}`, () => {
      expect(transition(from as (typeof ORDER_STATES)[number], name)).toEqual({ ok: true, to: to as (typeof ORDER_STATES)[number] })
    })
  }

  const forbidden: [TransitionName, string][] = [
    ['send', 'AckedOpen'],
    ['ack', 'Enqueued'],
    ['fill_partial', 'Enqueued'],
    ['fill_partial', 'Rejected'],
    ['venue_cancel', 'Filled'],
    ['venue_reject', 'AckedOpen'],
    ['cancel_local', 'AckedOpen'],
    ['reconcile_failed', 'AckedOpen'],
    ['resend', 'Canceled'],
    ['requeue', 'AckedOpen'],
  ]
  for (const [name, from] of forbidden) {
    test(`${name} from ${from} is refused`, () => {
      expect(transition(from as (typeof ORDER_STATES)[number], name)).toEqual({ ok: false, from: from as (typeof ORDER_STATES)[number], transition: name })
    })
  }

  test('only resend and late venue news leave a terminal state, and only to Filled, Unknown, Enqueued or itself', () => {
    for (const row of Object.values(TRANSITIONS)) {
      for (const [from, to] of Object.entries(row)) {
        if (!TERMINAL_STATES.has(from as (typeof ORDER_STATES)[number])) continue
        expect([from, 'Filled', 'Unknown', 'Enqueued']).toContain(to)
      }
    }
  })

  test('every state in the table is in the dictionary', () => {
    for (const row of Object.values(TRANSITIONS)) {
      for (const [from, to] of Object.entries(row)) {
        expect(ORDER_STATES).toContain(from as (typeof ORDER_STATES)[number])
        expect(ORDER_STATES).toContain(to)
      }
    }
  })
})
