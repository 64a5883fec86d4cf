/**
 * Order entry in FIX terms: the bodies of NewOrderSingle, OrderCancelRequest and OrderCancelReplaceRequest built from
 * egress's requests and the order's remembered facts, the checks that refuse what FIX cannot express, and the
 * classification of the ExecutionReport that answers each (ok, rejected, or not an answer). Pure: nothing here sends,
 * waits or remembers — FixVenue does that — so the mapping can be read and checked against the spec on its own.
 */

import type { Units } from '../../domain/decimal.ts'
import { VenueReason } from '../../domain/venue-reasons.ts'
import type { AmendRequest, CancelRequest, PlaceAck, PlaceRequest, Side, VenueOutcome } from '../adapter.ts'
import type { FixField, FixMessage } from './message.ts'
import { FixReason, withDetail, type FixReasonCode } from './reasons.ts'
import { orderRejectReason, type FixOrderFacts } from './reports.ts'
import type { Finish } from './requests.ts'
import { Tag } from './tags.ts'
import { formatUtcTimestamp } from './time.ts'
import { fixSide, formatFixDecimal } from './values.ts'

/** Why FIX cannot carry this place request, or null when it can. */
export function placeProblem(request: PlaceRequest): string | null {
  if (request.qty <= 0n) return 'qty must be > 0'
  if (request.type === 'market' && request.price !== undefined) return 'a market order carries no price'
  if (request.type === 'limit' && request.price === undefined) return 'a limit order needs a price'
  if (request.clientOrderId === '' || request.symbol === '') return 'clientOrderId and symbol must be non-empty'
  return null
}

/** NewOrderSingle (35=D); `facts` are the ones just remembered for it (OrdType and TimeInForce in FIX terms). */
export function newOrderSingleBody(request: PlaceRequest, facts: FixOrderFacts, options: { handlInst: string; nowMs: number }): FixField[] {
  const body: FixField[] = [[Tag.ClOrdID, request.clientOrderId]]
  if (request.account !== '') body.push([Tag.Account, request.account])
  body.push([Tag.HandlInst, options.handlInst])
  if (facts.execInst !== undefined) body.push([Tag.ExecInst, facts.execInst])
  body.push(...orderTermsFields(facts, { symbol: request.symbol, side: request.side, qty: request.qty, price: request.price, nowMs: options.nowMs }))
  return body
}

/** OrderCancelRequest (35=F) for the order `facts` describe. */
export function cancelRequestBody(request: CancelRequest, facts: FixOrderFacts, options: { nowMs: number }): FixField[] {
  const body: FixField[] = [[Tag.OrigClOrdID, request.origClientOrderId]]
  if (facts.venueOrderId !== undefined && facts.venueOrderId !== '') body.push([Tag.OrderID, facts.venueOrderId])
  body.push([Tag.ClOrdID, request.clientOrderId])
  if (request.account !== '') body.push([Tag.Account, request.account])
  body.push(
    [Tag.Symbol, request.symbol],
    [Tag.Side, fixSide(facts.side)],
    [Tag.TransactTime, formatUtcTimestamp(options.nowMs)],
    [Tag.OrderQty, formatFixDecimal(facts.qty)],
  )
  return body
}

/**
 * OrderCancelReplaceRequest (35=G) for the order `facts` describe; `price` is the new one or else the order's. Its
 * ExecInst is declared again: FIX brings none forward from the order replaced (a post-only order would lose it).
 */
export function cancelReplaceBody(
  request: AmendRequest,
  facts: FixOrderFacts,
  options: { price: Units | undefined; handlInst: string; nowMs: number },
): FixField[] {
  const body: FixField[] = []
  if (facts.venueOrderId !== undefined && facts.venueOrderId !== '') body.push([Tag.OrderID, facts.venueOrderId])
  body.push([Tag.OrigClOrdID, request.origClientOrderId], [Tag.ClOrdID, request.clientOrderId])
  if (request.account !== '') body.push([Tag.Account, request.account])
  body.push([Tag.HandlInst, options.handlInst])
  if (facts.execInst !== undefined) body.push([Tag.ExecInst, facts.execInst])
  body.push(...orderTermsFields(facts, { symbol: request.symbol, side: facts.side, qty: request.qty, price: options.price, nowMs: options.nowMs }))
  return body
}

/**
 * Symbol through TimeInForce, in the order NewOrderSingle and OrderCancelReplaceRequest both carry them: OrdType and
 * TimeInForce are the order's own (`facts`); symbol, side, quantity and price are the caller's to give.
 */
function orderTermsFields(facts: FixOrderFacts, terms: { symbol: string; side: Side; qty: Units; price: Units | undefined; nowMs: number }): FixField[] {
  const fields: FixField[] = [
    [Tag.Symbol, terms.symbol],
    [Tag.Side, fixSide(terms.side)],
    [Tag.TransactTime, formatUtcTimestamp(terms.nowMs)],
    [Tag.OrderQty, formatFixDecimal(terms.qty)],
    [Tag.OrdType, facts.ordType],
  ]
  if (terms.price !== undefined) fields.push([Tag.Price, formatFixDecimal(terms.price)])
  fields.push([Tag.TimeInForce, facts.timeInForce])
  return fields
}

/** A cancel or amend of an order whose side and symbol egress does not know: nothing is sent. */
export function factsMissing(clientOrderId: string, retryAfterMs: number): VenueOutcome<never> {
  return {
    kind: 'retryable',
    reason: withDetail(FixReason.orderFactsMissing, `FIX needs the side and symbol of ${clientOrderId}; configure lookupOrder`),
    retryAfterMs,
  }
}

export function placeAnswer(message: FixMessage): Finish<PlaceAck> | null {
  const execType = message.get(Tag.ExecType)
  if (execType === '8') return { kind: 'rejected', reason: rejectedReason(FixReason.venueRejected, message) }
  if (execType !== undefined && ['0', '1', '2', 'F', '4', 'C', '3', '5'].includes(execType)) {
    return { kind: 'ok', value: { venueOrderId: message.get(Tag.OrderID) ?? '' } }
  }
  return null
}

export function cancelAnswer(message: FixMessage): Finish<{ accepted: true }> | null {
  const execType = message.get(Tag.ExecType)
  if (execType === '4' || execType === '6') return { kind: 'ok', value: { accepted: true } }
  if (execType === '8') return { kind: 'rejected', reason: withDetail(FixReason.cancelRejected, orderRejectReason(message)) }
  return null
}

/** An ExecType=8's reason: a duplicate ClOrdID as the kernel reads it (orderRejectReason), anything else after `code`. */
function rejectedReason(code: FixReasonCode, message: FixMessage): string {
  const reason = orderRejectReason(message)
  return reason === VenueReason.duplicateClientOrderId ? reason : withDetail(code, reason)
}

/**
 * Replaced (ExecType 5) is the amend's ok. Pending Replace (E) is no answer: the venue has only taken the request and
 * may still refuse it (OrderCancelReject); taken as ok, the kernel applied terms the venue then refused, and the
 * refusal found no amend open (specs/venues/fix/venue-pending-replace.test.ts). Neither coming, the wait ends unknown.
 */
export function amendAnswer(message: FixMessage): Finish<{ accepted: true }> | null {
  const execType = message.get(Tag.ExecType)
  if (execType === '5') return { kind: 'ok', value: { accepted: true } }
  if (execType === '8') return { kind: 'rejected', reason: rejectedReason(FixReason.cancelRejected, message) }
  return null
}
