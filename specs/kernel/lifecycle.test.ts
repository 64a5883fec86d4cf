import { describe, expect, test } from 'bun:test'
import { decodeEvent, encodeEvent, type EventOf } from '../../src/domain/events/index.ts'
import { applyInPlace, decide } from '../../src/kernel/index.ts'
import { RETRY_AFTER_MS_MAX } from '../../src/kernel/results.ts'
import { d, Harness, report, T0 } from './fixtures.ts'

const fullCost = d('5000') + d('5') // 0.1 BTC × 50000 + 10 bps

describe('order lifecycle', () => {
  test('send emits send_requested with the gate verdict and the deterministic venue client id, and starts the call of the order', () => {
    const harness = Harness.funded()
    const orderId = harness.placedId()
    const decision = harness.send(orderId)
    const event = decision.events[0] as EventOf<'order.send_requested'>
    expect(event.type).toBe('order.send_requested')
    expect(event.venueClientOrderId).toBe(`eg-${orderId}`)
    expect(event.attempt).toBe(1)
    expect(event.gate.sendAllowed).toBe(true)
    expect(harness.order(orderId).status).toBe('Sent')
    expect(harness.state.inFlight.get(orderId)).toEqual({ orderId, action: 'place' })
  })

  test('ack, partial fill and full fill move cash and position and release the reservation proportionally', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder()
    const order = harness.order(orderId)
    expect(order.status).toBe('AckedOpen')
    expect(harness.state.inFlight.size).toBe(0)
    harness.report(report(order, { execId: 'f1', kind: 'fill', lastQty: d('0.04'), lastPrice: d('49000'), cumQty: d('0.04'), fee: d('1.96'), feeAsset: 'USD' }))
    expect(harness.order(orderId).status).toBe('Partial')
    expect(harness.reserved('USD')).toBe(d('3003')) // 60% of 5005
    expect(harness.balance('BTC')).toBe(d('2.04'))
    expect(harness.balance('USD')).toBe(d('100000') - d('1960') - d('1.96'))
    harness.report(report(order, { execId: 'f2', kind: 'fill', lastQty: d('0.06'), lastPrice: d('50000'), cumQty: d('0.1') }))
    expect(harness.order(orderId).status).toBe('Filled')
    expect(harness.order(orderId).cumQty).toBe(d('0.1'))
    expect(harness.reserved('USD')).toBe(0n)
  })

  test('reordered fills still add up: cumQty grows by each fill quantity', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder()
    const order = harness.order(orderId)
    harness.report(report(order, { execId: 'f2', kind: 'fill', lastQty: d('0.03'), lastPrice: d('50000'), cumQty: d('0.05') }))
    harness.report(report(order, { execId: 'f1', kind: 'fill', lastQty: d('0.02'), lastPrice: d('50000'), cumQty: d('0.02') }))
    expect(harness.order(orderId).cumQty).toBe(d('0.05'))
  })

  test('a report with an execution id already seen is dropped and counted', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder()
    const fill = report(harness.order(orderId), { execId: 'f1', kind: 'fill', lastQty: d('0.05'), lastPrice: d('50000'), cumQty: d('0.05') })
    harness.report(fill)
    const again = harness.report(fill)
    expect(harness.eventTypes(again)).toEqual(['inbox.duplicate_dropped'])
    expect(harness.order(orderId).cumQty).toBe(d('0.05'))
    expect(harness.state.counters.duplicateReportsDropped).toBe(1)
  })

  test('an overfill is not applied: the order goes Unknown with an alert, keeping its reservation', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder()
    const order = harness.order(orderId)
    harness.report(report(order, { execId: 'f1', kind: 'fill', lastQty: d('0.08'), lastPrice: d('50000'), cumQty: d('0.08') }))
    const reservedBefore = harness.reserved('USD')
    const decision = harness.report(report(order, { execId: 'f2', kind: 'fill', lastQty: d('0.05'), lastPrice: d('50000'), cumQty: d('0.13') }))
    expect(harness.eventTypes(decision)).toEqual(['inbox.report_accepted', 'alert.raised', 'order.unknown'])
    expect(harness.order(orderId).status).toBe('Unknown')
    expect(harness.order(orderId).cumQty).toBe(d('0.08'))
    expect(harness.reserved('USD')).toBe(reservedBefore)
    expect(harness.state.counters.alertsRaised).toBe(1)
  })

  test('an impossible transition is refused, recorded and moves the order to Unknown', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder()
    const decision = harness.report(report(harness.order(orderId), { execId: 'r1', kind: 'rejected', reason: 'late reject' }))
    expect(harness.eventTypes(decision)).toEqual(['inbox.report_accepted', 'order.transition_refused', 'alert.raised', 'order.unknown'])
    expect(harness.order(orderId).status).toBe('Unknown')
    expect(harness.state.counters.transitionsRefused).toBe(1)
  })

  test('a fill racing a cancel: a final cancel report showing fills egress has not seen goes Unknown until they are booked', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder()
    harness.cancel(orderId)
    expect(harness.order(orderId).status).toBe('CancelRequested')
    harness.send(orderId, 'cancel')
    expect(harness.order(orderId).status).toBe('CancelPending')
    const order = harness.order(orderId)
    harness.report(report(order, { execId: 'f1', kind: 'fill', lastQty: d('0.02'), lastPrice: d('50000'), cumQty: d('0.02') }))
    expect(harness.order(orderId).status).toBe('CancelPending')
    harness.cancelResult(orderId, { kind: 'ok', value: { accepted: true } })
    // The venue's cancel says 0.03 filled, egress has booked 0.02: closing now would freeze a wrong position.
    const canceled = harness.report(report(order, { execId: 'c1', kind: 'canceled', cumQty: d('0.03') }))
    expect(harness.eventTypes(canceled)).toEqual(['inbox.report_accepted', 'alert.raised', 'order.unknown'])
    expect(harness.order(orderId).status).toBe('Unknown')
    // The late fill report still books; reconciliation then settles the order as the venue has it.
    harness.report(report(order, { execId: 'f2', kind: 'fill', lastQty: d('0.01'), lastPrice: d('50000'), cumQty: d('0.03') }))
    expect(harness.order(orderId).cumQty).toBe(d('0.03'))
    harness.run({
      kind: 'reconcile_result',
      nowMs: T0 + 60_000,
      orderId,
      venueOrder: { clientOrderId: order.venueClientOrderId, venueOrderId: 'v-1', account: order.accountId, symbol: order.symbol, side: order.side, qty: order.qty, price: d('50000'), cumQty: d('0.03'), status: 'canceled' },
      trades: [],
    })
    expect(harness.order(orderId).status).toBe('Canceled')
    expect(harness.balance('BTC')).toBe(d('2.03'))
    expect(harness.reserved('USD')).toBe(0n)
  })

  test('a fill completing the order after a cancel request makes it Filled', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder()
    harness.cancel(orderId)
    harness.send(orderId, 'cancel')
    harness.report(report(harness.order(orderId), { execId: 'f1', kind: 'fill', lastQty: d('0.1'), lastPrice: d('50000'), cumQty: d('0.1') }))
    expect(harness.order(orderId).status).toBe('Filled')
    harness.cancelResult(orderId, { kind: 'rejected', reason: 'too late' })
    expect(harness.order(orderId).status).toBe('Filled')
    expect(harness.state.inFlight.size).toBe(0)
  })

  test('canceling an order not yet sent cancels it on the spot and releases its reservation', () => {
    const harness = Harness.funded()
    const orderId = harness.placedId()
    expect(harness.reserved('USD')).toBe(fullCost)
    harness.cancel(orderId)
    expect(harness.order(orderId).status).toBe('Canceled')
    expect(harness.reserved('USD')).toBe(0n)
  })

  test('canceling a finished order is refused without an event', () => {
    const harness = Harness.funded()
    const orderId = harness.placedId()
    harness.cancel(orderId)
    const again = harness.cancel(orderId)
    expect(again).toEqual({ events: [], reply: { kind: 'refused', reason: 'ORDER_NOT_CANCELABLE', detail: 'order is Canceled' } })
  })

  test('a definite venue reject on send releases the reservation', () => {
    const harness = Harness.funded()
    const orderId = harness.placedId()
    harness.send(orderId)
    harness.placeResult(orderId, { kind: 'rejected', reason: 'post-only would cross' })
    expect(harness.order(orderId).status).toBe('Rejected')
    expect(harness.reserved('USD')).toBe(0n)
  })

  test('a place reject that agrees with the reject report already applied is no anomaly', () => {
    const harness = Harness.funded()
    const orderId = harness.placedId()
    harness.send(orderId)
    harness.report(report(harness.order(orderId), { execId: 'r1', kind: 'rejected', reason: 'post_only_would_cross' }))
    const decision = harness.placeResult(orderId, { kind: 'rejected', reason: 'post_only_would_cross' })
    expect(harness.eventTypes(decision)).toEqual(['order.call_completed'])
    expect(harness.order(orderId).status).toBe('Rejected')
    expect(harness.state.counters.alertsRaised).toBe(0)
  })

  test('a retryable send is requeued with its retry-after, keeping the reservation and the client id', () => {
    const harness = Harness.funded()
    const orderId = harness.placedId()
    harness.send(orderId)
    harness.placeResult(orderId, { kind: 'retryable', reason: '429', retryAfterMs: 500 })
    expect(harness.order(orderId).status).toBe('Enqueued')
    expect(harness.reserved('USD')).toBe(fullCost)
    expect(harness.next()).toBeNull()
    harness.nowMs += 500
    expect(harness.next()).toMatchObject({ orderId, kind: 'place' })
    const resend = harness.send(orderId).events[0] as EventOf<'order.send_requested'>
    expect(resend.attempt).toBe(2)
    expect(resend.venueClientOrderId).toBe(`eg-${orderId}`)
  })

  test('a retry-after past an hour (or not a number) is read as an hour, so the retry time stays a safe integer the log can hold', () => {
    for (const retryAfterMs of [Number.MAX_SAFE_INTEGER, Number.POSITIVE_INFINITY, Number.NaN]) {
      const harness = Harness.funded()
      const orderId = harness.placedId()
      harness.send(orderId)
      const decision = harness.placeResult(orderId, { kind: 'retryable', reason: '429', retryAfterMs })
      const retry = decision.events.find((event) => event.type === 'order.send_retry') as EventOf<'order.send_retry'>
      expect(retry.retryAtMs).toBe(harness.nowMs + RETRY_AFTER_MS_MAX)
      expect(decodeEvent(encodeEvent(retry))).toEqual(retry)
    }
    const harness = Harness.funded()
    const orderId = harness.placedId()
    harness.send(orderId)
    const decision = harness.placeResult(orderId, { kind: 'retryable', reason: '429', retryAfterMs: -5 })
    expect((decision.events.find((event) => event.type === 'order.send_retry') as EventOf<'order.send_retry'>).retryAtMs).toBe(harness.nowMs)
  })

  test('an unknown send outcome makes the order Unknown (never Rejected) and keeps the worst-case reservation', () => {
    const harness = Harness.funded()
    const orderId = harness.placedId()
    harness.send(orderId)
    harness.placeResult(orderId, { kind: 'unknown', reason: 'timeout' })
    expect(harness.order(orderId).status).toBe('Unknown')
    expect(harness.reserved('USD')).toBe(fullCost)
    expect(harness.next()).toMatchObject({ orderId, kind: 'reconcile', lane: 3 })
  })

  test('venue expiry releases the reservation', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder()
    harness.report(report(harness.order(orderId), { execId: 'e1', kind: 'expired' }))
    expect(harness.order(orderId).status).toBe('Expired')
    expect(harness.reserved('USD')).toBe(0n)
  })

  test('a cancel whose outcome is unknown makes the order Unknown, with the cancel still wanted', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder()
    harness.cancel(orderId)
    harness.send(orderId, 'cancel')
    harness.cancelResult(orderId, { kind: 'unknown', reason: 'timeout' })
    expect(harness.order(orderId)).toMatchObject({ status: 'Unknown', cancelWanted: true })
  })

  test('a report for an order egress does not know raises an alert', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder()
    const stray = { ...report(harness.order(orderId), { execId: 'x', kind: 'new' }), clientOrderId: 'someone-else' }
    expect(harness.eventTypes(harness.report(stray))).toEqual(['inbox.report_accepted', 'alert.raised'])
  })

  test('bootstrap marks every call in flight Unknown and frees the slots', () => {
    const harness = Harness.funded()
    const orderId = harness.placedId()
    harness.send(orderId)
    const decision = harness.run({ kind: 'bootstrap', nowMs: harness.nowMs })
    expect(harness.eventTypes(decision)).toEqual(['order.unknown', 'order.call_completed'])
    expect(harness.order(orderId).status).toBe('Unknown')
    expect(harness.state.inFlight.size).toBe(0)
  })

  test('bootstrap makes an order Sent with no call in flight (a log ending inside its place answer) Unknown', () => {
    const harness = Harness.funded()
    const orderId = harness.placedId()
    harness.send(orderId)
    // A log written before answers ended their call last: only the first event of the place answer's decision reached
    // it, the call ended and the ack did not land.
    const answer = decide(harness.state, { kind: 'place_result', nowMs: harness.nowMs, orderId, outcome: { kind: 'ok', value: { venueOrderId: 'v-1' } } })
    const ended = answer.events.find((event) => event.type === 'order.call_completed')
    if (ended === undefined) throw new Error('expected an order.call_completed in the place answer')
    applyInPlace(harness.state, ended, { lsn: harness.state.lastLsn + 1 })
    expect({ status: harness.order(orderId).status, inFlight: harness.state.inFlight.size }).toEqual({ status: 'Sent', inFlight: 0 })
    const decision = harness.run({ kind: 'bootstrap', nowMs: harness.nowMs })
    expect(harness.eventTypes(decision)).toEqual(['order.unknown'])
    expect(harness.order(orderId).status).toBe('Unknown')
    // Unknown is reconciled with the venue like any call lost in flight.
    expect(harness.next()).toMatchObject({ orderId, kind: 'reconcile' })
  })
})
