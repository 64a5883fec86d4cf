/**
 * Status queries, which reconciliation relies on: OrderStatusRequest for one order (answered by a status
 * ExecutionReport, see notStatusAnswer; OrdStatus 8 with OrdRejReason 5 means the venue does not know it) and
 * OrderMassStatusRequest for the open orders (FIX 4.4, when the counterpart supports it; the answer is every report up
 * to LastRptRequested=Y).
 * The request bodies and the answers that complete them; FixVenue sends and waits.
 */

import type { Clock } from '../../domain/clock.ts'
import type { VenueOrder } from '../adapter.ts'
import type { FixField, FixMessage } from './message.ts'
import { isStatusReport, mapStatusReport, type FixOrderFacts } from './reports.ts'
import type { Answer } from './requests.ts'
import { FixReason, withDetail } from './reasons.ts'
import { Tag } from './tags.ts'
import type { RefusedField } from './unreadable.ts'
import { fixSide, parseFixOrdStatus } from './values.ts'

/**
 * How a status answer finds what egress knows of an order, the time for reports that carry none, how it refuses
 * an answer it cannot read (FixVenue: an error log `fix.report_unreadable` and a session Reject naming the tag), and
 * how it tells of a mass status report naming no order (FixVenue: an error log `fix.open_order_unnamed`).
 */
export interface StatusLookup {
  factsOf: (clientOrderId: string) => FixOrderFacts | undefined
  clock: Clock
  refuse: (message: FixMessage, why: string, field: RefusedField | undefined) => void
  unnamed: (message: FixMessage, why: string) => void
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
 * Why a status report (reports.ts isStatusReport: ExecType=I or ExecTransType=3) cannot be the answer to an
 * OrderStatusRequest, or null when it can. FIX 4.2 has no ExecType I (Order Status came in 4.3, "formerly an
 * ExecTransType"): its status answer is ExecTransType=3 (Status), and a 4.2 report with any other ExecTransType is
 * not one whatever its ExecType says (one without ExecTransType, which 4.2 requires, is read as 4.3 would read it, so
 * ExecType I is a status answer there). From 4.3 the answer is ExecType=I, and ExecTransType is "no longer used": the
 * spec's table for the replaced field maps its value 3 (Status) to ExecType I. So a 4.3/4.4 report that still carries
 * ExecTransType=3 is an Order Status report whatever its ExecType (a venue stating the order's current state the 4.2
 * way, in ExecType 0/1/2/F): it may answer a query and is never read as an event — taken by its ExecType it could book
 * a fill the venue only restated. A restatement (ExecType D, with ExecRestatementReason 378) is by definition sent
 * unsolicited by the venue, so neither is one whose ExecRestatementReason is set. Such a report is never mapped as an
 * ordinary report either (venue-inbound.ts): it restates, it does not tell of a new event.
 */
export function notStatusAnswer(message: FixMessage, beginString: string): string | null {
  if (message.get(Tag.ExecType) === 'D' || message.has(Tag.ExecRestatementReason)) {
    return `a restatement (ExecType ${message.get(Tag.ExecType)}, ExecRestatementReason ${message.get(Tag.ExecRestatementReason)}), which the venue sends unsolicited`
  }
  const execType = message.get(Tag.ExecType)
  const execTransType = message.get(Tag.ExecTransType)
  if (beginString === 'FIX.4.2') {
    // Without ExecTransType (Required in 4.2) the venue speaks 4.3's language, where ExecType I is the status answer.
    if (execTransType === undefined && execType === 'I') return null
    return execTransType === '3' ? null : `ExecTransType ${execTransType} is not 3 (Status), FIX 4.2's status answer`
  }
  // ExecTransType 3 (Status), replaced in 4.3 by ExecType I: the same report in the older field.
  return execType === 'I' || execTransType === '3' ? null : `ExecType ${execType} is not I (Order Status)`
}

/**
 * The status report for `clientOrderId` (not one of a mass status) completes the request. A report echoing an
 * OrdStatusReqID answers only the request that carried that id: a late answer to an earlier query about the same order
 * (one that timed out) must not complete this one with older news. A report without it is offered only where answers
 * name the order alone (FIX 4.2, or a 4.4 venue configured as not echoing it), and then only to the one query about
 * the order still owed an answer (venue-inbound.ts decides, with venue-status-owed.ts).
 */
export function orderStatusAnswer(clientOrderId: string, requestId: string | undefined, lookup: StatusLookup): Answer<VenueOrder | null> {
  return (message) => {
    if (!isStatusReport(message) || message.has(Tag.MassStatusReqID)) return null
    const echoed = message.get(Tag.OrdStatusReqID)
    if (echoed !== undefined && echoed !== requestId) return null
    const mapped = mapStatusReport(message, lookup.factsOf(clientOrderId), lookup.clock.nowMs())
    if (mapped.kind === 'mapped') return { kind: 'ok', value: mapped.value }
    return refused(lookup, message, mapped)
  }
}

/**
 * An answer egress cannot read is refused as any malformed venue message is (logged, session Reject) and ends its
 * query `unknown`: the read-back that asked stays unanswered and is asked again; it is never read as what egress
 * remembers (reports.ts mapStatusReport). Its code, `fix_status_answer_unreadable`, tells it from a timeout.
 */
function refused(lookup: StatusLookup, message: FixMessage, mapped: { why: string } & ({ tag?: undefined } | RefusedField)): { kind: 'unknown'; reason: string } {
  lookup.refuse(message, mapped.why, mapped.tag === undefined ? undefined : mapped)
  return { kind: 'unknown', reason: withDetail(FixReason.statusAnswerUnreadable, mapped.why) }
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
 * So does a report egress cannot read (refused as an order status answer is): passed over, it cut the list short of
 * that order, unseen. And so does a report without ClOrdID (unnamedReport), which was passed over the same way.
 */
export function massStatusAnswer(account: string | undefined, lookup: StatusLookup, ordersMax: number): Answer<VenueOrder[]> {
  const orders: VenueOrder[] = []
  return (message) => {
    if (message.has(Tag.ClOrdID)) {
      const mapped = mapStatusReport(message, lookup.factsOf(message.get(Tag.ClOrdID) ?? ''), lookup.clock.nowMs())
      if (mapped.kind === 'invalid') return refused(lookup, message, mapped)
      if (mapped.kind === 'mapped' && mapped.value !== null && isOpen(mapped.value) && (account === undefined || account === '' || mapped.value.account === account)) {
        if (orders.length >= ordersMax) return { kind: 'unknown', reason: withDetail(FixReason.openOrdersTooMany, `more than ${ordersMax}`) }
        orders.push(mapped.value)
      }
    } else {
      const why = unnamedReport(message, account)
      if (why !== null) {
        lookup.unnamed(message, why)
        return { kind: 'unknown', reason: withDetail(FixReason.openOrdersUnnamed, why) }
      }
    }
    return message.get(Tag.LastRptRequested) === 'Y' ? { kind: 'ok', value: orders } : null
  }
}

/**
 * Why a mass status report without ClOrdID (11) leaves the list of open orders (of `account`, when given) incomplete,
 * or null when it lists no such order. ClOrdID is not Required in a FIX 4.4 ExecutionReport: an order entered at the
 * venue (or one whose report leaves it out) is listed without it, and egress cannot name it, so a list that passes over
 * an open one is not whole. It lists none when it states TotNumReports (911) 0 (the venue saying it lists nothing, as
 * some answer an empty list), an OrdStatus that ends the order (Done for day excepted: a GTC order rests past it), or
 * another account than the one asked about; anything less clear may be an open order of it.
 */
function unnamedReport(message: FixMessage, account: string | undefined): string | null {
  if (message.get(Tag.TotNumReports) === '0') return null
  const ordStatus = message.get(Tag.OrdStatus)
  const status = parseFixOrdStatus(ordStatus)
  if (status !== null && status !== 'open' && status !== 'partially_filled' && ordStatus !== '3') return null
  const listedAccount = message.get(Tag.Account)
  if (account !== undefined && account !== '' && listedAccount !== undefined && listedAccount !== account) return null
  return `ClOrdID (11) missing in a report of the list (OrderID ${message.get(Tag.OrderID)}, OrdStatus ${ordStatus}): an order egress cannot name`
}

function isOpen(order: VenueOrder): boolean {
  return order.status === 'open' || order.status === 'partially_filled'
}
