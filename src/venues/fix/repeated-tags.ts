/**
 * A tag that appears more than once outside a repeating group (FIX 4.4 SessionRejectReason 13). The codec has no model
 * of repeating groups — egress reads none — so it cannot tell a repeat inside one from a repeat outside. It flags only
 * tags that are in no group of the messages they are flagged in: the standard header's (in every message type), and the
 * fields the adapter reads from an ExecutionReport or an OrderCancelReject, none of which is in a group of those two
 * messages in FIX 4.2 or 4.4 (their groups — NoPartyIDs, NoMiscFees, NoContraBrokers, NoLegs, … — carry other tags).
 * In other message types these may repeat in a group (a ListStatus's NoOrders holds ClOrdID, CumQty, OrdStatus), so
 * only the header is checked there. Read by its first occurrence, such a message was taken for whatever the venue put
 * first: a fill with two LastQtys booked the first.
 */

import type { FixField, FixMessageDefect } from './message.ts'
import { MsgType, SessionRejectReason, Tag } from './tags.ts'

/** Standard header tags egress reads: in no repeating group of any message (the header's NoHops holds 628–630). */
const HEADER_TAGS = new Set<number>([
  Tag.MsgType, Tag.SenderCompID, Tag.TargetCompID, Tag.MsgSeqNum, Tag.SendingTime, Tag.PossDupFlag, Tag.PossResend, Tag.OrigSendingTime,
])

/** Body tags the adapter reads from an ExecutionReport or OrderCancelReject: in none of their groups. */
const REPORT_TAGS = new Set<number>([
  Tag.ClOrdID, Tag.OrigClOrdID, Tag.OrderID, Tag.ExecID, Tag.ExecType, Tag.OrdStatus, Tag.LastQty, Tag.LastPx, Tag.CumQty, Tag.LeavesQty,
])

/** The first tag in `fields` that must appear once and appears again, as a defect; undefined when there is none. */
export function repeatedTagDefect(msgType: string, fields: readonly FixField[]): FixMessageDefect | undefined {
  const isReport = msgType === MsgType.ExecutionReport || msgType === MsgType.OrderCancelReject
  const seen = new Set<number>()
  for (const [tag] of fields) {
    if (!HEADER_TAGS.has(tag) && !(isReport && REPORT_TAGS.has(tag))) continue
    if (seen.has(tag)) return { reason: SessionRejectReason.tagAppearsMoreThanOnce, refTagId: tag, text: `tag ${tag} appears more than once` }
    seen.add(tag)
  }
  return undefined
}
