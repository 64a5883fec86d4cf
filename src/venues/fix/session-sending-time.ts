/**
 * The session layer's checks of a message's times (FIX session test cases 2f, 2g and 2t; QuickFIX's `isGoodTime`
 * and `doPossDup`): SendingTime (52) is Required and must be within `sendingTimeToleranceMs` of egress's clock
 * (QuickFIX's MaxLatency, 120 s by default); a PossDupFlag=Y message other than a SequenceReset must carry
 * OrigSendingTime (122), no later than its SendingTime.
 *
 * A missing or unreadable time is a defect like a bad field (refused with a Reject in its turn, its number consumed).
 * A time that is wrong — far from our clock, or an original sent after its copy — is a SendingTime accuracy problem
 * (SessionRejectReason 10): FIX has the receiver reject it and log out, as the counterparty's clock or its resend
 * logic cannot be trusted; that is `logout`.
 */

import type { FixMessage, FixMessageDefect } from './message.ts'
import { MsgType, SessionRejectReason, Tag } from './tags.ts'
import { parseUtcTimestamp } from './time.ts'

export interface SendingTimeDefect extends FixMessageDefect {
  /** A SendingTime accuracy problem: Reject, then Logout. */
  logout: boolean
}

/** What is wrong with `message`'s SendingTime / OrigSendingTime at `nowMs`, or null. */
export function sendingTimeDefect(message: FixMessage, options: { nowMs: number; toleranceMs: number }): SendingTimeDefect | null {
  const sendingText = message.get(Tag.SendingTime)
  if (sendingText === undefined) return missing(Tag.SendingTime, 'SendingTime (52) missing')
  const sendingMs = parseUtcTimestamp(sendingText)
  if (sendingMs === null) return badFormat(Tag.SendingTime, `SendingTime (52) is not a UTCTimestamp: ${JSON.stringify(sendingText.slice(0, 32))}`)
  const offMs = sendingMs - options.nowMs
  if (Math.abs(offMs) > options.toleranceMs) {
    return inaccurate(`SendingTime ${sendingText} is ${Math.abs(offMs)} ms ${offMs > 0 ? 'ahead of' : 'behind'} egress's clock (sendingTimeToleranceMs ${options.toleranceMs})`)
  }
  if (!message.possDup || message.msgType === MsgType.SequenceReset) return null
  const origText = message.get(Tag.OrigSendingTime)
  if (origText === undefined) return missing(Tag.OrigSendingTime, 'OrigSendingTime (122) missing on a PossDupFlag=Y message')
  const origMs = parseUtcTimestamp(origText)
  if (origMs === null) return badFormat(Tag.OrigSendingTime, `OrigSendingTime (122) is not a UTCTimestamp: ${JSON.stringify(origText.slice(0, 32))}`)
  if (origMs > sendingMs) return inaccurate(`OrigSendingTime ${origText} is later than SendingTime ${sendingText}`)
  return null
}

function missing(tag: number, text: string): SendingTimeDefect {
  return { reason: SessionRejectReason.requiredTagMissing, refTagId: tag, text, logout: false }
}

function badFormat(tag: number, text: string): SendingTimeDefect {
  return { reason: SessionRejectReason.incorrectDataFormat, refTagId: tag, text, logout: false }
}

function inaccurate(text: string): SendingTimeDefect {
  return { reason: SessionRejectReason.sendingTimeAccuracy, text, logout: true }
}
