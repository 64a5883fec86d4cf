/**
 * Venue calls in flight (§6 ordering): at most one per order — a cancel or amend waits for its order's previous call
 * to be answered — and at most `params.callsPerInstrumentMax` places and amends per venue×symbol. Within an instrument
 * the runtime dispatches calls to the adapter in decision order (the order of their send records in the log), so the
 * venue sees them in that order: pipelined, still ordered.
 *
 * Lane0 (cancels, flatten's closes) has as many slots again of its own (§6 別枠): its call may start while the
 * instrument has fewer than twice callsPerInstrumentMax in flight. Places and amends start only below it, so they never
 * hold more than callsPerInstrumentMax and Lane0 waits only behind its own calls. Sharing the bound, a cancel waited
 * behind places a venue did not answer until the first of them timed out (specs/runtime/lane0-instrument-slots). With
 * 1 the instrument is serialised, as configured: a cancel waits for the one call in flight.
 */

import { assert } from '../domain/assert.ts'
import { instrumentKey } from '../domain/instruments.ts'
import type { Lane } from '../domain/modes.ts'
import type { Order } from '../domain/orders.ts'
import type { CallAction, KernelState } from './state.ts'

/** Calls allowed in flight per instrument; 1 when no configuration has been recorded. */
export function callsPerInstrumentMax(state: KernelState): number {
  return state.config?.params.callsPerInstrumentMax ?? 1
}

/** Calls in flight on an instrument below which a call of `lane` may start (see the header). */
export function callsMaxFor(state: KernelState, lane: Lane): number {
  const max = callsPerInstrumentMax(state)
  return lane === 0 && max > 1 ? 2 * max : max
}

/** The lane of the call `order` waits to make: a cancel and a Lane0 place (a close) are Lane0, an amend Lane2. */
function callLaneOf(order: Order): Lane {
  if (order.status === 'CancelRequested') return 0
  return order.status === 'Enqueued' ? order.lane : 2
}

/**
 * An order's instrument key, one string per venue×symbol: the executor asks about every queued order on every pump,
 * and a fresh string per question showed in profiles. Keyed by venue and symbol rather than by order: a WeakMap
 * keyed by order objects held an ephemeron per order, and JavaScriptCore walks a WeakMap's entries in every
 * collection, young ones included (an eden collection took 1.9 ms at 40k orders against 0.23 ms fresh,
 * scripts/probe-eden.ts). Bounded by the instruments orders were accepted on: only accepted orders reach here.
 */
const keysByVenue = new Map<string, Map<string, string>>()
export function orderInstrumentKey(order: Order): string {
  let bySymbol = keysByVenue.get(order.venue)
  if (bySymbol === undefined) {
    bySymbol = new Map()
    keysByVenue.set(order.venue, bySymbol)
  }
  let key = bySymbol.get(order.symbol)
  if (key === undefined) {
    key = instrumentKey(order.venue, order.symbol)
    bySymbol.set(order.symbol, key)
  }
  return key
}

/** Whether a new call for `order` may start now: none of its own is in flight and its instrument has room for its lane. */
export function callSlotFree(state: KernelState, order: Order): boolean {
  if (state.inFlight.has(order.orderId)) return false
  return (state.callsByInstrument.get(orderInstrumentKey(order)) ?? 0) < callsMaxFor(state, callLaneOf(order))
}

/**
 * Whether every configured instrument has `max` calls in flight (callsMaxFor a lane): then no call of that lane on a
 * configured instrument can start, and nextWork need not look at its queued orders. (An order left on an instrument
 * a reconfiguration removed waits until the first of those calls is answered — at most one call long.)
 */
export function everyInstrumentFull(state: KernelState, max: number): boolean {
  if (state.instruments.size === 0 || state.callsByInstrument.size < state.instruments.size) return false
  for (const key of state.instruments.keys()) if ((state.callsByInstrument.get(key) ?? 0) < max) return false
  return true
}

/** Why a call for `order` may not start now, or null. */
export function callSlotBusy(state: KernelState, order: Order): string | null {
  const call = state.inFlight.get(order.orderId)
  if (call !== undefined) return `a ${call.action} call is already in flight for ${order.orderId}`
  const key = orderInstrumentKey(order)
  const calls = state.callsByInstrument.get(key) ?? 0
  const max = callsMaxFor(state, callLaneOf(order))
  return calls < max ? null : `${calls} calls already in flight for ${key} (at most ${max})`
}

/** apply(): a send record starts the order's call. decide() enforces the bound; a second call per order is a bug. */
export function startCall(state: KernelState, order: Order, action: CallAction): void {
  if (state.inFlight.has(order.orderId)) assert(false, `a call is already in flight for ${order.orderId}`)
  state.inFlight.set(order.orderId, { orderId: order.orderId, action })
  const key = orderInstrumentKey(order)
  state.callsByInstrument.set(key, (state.callsByInstrument.get(key) ?? 0) + 1)
}

/** apply(): `order.call_completed` ends the order's call. */
export function endCall(state: KernelState, order: Order, action: CallAction): void {
  const call = state.inFlight.get(order.orderId)
  if (call?.action !== action) assert(false, `no ${action} in flight for ${order.orderId}`)
  state.inFlight.delete(order.orderId)
  const key = orderInstrumentKey(order)
  const calls = (state.callsByInstrument.get(key) ?? 0) - 1
  if (calls < 0) assert(false, `calls in flight for ${key} would go negative`)
  if (calls === 0) state.callsByInstrument.delete(key)
  else state.callsByInstrument.set(key, calls)
}
