/**
 * Status queries, which reconciliation relies on: OrderStatusRequest for one order (answered by an ExecutionReport
 * with ExecType=I; OrdStatus 8 with OrdRejReason 5 means the venue does not know it) and OrderMassStatusRequest for
 * the open orders (FIX 4.4, when the counterpart supports it; the answer is every report up to LastRptRequested=Y).
 * The request bodies and the answers that complete them; FixVenue sends and waits.
 */

import type { Clock } from '../../domain/clock.ts'
import type { VenueOrder } from '../adapter.ts'
import type { FixField } from './message.ts'
import { isStatusReport, mapStatusReport, type FixOrderFacts } from './reports.ts'
import type { Answer } from './requests.ts'
import { FixReason, withDetail } from './reasons.ts'
import { Tag } from './tags.ts'
import { fixSide } from './values.ts'

/** How a status answer finds what egress knows of an order, and the time for reports that carry none. */
export interface StatusLookup {
  factsOf: (clientOrderId: string) => FixOrderFacts | undefined
  clock: Clock
}

/**
 * OrderStatusRequest (35=H) for the order `facts` describe. `requestId` goes out as OrdStatusReqID (790, FIX 4.4 on;
 * FIX 4.2 has no such field, and a strict 4.2 counterparty refuses a tag it does not define), so the answer can be
 * told from a late answer to an earlier query about the same order.
 */
export function orderStatusBody(clientOrderId: string, facts: FixOrderFacts, requestId: string | undefined): FixField[] {
  const body: FixField[] = []
  if (facts.venueOrderId !== undefined && facts.venueOrderId !== '') body.push([Tag.OrderID, facts.venueOrderId])
  body.push([Tag.ClOrdID, clientOrderId])
  if (requestId !== undefined) body.push([Tag.OrdStatusReqID, requestId])
  if (facts.account !== '') body.push([Tag.Account, facts.account])
  body.push([Tag.Symbol, facts.symbol], [Tag.Side, fixSide(facts.side)])
  return body
}

/**
 * The status report for `clientOrderId` (not one of a mass status) completes the request. A report echoing an
 * OrdStatusReqID answers only the request that carried that id: a late answer to an earlier query about the same order
 * (one that timed out) must not complete this one with older news. A report without it (FIX 4.2, or a venue that does
 * not echo it) is matched by ClOrdID alone, the only thing it names.
 */
export function orderStatusAnswer(clientOrderId: string, requestId: string | undefined, lookup: StatusLookup): Answer<VenueOrder | null> {
  return (message) => {
    if (!isStatusReport(message) || message.has(Tag.MassStatusReqID)) return null
    const echoed = message.get(Tag.OrdStatusReqID)
    if (echoed !== undefined && echoed !== requestId) return null
    const mapped = mapStatusReport(message, lookup.factsOf(clientOrderId), lookup.clock.nowMs())
    if (mapped.kind === 'mapped') return { kind: 'ok', value: mapped.value }
    return { kind: 'unknown', reason: `unreadable status answer: ${mapped.why}` }
  }
}

/** OrderMassStatusRequest (35=AF) of type 7 (all orders), for one account when given. */
export function massStatusBody(requestId: string, account: string | undefined): FixField[] {
  const body: FixField[] = [[Tag.MassStatusReqID, requestId], [Tag.MassStatusReqType, '7']]
  if (account !== undefined && account !== '') body.push([Tag.Account, account])
  return body
}

/**
 * Collects the open orders (of `account`, when given) from every report until the one with LastRptRequested=Y; at
 * most `ordersMax`: one more ends the request `unknown` (a list cut short would read as orders the venue does not hold).
 */
export function massStatusAnswer(account: string | undefined, lookup: StatusLookup, ordersMax: number): Answer<VenueOrder[]> {
  const orders: VenueOrder[] = []
  return (message) => {
    if (message.has(Tag.ClOrdID)) {
      const mapped = mapStatusReport(message, lookup.factsOf(message.get(Tag.ClOrdID) ?? ''), lookup.clock.nowMs())
      if (mapped.kind === 'mapped' && mapped.value !== null && isOpen(mapped.value) && (account === undefined || account === '' || mapped.value.account === account)) {
        if (orders.length >= ordersMax) return { kind: 'unknown', reason: withDetail(FixReason.openOrdersTooMany, `more than ${ordersMax}`) }
        orders.push(mapped.value)
      }
    }
    return message.get(Tag.LastRptRequested) === 'Y' ? { kind: 'ok', value: orders } : null
  }
}

function isOpen(order: VenueOrder): boolean {
  return order.status === 'open' || order.status === 'partially_filled'
}
