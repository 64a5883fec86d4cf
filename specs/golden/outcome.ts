/**
 * Compares the world against a trace's expected outcome (a `check` step or the final `expect`) and returns every
 * difference as a line of text, so one run shows all that is wrong rather than the first mismatch.
 */

import { formatDecimal } from '../../src/domain/decimal.ts'
import type { DomainEvent } from '../../src/domain/events/index.ts'
import type { Order } from '../../src/domain/orders.ts'
import type { KernelState } from '../../src/kernel/index.ts'
import type { SimInspection } from '../../src/venues/sim/index.ts'
import { eventsOf, matchEvents, renderEvent } from './render.ts'
import type { OrderExpect, OutcomeExpect } from './trace.ts'

export interface Observed {
  state: KernelState
  venue: SimInspection
  log: readonly DomainEvent[]
  refs: ReadonlyMap<string, string>
}

export function outcomeDiffs(label: string, expect: OutcomeExpect, observed: Observed): string[] {
  const diffs: string[] = []
  const same = (what: string, actual: unknown, expected: unknown): void => {
    if (expected !== undefined && JSON.stringify(actual) !== JSON.stringify(expected)) {
      diffs.push(`${label}: ${what} is ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`)
    }
  }
  for (const [ref, orderExpect] of Object.entries(expect.orders ?? {})) {
    diffs.push(...orderDiffs(`${label}: order ${ref}`, orderExpect, observed, ref))
  }
  for (const [accountId, accountExpect] of Object.entries(expect.accounts ?? {})) {
    const ledger = observed.state.accounts.get(accountId)
    for (const [asset, amount] of Object.entries(accountExpect.balances ?? {})) {
      same(`${accountId} balance ${asset}`, formatDecimal(ledger?.balances.get(asset) ?? 0n), amount)
    }
    if (accountExpect.reserved !== undefined) {
      const actual = Object.fromEntries([...(ledger?.reserved ?? new Map())].map(([asset, units]) => [asset, formatDecimal(units)]).sort())
      const expected = Object.fromEntries(Object.entries(accountExpect.reserved).filter(([, amount]) => amount !== '0').sort())
      same(`${accountId} reserved`, actual, expected)
    }
  }
  same('trading switch', observed.state.tradingSwitch, expect.tradingSwitch)
  same('mode', observed.state.mode, expect.mode)
  if (expect.counters !== undefined) {
    const { counters } = observed.state
    same('duplicate reports dropped', counters.duplicateReportsDropped, expect.counters.duplicateReportsDropped)
    same('alerts raised', counters.alertsRaised, expect.counters.alertsRaised)
    same('transitions refused', counters.transitionsRefused, expect.counters.transitionsRefused)
  }
  const alerts = observed.log.flatMap((event) => (event.type === 'alert.raised' ? [event.reason] : []))
  same('alerts', alerts, expect.alerts)
  if (expect.venue !== undefined) {
    const { requests, orders } = observed.venue
    same('venue orders', orders.length, expect.venue.orders)
    same('venue place calls', requests.calls.place, expect.venue.placeCalls)
    same('venue cancel calls', requests.calls.cancel, expect.venue.cancelCalls)
    same('venue amend calls', requests.calls.amend, expect.venue.amendCalls)
    same('venue duplicate places', requests.duplicatePlaces, expect.venue.duplicatePlaces)
    same('venue reports duplicated', observed.venue.reports.duplicated, expect.venue.reportsDuplicated)
    same('venue reports reordered', observed.venue.reports.reordered, expect.venue.reportsReordered)
    same('venue reports dropped', observed.venue.reports.dropped, expect.venue.reportsDropped)
    if (expect.venue.throttledMin !== undefined && requests.throttled < expect.venue.throttledMin) {
      diffs.push(`${label}: venue throttled ${requests.throttled} calls, expected at least ${expect.venue.throttledMin}`)
    }
  }
  return diffs
}

function orderDiffs(label: string, expect: OrderExpect, observed: Observed, ref: string): string[] {
  const orderId = observed.refs.get(ref)
  if (orderId === undefined) return [`${label}: no order was bound to this ref`]
  const order = observed.state.orders.get(orderId)
  const events = eventsOf(observed.log, orderId)
  const diffs: string[] = []
  const same = (what: string, actual: unknown, expected: unknown): void => {
    if (expected !== undefined && JSON.stringify(actual) !== JSON.stringify(expected)) {
      diffs.push(`${label}: ${what} is ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`)
    }
  }
  if (order === undefined) {
    // Refused at intake: the order never existed; its record is the rejection.
    same('state', events.some((event) => event.type === 'order.rejected') ? 'Rejected' : 'absent', expect.state)
  } else {
    checkState(order, expect, same)
    const venueOrders = observed.venue.orders.filter((venueOrder) => venueOrder.clientOrderIds.includes(order.venueClientOrderId))
    same('venue orders', venueOrders.length, expect.venueOrders)
    same('venue status', venueOrders[0]?.status ?? null, expect.venueStatus)
  }
  const rendered = events.map(renderEvent)
  if (expect.events !== undefined && !matchEvents(expect.events, rendered)) {
    diffs.push(`${label}: events are\n    ${rendered.join('\n    ')}\n  expected\n    ${expect.events.map((pattern) => JSON.stringify(pattern)).join('\n    ')}`)
  }
  const reconciled = events.flatMap((event) =>
    event.type === 'order.reconciled' ? [{ to: event.to, reason: event.reason, venueStatus: event.venueStatus, notAtVenue: event.notAtVenue }] : [],
  )
  same('reconcile results', reconciled, expect.reconciled)
  return diffs
}

function checkState(order: Order, expect: OrderExpect, same: (what: string, actual: unknown, expected: unknown) => void): void {
  same('state', order.status, expect.state)
  same('qty', formatDecimal(order.qty), expect.qty)
  same('price', order.price === null ? null : formatDecimal(order.price), expect.price)
  same('cumQty', formatDecimal(order.cumQty), expect.cumQty)
  same('tif', order.tif, expect.tif)
  same('lane', order.lane, expect.lane)
  same('reduceOnly', order.reduceOnly, expect.reduceOnly)
  same('lastReason', order.lastReason, expect.lastReason)
  same('notAtVenue', order.notAtVenue, expect.notAtVenue)
  same('cancelWanted', order.cancelWanted, expect.cancelWanted)
  same('venueOrderIdKnown', order.venueOrderId !== null, expect.venueOrderIdKnown)
  if (expect.reservation !== undefined) {
    same('reservation asset', order.reservation.asset, expect.reservation.asset)
    same('reservation total', formatDecimal(order.reservation.total), expect.reservation.total)
    same('reservation remaining', formatDecimal(order.reservation.remaining), expect.reservation.remaining)
  }
}
