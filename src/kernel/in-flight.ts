/**
 * Venue calls in flight (§6 ordering): at most one per order — a cancel or amend waits for its order's previous call
 * to be answered — and at most `params.callsPerInstrumentMax` per venue×symbol. Within an instrument the runtime
 * dispatches calls to the adapter in decision order (the order of their send records in the log), so the venue sees
 * them in that order: pipelined, still ordered.
 */

import { assert } from '../domain/assert.ts'
import { instrumentKey } from '../domain/instruments.ts'
import type { Order } from '../domain/orders.ts'
import type { CallAction, KernelState } from './state.ts'

/** Calls allowed in flight per instrument; 1 when no configuration has been recorded. */
export function callsPerInstrumentMax(state: KernelState): number {
  return state.config?.params.callsPerInstrumentMax ?? 1
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

/** Whether a new call for `order` may start now: none of its own is in flight and its instrument has room. */
export function callSlotFree(state: KernelState, order: Order): boolean {
  if (state.inFlight.has(order.orderId)) return false
  return (state.callsByInstrument.get(orderInstrumentKey(order)) ?? 0) < callsPerInstrumentMax(state)
}

/**
 * Whether every configured instrument has callsPerInstrumentMax calls in flight: then no place, cancel or amend on a
 * configured instrument can start, and nextWork need not look at each queued order. (An order left on an instrument
 * a reconfiguration removed waits until the first of those calls is answered — at most one call long.)
 */
export function everyInstrumentFull(state: KernelState): boolean {
  const max = callsPerInstrumentMax(state)
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
  const max = callsPerInstrumentMax(state)
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
