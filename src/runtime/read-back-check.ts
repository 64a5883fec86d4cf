/**
 * The executor's check of a venue's read-back answer (read-back.ts) before the kernel decides on it, as
 * report-check.ts is for execution reports: every amount must be one a log record can hold, and what the kernel may
 * book from it must be what the log's schemas read back (a trade's quantity and price positive, its time a ms count).
 * The JSONL wire carries integers of up to 40 digits and a record holds 28, so a trade at a 31-digit price went to the
 * kernel, its fill record made the log's writer throw, and an Unknown order was read back again at once, for good.
 * Its ids are bounded as a report's are (a venue's id of a megabyte would otherwise be recorded as is). What the kernel
 * derives from its figures and records is bounded too (src/domain/recordable-amounts.ts): a trade's cash (qty × price,
 * recorded for the share of it a synthetic fill stood for: order.fill_trued_up), the synthetic fill its status implies
 * (cumQty × price at most), and its trades' running total quantity.
 * An answer that fails is refused (VenueAnswerInvalidError, to onError) and taken as no answer: the order stays as it
 * is and is asked about again after the executor's back-off.
 *
 * The answer must also be about the order asked (otherOrderOf), as a report must (kernel/inbox.ts mismatchOf): a status
 * under a client id that is not one of the order's, or of another account, symbol or side (a member left empty, as a
 * FIX answer without Account can, is not compared), and a trade under one of the order's ids stating another account,
 * symbol or side, are some other order's news. Taken, a venue's status of another order converged the order asked
 * onto it — a Filled status booked its whole quantity as a synthetic fill (found by the JSONL adversarial review).
 */

import { formatDecimal, type Units } from '../domain/decimal.ts'
import { orderIdFromClientId, type Order } from '../domain/orders.ts'
import { fillCashRecordable, isRecordableUnits, RECORD_UNITS_MAX } from '../domain/recordable-amounts.ts'
import { venueIdProblem } from '../domain/venue-report-schema.ts'
import type { VenueOrder, VenueTrade } from '../venues/adapter.ts'
import type { ReadBack } from './read-back.ts'

/** A venue read-back answer the log could not hold: refused, passed to onError, and the order asked again later. */
export class VenueAnswerInvalidError extends Error {
  override readonly name = 'VenueAnswerInvalidError'
  readonly code = 'VENUE_ANSWER_INVALID'
}

/** Null when every amount and time of `answer` is one the log can hold; else the error naming the first that is not. */
export function invalidReadBackOf(venue: string, clientOrderId: string, answer: ReadBack): VenueAnswerInvalidError | null {
  const problem = (answer.venueOrder === null ? null : venueOrderProblem(answer.venueOrder)) ?? tradesProblem(answer.trades)
  return problem === null ? null : new VenueAnswerInvalidError(`${venue} read-back of ${clientOrderId} refused, the log could not hold it (${problem})`)
}

/** Null when every order and trade `answer` states is the order asked about (`asked`, by `clientOrderId`); else the error. */
export function otherOrderOf(venue: string, asked: Pick<Order, 'orderId' | 'accountId' | 'symbol' | 'side'>, clientOrderId: string, answer: ReadBack): VenueAnswerInvalidError | null {
  const problem = (answer.venueOrder === null ? null : statusOfOther(asked, answer.venueOrder)) ?? tradeOfOther(asked, answer.trades)
  return problem === null ? null : new VenueAnswerInvalidError(`${venue} read-back of ${clientOrderId} refused, it is about another order (${problem})`)
}

function statusOfOther(asked: Pick<Order, 'orderId' | 'accountId' | 'symbol' | 'side'>, order: VenueOrder): string | null {
  if (orderIdFromClientId(order.clientOrderId) !== asked.orderId) return `venueOrder.clientOrderId: ${JSON.stringify(order.clientOrderId)} is no id of order ${asked.orderId}`
  return mismatch('venueOrder', asked, order)
}

/** Trades under another order's ids are not this order's (the kernel skips them); one under its ids must be its own. */
function tradeOfOther(asked: Pick<Order, 'orderId' | 'accountId' | 'symbol' | 'side'>, trades: readonly VenueTrade[]): string | null {
  for (const [index, trade] of trades.entries()) {
    if (orderIdFromClientId(trade.clientOrderId) !== asked.orderId) continue
    const problem = mismatch(`trades.${index}`, asked, trade)
    if (problem !== null) return problem
  }
  return null
}

function mismatch(path: string, asked: Pick<Order, 'accountId' | 'symbol' | 'side'>, stated: Pick<VenueOrder, 'account' | 'symbol' | 'side'>): string | null {
  if (stated.account !== '' && stated.account !== asked.accountId) return `${path}.account: ${JSON.stringify(stated.account)}, the order is of ${asked.accountId}`
  if (stated.symbol !== '' && stated.symbol !== asked.symbol) return `${path}.symbol: ${JSON.stringify(stated.symbol)}, the order is on ${asked.symbol}`
  if (stated.side !== asked.side) return `${path}.side: ${JSON.stringify(stated.side)}, the order is a ${asked.side}`
  return null
}

/** Null when a record can hold every id and amount of the venue's `order` (a listed one too: bootstrap.ts); else the problem. */
export function venueOrderProblem(order: VenueOrder): string | null {
  const ids = idsProblem('venueOrder', order, ORDER_IDS)
  if (ids !== null) return ids
  if (!recordable(order.qty) || order.qty <= 0n) return 'venueOrder.qty: expected a positive amount a record can hold'
  if (!recordable(order.cumQty) || order.cumQty < 0n) return 'venueOrder.cumQty: expected a non-negative amount a record can hold'
  if (order.price !== undefined && (!recordable(order.price) || order.price <= 0n)) return 'venueOrder.price: expected a positive amount a record can hold'
  // What its cumulative quantity says egress has not booked is booked at its price (a synthetic fill): at most all of it.
  if (order.price !== undefined && order.cumQty > 0n && !fillCashRecordable(order.cumQty, order.price)) return `venueOrder.price: cumQty × price ${CASH_BEYOND}`
  return null
}

function tradesProblem(trades: readonly VenueTrade[]): string | null {
  // The kernel places each trade by the running total of the order's trade quantities (order.fill_covered venueCumQty).
  let totalQty = 0n
  for (const [index, trade] of trades.entries()) {
    const ids = idsProblem(`trades.${index}`, trade, TRADE_IDS)
    if (ids !== null) return ids
    if (!recordable(trade.qty) || trade.qty <= 0n) return `trades.${index}.qty: expected a positive amount a record can hold`
    if (!recordable(trade.price) || trade.price <= 0n) return `trades.${index}.price: expected a positive amount a record can hold`
    if (!recordable(trade.fee)) return `trades.${index}.fee: expected an amount a record can hold`
    if (!Number.isSafeInteger(trade.venueTimeMs) || trade.venueTimeMs < 0) return `trades.${index}.venueTimeMs: expected a non-negative integer of ms`
    if (!fillCashRecordable(trade.qty, trade.price)) return `trades.${index}.price: qty × price ${CASH_BEYOND}`
    totalQty += trade.qty
    if (!isRecordableUnits(totalQty)) return `trades.${index}.qty: the trades' quantities add up past the largest amount a record holds (${formatDecimal(RECORD_UNITS_MAX)})`
  }
  return null
}

const CASH_BEYOND = `is beyond the cash a record can hold (at most ${formatDecimal(RECORD_UNITS_MAX)})`

/** The venue's ids an answer states, and whether each may be empty (a FIX answer without Account or OrderID states ''). */
const ORDER_IDS = [['clientOrderId', false], ['venueOrderId', true], ['account', true], ['symbol', true]] as const
const TRADE_IDS = [...ORDER_IDS, ['execId', false], ['feeAsset', false]] as const

/** The first of `keys` of an order or trade that is not a venue id as a report's are bounded (venue-report-schema.ts). */
function idsProblem<T extends object>(path: string, item: T, keys: readonly (readonly [keyof T & string, boolean])[]): string | null {
  for (const [key, emptyAllowed] of keys) {
    const problem = venueIdProblem(item[key], emptyAllowed)
    if (problem !== null) return `${path}.${key}: ${problem}`
  }
  return null
}

/** Whether a record can hold `amount` (at most 20 integer digits, as parseDecimal reads). */
function recordable(amount: Units): boolean {
  return typeof amount === 'bigint' && isRecordableUnits(amount)
}
