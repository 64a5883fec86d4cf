/**
 * Inbound application messages → the adapter's `ExecutionReport` and `VenueOrder`. Pure: the message, the venue name,
 * what egress remembers about the order, and a fallback time in; a mapped value or a reason it cannot be mapped out.
 *
 * ExecType → kind: 0 new; 1, 2 (FIX 4.2) and F (4.4) fill; 4 canceled; 5 replaced; 8 rejected; C and 3 expired.
 * Pending, restated, stopped and suspended reports carry no transition egress models and map to nothing; trade
 * busts/corrections (ExecType G/H, or ExecTransType 1/2 in 4.2) cannot be represented: they are flagged for an operator
 * and the order is read back (tradeBust). Trades in or out of a clearing hold (J, K) are not booked from the report:
 * the order is read back (clearingReport).
 */

import { formatDecimal, type Units } from '../../domain/decimal.ts'
import { fillCashRecordable, RECORD_UNITS_MAX } from '../../domain/recordable-amounts.ts'
import { VenueReason } from '../../domain/venue-reasons.ts'
import { venueReasonText } from '../../domain/venue-report-schema.ts'
import { readFillFee } from './commission.ts'
import { cxlRejReasonLead, ordRejReasonLead } from './reject-reasons.ts'
import type { ExecutionReport, ExecutionReportKind, Liquidity, Side, VenueOrder } from '../adapter.ts'
import type { FixMessage } from './message.ts'
import { Tag } from './tags.ts'
import { parseUtcTimestamp } from './time.ts'
import { badFormat, missingField, unreadableDecimal, valueOutOfRange, type RefusedField, type Unreadable } from './unreadable.ts'
import { parseFixDecimal, parseFixOrdStatus, parseFixSide } from './values.ts'

/** What egress remembers about an order it sent (FIX cancel/status messages need side and symbol). */
export interface FixOrderFacts {
  clientOrderId: string
  account: string
  symbol: string
  side: Side
  qty: Units
  price?: Units
  ordType: string
  timeInForce: string
  /**
   * ExecInst (18) as the order was sent (post-only 6, reduce-only E), absent with neither: a replace re-declares it,
   * FIX does not carry it forward from the order it replaces.
   */
  execInst?: string
  venueOrderId?: string
}

/**
 * `invalid` with a `tag`: a field egress cannot read, refused with a session Reject naming it for `reason`
 * (unreadable.ts); without one, a message egress cannot report for want of what it knows (the order's side): no Reject.
 */
export type Mapped<T> = { kind: 'mapped'; value: T } | Ignored | Invalid

/**
 * A report egress takes no transition from. `readBack`: it tells of a trade egress does not book from it (clearingReport),
 * so the order it names is read back, which books what the venue's CumQty holds beyond egress's.
 */
export type Ignored = { kind: 'ignored'; why: string; readBack?: true }

export type Invalid = { kind: 'invalid'; why: string; tag?: undefined; reason?: undefined } | ({ kind: 'invalid'; why: string } & RefusedField)

/** The `invalid` answer for a field egress cannot read. */
function refusedOver(unreadable: Unreadable): Invalid {
  return { kind: 'invalid', why: unreadable.invalid, tag: unreadable.tag, reason: unreadable.reason }
}

const KIND_BY_EXEC_TYPE: Readonly<Record<string, ExecutionReportKind>> = {
  '0': 'new', '1': 'fill', '2': 'fill', F: 'fill', '4': 'canceled', '5': 'replaced', '8': 'rejected', C: 'expired', '3': 'expired',
}

/**
 * The TimeInForce (59) values FIX 4.2 to 5.0 SP2 define (QuickFIX's FIX44 and FIX50SP2 dictionaries, the latter with
 * its extension packs): 0 Day … 6 GTD, 7 At the close, 8 and 9 crossing sessions, A Good for time, B Good for auction,
 * C Good for this month. A value outside them is refused (restsForLaterDay).
 */
const TIME_IN_FORCE_VALUES: ReadonlySet<string> = new Set([...'0123456789ABC'])

/**
 * The ones under which an order may outlive the trading day: 1 GTC, 6 GTD (until its ExpireDate), A Good for time
 * (until its ExpireTime, which may fall on a later day) and C Good for this month. The others end with the day, an
 * auction or at once. Taking one of these four as a day order would read an order still live at the venue as ended,
 * and so one whose end is not sure is counted here: read as resting when it ended, the order is held open until the
 * open-order sweep reads it back.
 */
const TIME_IN_FORCE_OUTLIVING_DAY: ReadonlySet<string> = new Set(['1', '6', 'A', 'C'])

/**
 * Done for day (OrdStatus 3) ends only a day order: a GTC or GTD order (or another that may outlive the day,
 * TIME_IN_FORCE_OUTLIVING_DAY) the venue reports done for the trading day, with quantity left (LeavesQty absent or above 0), rests at the venue, to be renewed and filled on a later day. The time in
 * force is the message's (59), else the one egress sent; an order of neither known reads as ended, as before. A report
 * whose OrdStatus says something else (canceled, expired) or that leaves nothing keeps its reading.
 * A field read here present but unreadable (a TimeInForce, OrdStatus or LeavesQty FIX does not define) refuses the
 * report: read as absent, a garbled LeavesQty read a GTC order as resting and a garbled TimeInForce or OrdStatus as
 * ended, a guess either way, and one that left an order live at the venue that egress took as ended.
 */
function restsForLaterDay(message: FixMessage, facts: FixOrderFacts | undefined): boolean | Unreadable {
  const statedTimeInForce = message.get(Tag.TimeInForce)
  if (statedTimeInForce !== undefined && !TIME_IN_FORCE_VALUES.has(statedTimeInForce)) return valueOutOfRange(Tag.TimeInForce, `TimeInForce (59) unknown: ${statedTimeInForce}`)
  const timeInForce = statedTimeInForce ?? facts?.timeInForce
  if (timeInForce === undefined || !TIME_IN_FORCE_OUTLIVING_DAY.has(timeInForce)) return false
  const ordStatus = message.get(Tag.OrdStatus)
  if (ordStatus !== undefined && parseFixOrdStatus(ordStatus) === null) return valueOutOfRange(Tag.OrdStatus, `OrdStatus (39) unknown: ${ordStatus}`)
  if (ordStatus !== undefined && ordStatus !== '3') return false
  const leavesText = message.get(Tag.LeavesQty)
  if (leavesText === undefined) return true
  const leaves = parseFixDecimal(leavesText)
  if (leaves === null || leaves < 0n) return unreadableDecimal(Tag.LeavesQty, leavesText, `LeavesQty (151) is not a decimal of 0 or more egress can hold exactly: ${leavesText}`)
  return leaves > 0n
}

export function isStatusReport(message: FixMessage): boolean {
  return message.get(Tag.ExecType) === 'I' || message.get(Tag.ExecTransType) === '3'
}

interface Common {
  clientOrderId: string
  venueOrderId: string
  account: string
  symbol: string
  side: Side
  cumQty: Units
  venueTimeMs: number
}

/**
 * The members every report carries. CumQty (14) is Required in every ExecutionReport (FIX 4.2 to 5.0), and `cumQtyRead`
 * says egress reads it here: for a fill it places the fill against a synthetic fill (kernel/synthetic-cover.ts), for a
 * cancel or expiry it reveals fills that were lost, for a status answer it is what reconciliation converges to. Read
 * as 0 when absent, it made a fill unplaceable (booked whole, twice if a synthetic fill stood for it), hid lost fills
 * behind a final report, and let a status answer close an order as filled with nothing booked. So where it is read, a
 * report without it is refused like one without ExecID; where it is not (new, rejected, replaced), 0 stands in.
 */
function readCommon(message: FixMessage, facts: FixOrderFacts | undefined, options: { fallbackMs: number; cumQtyRead: boolean }): Common | Unreadable {
  const clientOrderId = message.get(Tag.ClOrdID)
  if (clientOrderId === undefined) return missingField(Tag.ClOrdID, 'ClOrdID (11) missing')
  // A Side present but not one egress reads is refused, not taken as the side egress sent (the report may not be about
  // the order egress sent at all); absent, egress's own stands in.
  const sideText = message.get(Tag.Side)
  const side = sideText === undefined ? (facts?.side ?? null) : parseFixSide(sideText)
  if (side === null) return sideText === undefined ? missingField(Tag.Side, 'Side (54) missing') : valueOutOfRange(Tag.Side, `Side (54) unknown: ${sideText}`)
  const symbol = message.get(Tag.Symbol) ?? facts?.symbol
  if (symbol === undefined) return missingField(Tag.Symbol, 'Symbol (55) missing')
  const cumText = message.get(Tag.CumQty)
  if (cumText === undefined && options.cumQtyRead) return missingField(Tag.CumQty, 'CumQty (14) missing: required, and egress reads it for this report')
  const cumQty = cumText === undefined ? 0n : parseFixDecimal(cumText)
  if (cumQty === null || cumQty < 0n) return unreadableDecimal(Tag.CumQty, cumText, `CumQty (14) is not a decimal egress can hold exactly: ${cumText}`)
  const venueTimeMs = venueTimeOf(message, options.fallbackMs)
  if (typeof venueTimeMs !== 'number') return venueTimeMs
  return {
    clientOrderId,
    venueOrderId: message.get(Tag.OrderID) ?? facts?.venueOrderId ?? '',
    account: message.get(Tag.Account) ?? facts?.account ?? '',
    symbol,
    side,
    cumQty,
    venueTimeMs,
  }
}

/**
 * TransactTime, else SendingTime, else `fallbackMs`. A timestamp before 1970 is passed over like a missing one: the
 * log holds a venue time as a non-negative count of ms, and a report it cannot hold is one the log cannot read back.
 * A TransactTime present but not a UTCTimestamp refuses the report: it was passed over for SendingTime unseen, the
 * report booked at a time the venue did not state. (SendingTime is the session's to check: session-sending-time.ts.)
 */
function venueTimeOf(message: FixMessage, fallbackMs: number): number | Unreadable {
  const transactText = message.get(Tag.TransactTime)
  if (transactText !== undefined && parseUtcTimestamp(transactText) === null) return badFormat(Tag.TransactTime, `TransactTime (60) is not a UTCTimestamp: ${transactText}`)
  for (const tag of [Tag.TransactTime, Tag.SendingTime]) {
    const ms = parseUtcTimestamp(message.get(tag))
    if (ms !== null && ms >= 0) return ms
  }
  return fallbackMs
}

/** The report kinds whose cumulative quantity the kernel reads (see readCommon). */
const CUM_QTY_READ: ReadonlySet<ExecutionReportKind> = new Set(['fill', 'canceled', 'expired'])

/**
 * The ExecType (150) values FIX 4.2 to 5.0 SP2 define (1 and 2, 4.2's fills, included; J to N from 5.0 on, M Locked and
 * N Released from its extension packs, as QuickFIX's FIX50SP2 dictionary has them); a report with any other is
 * refused, not ignored as one that "carries no transition": a garbled ExecType may have been a fill. Likewise the
 * ExecTransType (20) values of FIX 4.2 (0 New, 1 Cancel, 2 Correct, 3 Status): another, read as New, could book a
 * bust as a fill.
 */
const EXEC_TYPE_VALUES: ReadonlySet<string> = new Set([...'0123456789ABCDEFGHIJKLMN'])
const EXEC_TRANS_TYPE_VALUES: ReadonlySet<string> = new Set(['0', '1', '2', '3'])

/** ExecutionReport (35=8), other than status answers, → ExecutionReport. */
export function mapExecutionReport(venue: string, message: FixMessage, facts: FixOrderFacts | undefined, fallbackMs: number): Mapped<ExecutionReport> {
  const execTransType = message.get(Tag.ExecTransType)
  if (execTransType !== undefined && !EXEC_TRANS_TYPE_VALUES.has(execTransType)) return refusedOver(valueOutOfRange(Tag.ExecTransType, `ExecTransType (20) unknown: ${execTransType}`))
  if (execTransType === '1' || execTransType === '2') return tradeBust(message, `trade ${execTransType === '1' ? 'bust' : 'correction'} (ExecTransType ${execTransType})`)
  const execType = message.get(Tag.ExecType)
  if (execType === undefined) return refusedOver(missingField(Tag.ExecType, 'ExecType (150) missing'))
  if (!EXEC_TYPE_VALUES.has(execType)) return refusedOver(valueOutOfRange(Tag.ExecType, `ExecType (150) unknown: ${execType}`))
  if (execType === 'G' || execType === 'H') return tradeBust(message, `trade ${execType === 'H' ? 'cancel' : 'correction'} (ExecType ${execType})`)
  if (execType === 'J' || execType === 'K') return clearingReport(message, execType)
  const rests = execType === '3' ? restsForLaterDay(message, facts) : false
  if (typeof rests !== 'boolean') return refusedOver(rests)
  if (rests) return { kind: 'ignored', why: 'Done for day (ExecType 3) on a GTC or GTD order: it rests at the venue for a later day' }
  const kind = KIND_BY_EXEC_TYPE[execType]
  if (kind === undefined) return { kind: 'ignored', why: `ExecType ${execType} carries no transition` }
  const execId = message.get(Tag.ExecID)
  if (execId === undefined) return refusedOver(missingField(Tag.ExecID, 'ExecID (17) missing'))
  const common = readCommon(message, facts, { fallbackMs, cumQtyRead: CUM_QTY_READ.has(kind) })
  if ('invalid' in common) return refusedOver(common)
  const report: ExecutionReport = { venue, execId, kind, ...common }
  const orig = message.get(Tag.OrigClOrdID)
  if (orig !== undefined) report.origClientOrderId = orig
  if (kind === 'rejected' || kind === 'canceled' || kind === 'expired') {
    const text = kind === 'rejected' ? orderRejectReason(message) : message.get(Tag.Text) ?? message.get(Tag.OrdRejReason)
    if (text !== undefined) report.reason = venueReasonText(text)
  }
  // The memory takes a replace's OrderQty as the order's new quantity (venue-memory.ts learn): one it cannot read is
  // a malformed report, not one to read as the quantity egress sent.
  const replacedQty = kind === 'replaced' ? readPositive(message, Tag.OrderQty, 'OrderQty (38)') : null
  if (replacedQty !== null && 'invalid' in replacedQty) return refusedOver(replacedQty)
  if (kind === 'fill') {
    const fill = readFill(message)
    if ('invalid' in fill) return refusedOver(fill)
    Object.assign(report, fill)
  }
  return { kind: 'mapped', value: report }
}

/**
 * A trade bust or correction: ExecType H (Trade Cancel) or G (Trade Correct), or in FIX 4.2 ExecTransType 1 (Cancel) or
 * 2 (Correct), naming in ExecRefID (19) the ExecID of the trade it takes back or changes. egress books none of it: no
 * record reverses a fill, and a correction's new LastQty and LastPx would be a second fill under a new ExecID. Before,
 * such a report was only logged, and nothing in egress's records showed that the order's fills, position and funds
 * now overstate (or misstate) what the venue holds. It is still an error for an operator, naming the report's ExecID,
 * the trade's and the order, and now the order is also read back, as for a clearing report: the venue's view of it is
 * recorded, and a CumQty below what egress booked raises RECONCILE_CUM_BELOW (an alert on the order; nothing
 * reversed: src/kernel/reconcile.ts cumBelow), one above books the difference as a synthetic fill with its alert.
 */
function tradeBust(message: FixMessage, what: string): Ignored {
  const named = `ExecID ${message.get(Tag.ExecID) ?? 'absent'} of the trade ExecRefID ${message.get(Tag.ExecRefID) ?? 'absent'}, order ${message.get(Tag.ClOrdID) ?? 'absent'}`
  return { kind: 'ignored', why: `${what} ${named} is not booked (egress reverses no fill): the order is read back, and it needs an operator`, readBack: true }
}

/**
 * ExecType J (Trade in a Clearing Hold) and K (Trade has been released to Clearing), FIX 4.4 extension pack 5 and 5.0
 * on: a trade the venue holds back from clearing, and one it has released. Before, both were ignored as carrying no
 * transition, and a venue that reported a fill as J lost it, silently. Neither is booked from the report either: each
 * ExecutionReport has its own ExecID, and the kernel knows a fill by its ExecID, so a J and the F a venue may send for
 * the same trade (before it, or on release) would book it twice; whether a venue sends an F besides, and whether its
 * CumQty counts a held trade, is the venue's choice. Instead the order is read back: reconciliation books what the
 * venue's CumQty holds beyond egress's as one synthetic fill, and an F that comes later is placed against it
 * (kernel/synthetic-cover.ts), booking only its price and fee — no fill lost, none booked twice. A J with LastQty above
 * 0 is a trade egress has not booked from its own report: an error for an operator, as G and H are. A K is logged at
 * debug: of a trade booked it moves nothing, and its read-back books one only if the venue's CumQty counts it now and
 * egress's does not (a venue that leaves held trades out of CumQty until their release, or sends no J). A LastQty
 * present but unreadable refuses the report, as on a fill: the refusal reads the order back too.
 */
function clearingReport(message: FixMessage, execType: 'J' | 'K'): Ignored | Invalid {
  const lastText = message.get(Tag.LastQty)
  const lastQty = lastText === undefined ? 0n : parseFixDecimal(lastText)
  if (lastQty === null || lastQty < 0n) return refusedOver(unreadableDecimal(Tag.LastQty, lastText, `LastQty (32) is not a decimal of 0 or more egress can hold exactly: ${lastText}`))
  if (execType === 'K') return { kind: 'ignored', why: `trade released to clearing (ExecType K, LastQty ${lastText ?? 'absent'}) is not booked from its report: the order is read back`, readBack: true }
  const held = `trade in a clearing hold (ExecType J, LastQty ${lastText ?? 'absent'}) is not booked from its report: the order is read back`
  return { kind: 'ignored', why: lastQty > 0n ? `${held}, and it needs an operator` : held, readBack: true }
}

function readFill(message: FixMessage): Pick<ExecutionReport, 'lastQty' | 'lastPrice' | 'fee' | 'feeAsset' | 'liquidity'> | Unreadable {
  const lastQty = parseFixDecimal(message.get(Tag.LastQty))
  if (lastQty === null || lastQty <= 0n) return unreadableDecimal(Tag.LastQty, message.get(Tag.LastQty), `LastQty/LastShares (32) must be a positive decimal, got ${message.get(Tag.LastQty)}`)
  const lastPrice = parseFixDecimal(message.get(Tag.LastPx))
  // A fill at a price of zero or below is no trade egress can book (and the log refuses to read one back).
  if (lastPrice === null || lastPrice <= 0n) return unreadableDecimal(Tag.LastPx, message.get(Tag.LastPx), `LastPx (31) must be a positive decimal, got ${message.get(Tag.LastPx)}`)
  // Nor one whose cash the log cannot hold (the gateway refuses it too: src/domain/recordable-amounts.ts).
  if (!fillCashRecordable(lastQty, lastPrice)) return valueOutOfRange(Tag.LastPx, `LastQty (32) × LastPx (31) must be at most ${formatDecimal(RECORD_UNITS_MAX)}, got ${message.get(Tag.LastQty)} × ${message.get(Tag.LastPx)}`)
  const fill: Pick<ExecutionReport, 'lastQty' | 'lastPrice' | 'fee' | 'feeAsset' | 'liquidity'> = { lastQty, lastPrice }
  // Commission by its CommType, in CommCurrency when stated; one egress cannot compute refuses the report (commission.ts).
  const fee = readFillFee(message, { lastQty, lastPrice })
  if ('invalid' in fee) return fee
  if (fee.fee !== undefined) fill.fee = fee.fee
  if (fee.feeAsset !== undefined) fill.feeAsset = fee.feeAsset
  const liquidity = liquidityOf(message.get(Tag.LastLiquidityInd))
  if (liquidity !== null) fill.liquidity = liquidity
  return fill
}

function liquidityOf(text: string | undefined): Liquidity | null {
  if (text === '1') return 'maker'
  if (text === '2') return 'taker'
  return null
}

/**
 * OrderCancelReject (35=9) → a `cancel_rejected` report. It has no ExecID, so the dedupe key is built from ClOrdID
 * and the original SendingTime: stable across PossDup re-sends of the same message, distinct per reject.
 */
export function mapCancelReject(venue: string, message: FixMessage, facts: FixOrderFacts | undefined, fallbackMs: number): Mapped<ExecutionReport> {
  const clientOrderId = message.get(Tag.ClOrdID)
  if (clientOrderId === undefined) return refusedOver(missingField(Tag.ClOrdID, 'ClOrdID (11) missing'))
  const sentAt = message.get(Tag.OrigSendingTime) ?? message.get(Tag.SendingTime) ?? String(fallbackMs)
  const side = facts?.side ?? null
  if (side === null) return { kind: 'invalid', why: `OrderCancelReject for ${clientOrderId}: egress does not know the order's side` }
  const venueTimeMs = venueTimeOf(message, fallbackMs)
  if (typeof venueTimeMs !== 'number') return refusedOver(venueTimeMs)
  const report: ExecutionReport = {
    venue,
    execId: `cxlrej:${clientOrderId}:${sentAt}`,
    kind: 'cancel_rejected',
    clientOrderId,
    venueOrderId: message.get(Tag.OrderID) ?? facts?.venueOrderId ?? '',
    account: message.get(Tag.Account) ?? facts?.account ?? '',
    symbol: facts?.symbol ?? '',
    side,
    cumQty: 0n,
    reason: venueReasonText(cancelRejectReason(message)),
    venueTimeMs,
  }
  const orig = message.get(Tag.OrigClOrdID)
  if (orig !== undefined) report.origClientOrderId = orig
  return { kind: 'mapped', value: report }
}

/**
 * The reason of an order reject (ExecType=8): `OrdRejReason <n>: <Text>` — the numeric reason leads (reject-reasons.ts
 * reads the venue reject code from it; records before it held Text, else the bare number), then the venue's Text;
 * either alone when the other is missing — but OrdRejReason 6 (Duplicate Order: the ClOrdID is taken) is
 * `duplicate_client_order_id` exactly (src/domain/venue-reasons.ts). egress's ClOrdIDs are its own order ids, so that
 * reject says the order is at the venue (a resend after a timeout, a crash or a failover found it there); read as any
 * other reject it closed a live venue order as Rejected.
 */
export function orderRejectReason(message: FixMessage): string | undefined {
  const code = message.get(Tag.OrdRejReason)
  if (code === '6') return VenueReason.duplicateClientOrderId
  const parts = [code === undefined || code === '' ? undefined : ordRejReasonLead(code), message.get(Tag.Text)].filter((part) => part !== undefined && part !== '')
  return parts.length === 0 ? undefined : parts.join(': ')
}

/**
 * What an OrderCancelReject proves, for the cancel or amend it answers: CxlRejReason 1 (Unknown order) is
 * `unknown_order` and 6 (Duplicate ClOrdID) `duplicate_client_order_id`, exactly (src/domain/venue-reasons.ts), as
 * the kernel reads them; null for any other reason, a definite refusal.
 */
export function cancelRejectVenueReason(message: FixMessage): string | null {
  const code = message.get(Tag.CxlRejReason)
  if (code === '1') return VenueReason.unknownOrder
  if (code === '6') return VenueReason.duplicateClientOrderId
  return null
}

export function cancelRejectReason(message: FixMessage): string {
  const parts = [message.get(Tag.CxlRejReason) && cxlRejReasonLead(message.get(Tag.CxlRejReason) as string), message.get(Tag.Text)]
  return parts.filter((part) => part !== undefined && part !== '').join(': ') || 'cancel rejected'
}

/**
 * An order-status answer (ExecType=I) → VenueOrder, or `null` inside `mapped` when the venue says it does not know
 * the order (OrdStatus 8 with OrdRejReason 5 "unknown order"). OrderQty and Price absent (or 0 or below) are what
 * egress remembers; present and unreadable, the answer is `invalid` (readPositive).
 */
export function mapStatusReport(message: FixMessage, facts: FixOrderFacts | undefined, fallbackMs: number): Mapped<VenueOrder | null> {
  if (message.get(Tag.OrdStatus) === '8' && message.get(Tag.OrdRejReason) === '5') return { kind: 'mapped', value: null }
  const common = readCommon(message, facts, { fallbackMs, cumQtyRead: true })
  if ('invalid' in common) return refusedOver(common)
  const parsed = parseFixOrdStatus(message.get(Tag.OrdStatus))
  // Done for day on an order that outlives the day: it is still open there (partly filled or not).
  const rests = message.get(Tag.OrdStatus) === '3' ? restsForLaterDay(message, facts) : false
  if (typeof rests !== 'boolean') return refusedOver(rests)
  const status = rests ? (common.cumQty > 0n ? 'partially_filled' : 'open') : parsed
  if (status === null) return refusedOver(message.has(Tag.OrdStatus) ? valueOutOfRange(Tag.OrdStatus, `OrdStatus (39) unknown: ${message.get(Tag.OrdStatus)}`) : missingField(Tag.OrdStatus, 'OrdStatus (39) missing'))
  const orderQty = readPositive(message, Tag.OrderQty, 'OrderQty (38)')
  if ('invalid' in orderQty) return refusedOver(orderQty)
  const qty = orderQty.value ?? facts?.qty ?? null
  if (qty === null) return refusedOver(missingField(Tag.OrderQty, 'OrderQty (38) missing'))
  const statedPrice = readPositive(message, Tag.Price, 'Price (44)')
  if ('invalid' in statedPrice) return refusedOver(statedPrice)
  const order: VenueOrder = {
    clientOrderId: common.clientOrderId,
    venueOrderId: common.venueOrderId,
    account: common.account,
    symbol: common.symbol,
    side: common.side,
    qty,
    cumQty: common.cumQty,
    status,
  }
  const price = statedPrice.value ?? facts?.price
  if (price !== undefined) order.price = price
  return { kind: 'mapped', value: order }
}

/**
 * A status answer's OrderQty or Price: the value when positive; null when absent or 0 or below — Price 0 is how many
 * venues state a market order's price, no price rather than a price of zero (reconcile books at it), and neither is
 * then a figure egress can use, so what egress remembers stands in. Present but not a decimal egress can hold exactly
 * (a letter, 9 places), the answer is malformed: refused, never read as what egress remembers (that made a garbled
 * answer converge the order to egress's own belief, unseen).
 */
export function readPositive(message: FixMessage, tag: number, name: string): { value: Units | null } | Unreadable {
  const text = message.get(tag)
  if (text === undefined) return { value: null }
  const units = parseFixDecimal(text)
  if (units === null) return unreadableDecimal(tag, text, `${name} is not a decimal egress can hold exactly: ${text}`)
  return { value: units > 0n ? units : null }
}
