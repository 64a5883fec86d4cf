import { describe, expect, test } from 'bun:test'
import { nextWork } from '../../src/kernel/index.ts'
import { config, Harness, market, policy } from './fixtures.ts'

describe('lanes and the executor choice', () => {
  test('Lane0 cancels are picked before any queued new order, however many are waiting', () => {
    const harness = Harness.funded({ config: config({ policies: [policy({ maxOpenOrders: 1_000 })], params: { lane2DepthMax: 500 } }) })
    const open = harness.openOrder({ client_order_id: 'open', qty: '0.01' })
    for (let index = 0; index < 200; index += 1) harness.placedId({ client_order_id: `n${index}`, qty: '0.001' })
    harness.cancel(open)
    expect(harness.next()).toMatchObject({ lane: 0, kind: 'cancel', orderId: open })
  })

  test('Lane1 reduce-only orders go before Lane2 new orders, FIFO within a lane', () => {
    const harness = Harness.funded()
    const first = harness.placedId({ client_order_id: 'a', qty: '0.01' })
    harness.placedId({ client_order_id: 'b', qty: '0.01' })
    const reduce = harness.placedId({ client_order_id: 'r', side: 'sell', reduce_only: true, symbol: 'AAPL', qty: '1', price: '190' }, { market: market('190') })
    expect(harness.next()).toMatchObject({ lane: 1, orderId: reduce })
    harness.send(reduce)
    expect(harness.next()).toMatchObject({ lane: 2, orderId: first })
  })

  test('with callsPerInstrumentMax 1, one call in flight per venue×symbol: the next order on the same symbol waits, other symbols proceed', () => {
    const harness = Harness.funded({ config: config({ params: { callsPerInstrumentMax: 1 } }) })
    const btc1 = harness.placedId({ client_order_id: 'a', qty: '0.01' })
    const btc2 = harness.placedId({ client_order_id: 'b', qty: '0.01' })
    const aapl = harness.placedId({ client_order_id: 'c', symbol: 'AAPL', price: '190', qty: '1' }, { market: { referencePrice: 190_00000000n, observedAtMs: harness.nowMs, previousPrice: null } })
    harness.send(btc1)
    expect(harness.next()).toMatchObject({ orderId: aapl })
    harness.send(aapl)
    expect(harness.next()).toBeNull()
    expect(harness.send(btc2).reply).toMatchObject({ kind: 'refused', reason: 'TRANSITION_REFUSED' })
    harness.placeResult(btc1, { kind: 'ok', value: { venueOrderId: 'v1' } })
    expect(harness.next()).toMatchObject({ orderId: btc2 })
  })

  test('with callsPerInstrumentMax 1, a cancel on a symbol with a call in flight waits for the slot', () => {
    const harness = Harness.funded({ config: config({ params: { callsPerInstrumentMax: 1 } }) })
    const open = harness.openOrder({ client_order_id: 'open', qty: '0.01' })
    const other = harness.placedId({ client_order_id: 'other', qty: '0.01' })
    harness.send(other)
    harness.cancel(open)
    expect(harness.next()).toBeNull()
    harness.placeResult(other, { kind: 'ok', value: { venueOrderId: 'v2' } })
    expect(harness.next()).toMatchObject({ lane: 0, kind: 'cancel', orderId: open })
  })

  test('Lane0 has callsPerInstrumentMax slots of its own: a cancel is not held by places filling the instrument, and places never take its slots', () => {
    const harness = Harness.funded({ config: config({ policies: [policy({ maxOpenOrders: 1_000 })], params: { callsPerInstrumentMax: 2 } }) })
    const open = ['o1', 'o2', 'o3'].map((key) => harness.openOrder({ client_order_id: key, qty: '0.01' }))
    const places = ['a', 'b', 'c'].map((key) => harness.placedId({ client_order_id: key, qty: '0.01' }))
    harness.send(places[0] as string)
    harness.send(places[1] as string)
    for (const orderId of open) harness.cancel(orderId)
    for (const orderId of open.slice(0, 2)) {
      expect(harness.next()).toMatchObject({ lane: 0, kind: 'cancel', orderId })
      expect(harness.send(orderId, 'cancel').reply).toMatchObject({ kind: 'done' })
    }
    expect(harness.state.callsByInstrument.get('sim:BTC-USD')).toBe(4)
    // Lane0's own two are taken; the third cancel waits for one of the four, the third place for a place slot.
    expect(harness.next()).toBeNull()
    expect(harness.send(open[2] as string, 'cancel').reply).toMatchObject({ kind: 'refused', detail: '4 calls already in flight for sim:BTC-USD (at most 4)' })
    harness.cancelResult(open[0] as string, { kind: 'ok', value: { accepted: true } })
    expect(harness.next()).toMatchObject({ lane: 0, kind: 'cancel', orderId: open[2] })
    harness.send(open[2] as string, 'cancel')
    harness.cancelResult(open[1] as string, { kind: 'ok', value: { accepted: true } })
    // Three calls in flight, two of them places: the place waits although Lane0 has a slot free.
    expect(harness.next()).toBeNull()
    expect(harness.send(places[2] as string).reply).toMatchObject({ kind: 'refused', detail: '3 calls already in flight for sim:BTC-USD (at most 2)' })
    harness.placeResult(places[0] as string, { kind: 'ok', value: { venueOrderId: 'v-a' } })
    harness.cancelResult(open[2] as string, { kind: 'ok', value: { accepted: true } })
    expect(harness.next()).toMatchObject({ lane: 2, kind: 'place', orderId: places[2] })
  })

  test('pipelining: up to callsPerInstrumentMax calls in flight per venue×symbol, picked in FIFO order; the bound is enforced by decide', () => {
    const harness = Harness.funded({ config: config({ params: { callsPerInstrumentMax: 3 } }) })
    const ids = ['a', 'b', 'c', 'd'].map((key) => harness.placedId({ client_order_id: key, qty: '0.01' }))
    for (const orderId of ids.slice(0, 3)) {
      expect(harness.next()).toMatchObject({ orderId })
      harness.send(orderId)
    }
    expect(harness.state.callsByInstrument.get('sim:BTC-USD')).toBe(3)
    expect(harness.next()).toBeNull()
    expect(harness.send(ids[3] as string).reply).toMatchObject({ kind: 'refused', reason: 'TRANSITION_REFUSED', detail: '3 calls already in flight for sim:BTC-USD (at most 3)' })
    // Answers may come back in any order; any answer frees room for the next in line.
    harness.placeResult(ids[1] as string, { kind: 'ok', value: { venueOrderId: 'v-b' } })
    expect(harness.state.callsByInstrument.get('sim:BTC-USD')).toBe(2)
    expect(harness.next()).toMatchObject({ orderId: ids[3] })
  })

  test('pipelining: a cancel of an order whose place is in flight waits for the place answer even with room on the instrument', () => {
    const harness = Harness.funded({ config: config({ params: { callsPerInstrumentMax: 8 } }) })
    const placed = harness.placedId({ client_order_id: 'p', qty: '0.01' })
    harness.send(placed)
    harness.cancel(placed)
    const other = harness.placedId({ client_order_id: 'o', qty: '0.01' })
    expect(harness.next()).toMatchObject({ lane: 2, orderId: other })
    expect(harness.send(placed, 'cancel').reply).toMatchObject({ kind: 'refused', reason: 'TRANSITION_REFUSED', detail: `a place call is already in flight for ${placed}` })
    harness.send(other)
    harness.placeResult(placed, { kind: 'ok', value: { venueOrderId: 'v-p' } })
    expect(harness.next()).toMatchObject({ lane: 0, kind: 'cancel', orderId: placed })
    expect(harness.send(placed, 'cancel').reply).toMatchObject({ kind: 'done' })
    expect(harness.state.inFlight.get(placed)).toEqual({ orderId: placed, action: 'cancel' })
    expect(harness.state.callsByInstrument.get('sim:BTC-USD')).toBe(2)
  })

  test('a cancel requested while the place is in flight is sent after the place is acked', () => {
    const harness = Harness.funded()
    const orderId = harness.placedId()
    harness.send(orderId)
    harness.cancel(orderId)
    expect(harness.order(orderId).status).toBe('CancelRequested')
    expect(harness.next()).toBeNull()
    harness.placeResult(orderId, { kind: 'ok', value: { venueOrderId: 'v1' } })
    expect(harness.order(orderId).venueOrderId).toBe('v1')
    expect(harness.next()).toMatchObject({ kind: 'cancel', orderId })
  })

  test('a cancel requested while the place is in flight, then a retryable place error: read back in Lane3, not ended locally', () => {
    const harness = Harness.funded()
    const orderId = harness.placedId()
    harness.send(orderId)
    harness.cancel(orderId)
    harness.placeResult(orderId, { kind: 'retryable', reason: '429', retryAfterMs: 100 })
    expect(harness.order(orderId)).toMatchObject({ status: 'Unknown', cancelWanted: true })
    expect(harness.reserved('USD')).toBeGreaterThan(0n)
    expect(harness.next()).toMatchObject({ orderId, lane: 3, kind: 'reconcile' })
  })

  test('the read-back of an order whose cancel answer was lost goes right after Lane0, ahead of Lanes 1–2; Lane3 may be asked first', () => {
    const harness = Harness.funded({ config: config({ policies: [policy({ maxOpenOrders: 1_000 })], params: { callsPerInstrumentMax: 8 } }) })
    // A plain Unknown order (its place answer lost), then one whose cancel answer was lost, then an open order to cancel.
    const lostPlace = harness.placedId({ client_order_id: 'lost-place', qty: '0.01' })
    harness.send(lostPlace)
    harness.placeResult(lostPlace, { kind: 'unknown', reason: 'timeout' })
    const lostCancel = harness.openOrder({ client_order_id: 'lost-cancel', qty: '0.01' })
    harness.cancel(lostCancel)
    harness.send(lostCancel, 'cancel')
    harness.cancelResult(lostCancel, { kind: 'unknown', reason: 'timeout' })
    expect(harness.order(lostCancel)).toMatchObject({ status: 'Unknown', cancelWanted: true })
    const open = harness.openOrder({ client_order_id: 'open', qty: '0.01' })
    const places = ['a', 'b'].map((key) => harness.placedId({ client_order_id: key, qty: '0.01' }))
    harness.cancel(open)
    // The queues are as before: both read-backs wait in Lane3, in the order they joined it.
    expect([...harness.state.queues[3].keys()]).toEqual([lostPlace, lostCancel])
    expect(harness.next()).toMatchObject({ lane: 0, kind: 'cancel', orderId: open })
    const notOpen = { nowMs: harness.nowMs, busy: new Set([open]) }
    expect(nextWork(harness.state, notOpen)).toMatchObject({ lane: 3, kind: 'reconcile', orderId: lostCancel })
    const neither = { nowMs: harness.nowMs, busy: new Set([open]), reconcileHeld: new Set([lostCancel]) }
    expect(nextWork(harness.state, neither)).toMatchObject({ lane: 2, kind: 'place', orderId: places[0] })
    expect(nextWork(harness.state, { ...neither, lane3First: true })).toMatchObject({ lane: 3, kind: 'reconcile', orderId: lostPlace })
    // Lane0 stays first with lane3First.
    expect(nextWork(harness.state, { nowMs: harness.nowMs, lane3First: true })).toMatchObject({ lane: 0, orderId: open })
  })

  test('an Unknown order canceled (a cancel wanted while its read-back waits) has its read-back go right after Lane0', () => {
    const harness = Harness.funded()
    const other = harness.placedId({ client_order_id: 'other', qty: '0.01' })
    harness.send(other)
    harness.placeResult(other, { kind: 'unknown', reason: 'timeout' })
    const unknown = harness.placedId({ client_order_id: 'unknown', qty: '0.01' })
    harness.send(unknown)
    harness.placeResult(unknown, { kind: 'unknown', reason: 'timeout' })
    const place = harness.placedId({ client_order_id: 'place', qty: '0.01' })
    expect(harness.next()).toMatchObject({ lane: 2, orderId: place })
    harness.cancel(unknown)
    expect(harness.order(unknown)).toMatchObject({ status: 'Unknown', cancelWanted: true })
    expect(harness.next()).toMatchObject({ lane: 3, kind: 'reconcile', orderId: unknown })
    expect([...harness.state.queues[3].keys()]).toEqual([other, unknown])
  })

  test('reconcile work in Lane3 can be skipped while its query is in flight', () => {
    const harness = Harness.funded()
    const orderId = harness.placedId()
    harness.send(orderId)
    harness.placeResult(orderId, { kind: 'unknown', reason: 'timeout' })
    expect(harness.next()).toMatchObject({ lane: 3, kind: 'reconcile' })
    expect(nextWork(harness.state, { nowMs: harness.nowMs, busy: new Set([orderId]) })).toBeNull()
  })
})
