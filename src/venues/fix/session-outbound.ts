/**
 * Writing the session's messages: the standard header, the MsgSeqNum taken when the message is built, and the write
 * chain that hands the bytes to the socket only once the store holds the next number durably, in number order, and
 * within writeBufferBytesMax. Every other part of the session sends through here, so the promise "a number is saved
 * before a message carrying it is written" is kept in this one place.
 */

import { encodeFixMessage } from './codec.ts'
import type { FixField, FixMessage } from './message.ts'
import type { Connection } from './session-connection.ts'
import type { SessionContext } from './session-context.ts'
import { MsgType, Tag } from './tags.ts'
import { formatUtcTimestamp } from './time.ts'

/**
 * Builds and queues one message. Its number is taken now; the bytes reach the socket only after the store has the
 * next number durably, and in number order. `seqNum` overrides the number (gap fills reuse the requested one).
 */
export function sendOn(
  session: SessionContext,
  connection: Connection,
  msgType: string,
  body: readonly FixField[],
  options: { seqNum?: number; possDup?: boolean; possResend?: boolean },
): { seqNum: number; written: Promise<boolean> } {
  const seqNums = session.seqNums()
  const seqNum = options.seqNum ?? seqNums.takeSender()
  const numbering = seqNums.numbering
  const sendingTime = formatUtcTimestamp(session.options.clock.nowMs())
  const fields: FixField[] = [
    [Tag.MsgType, msgType],
    [Tag.SenderCompID, session.options.senderCompId],
    [Tag.TargetCompID, session.options.targetCompId],
    [Tag.MsgSeqNum, String(seqNum)],
    [Tag.SendingTime, sendingTime],
  ]
  if (options.possDup === true) fields.push([Tag.PossDupFlag, 'Y'], [Tag.OrigSendingTime, sendingTime])
  // An application message that may have gone out before under another number (FixVenue.place: a resend).
  if (options.possResend === true) fields.push([Tag.PossResend, 'Y'])
  fields.push(...body)
  const bytes = encodeFixMessage(session.options.beginString, fields)
  connection.unwritten++
  connection.unwrittenBytes += bytes.length
  // Bounded before the socket too: a venue's messages that each draw an answer (a TestRequest, one refused) queued an
  // answer each here while a save was slow, without bound, the bound looked at only once they reached the socket.
  if (connection.unwrittenBytes > session.options.writeBufferBytesMax && !connection.closed) {
    session.disconnect(connection, `${connection.unwrittenBytes} bytes wait for the store's save (writeBufferBytesMax ${session.options.writeBufferBytesMax}): the store is not keeping up with the session`, 'error')
  }
  const written = connection.writeChain.then(async () => {
    try {
      await seqNums.flush()
    } catch (error: unknown) {
      connection.unwritten--
      connection.unwrittenBytes -= bytes.length
      session.failStore(error)
      return false
    }
    connection.unwritten--
    connection.unwrittenBytes -= bytes.length
    const transport = connection.transport
    if (connection.closed || transport === null) return false
    // Numbered before the numbers restarted (the venue's reset Logon, answered meanwhile): written, it went out under a
    // number of the old numbering after the reset — a second message under a number the new numbering gives again
    // (the venue queued it above its gap and took it in the new numbering's turn; egress's own was then too low).
    if (seqNums.numbering !== numbering) return false
    const queuedBytes = transport.write(bytes)
    connection.lastSentMs = session.options.clock.nowMs()
    if (queuedBytes > session.options.writeBufferBytesMax) {
      session.disconnect(connection, `${queuedBytes} bytes unwritten (writeBufferBytesMax ${session.options.writeBufferBytesMax}): the peer is not reading`, 'error')
    }
    return true
  })
  connection.writeChain = written
  if (options.seqNum === undefined) {
    // A number taken but never written leaves a gap the venue will ask about; tell the handler now. Not one of a
    // numbering since restarted: the number means nothing now, and may name a message of the new one.
    void written.then((ok) => {
      if (!ok && seqNums.numbering === numbering) session.handler.onMessagesAbandoned({ beginSeqNum: seqNum, endSeqNum: seqNum, cause: 'not_written' })
    })
  }
  return { seqNum, written }
}

/**
 * A session-level Reject (35=3) of the counterparty's message `rejected`: `reason` is the SessionRejectReason (373),
 * `refTagId` the field at fault when there is one.
 */
export function sendReject(
  session: SessionContext,
  connection: Connection,
  rejected: FixMessage,
  options: { reason: number; text: string; refTagId?: number | undefined },
): void {
  const refSeqNum = rejected.seqNum
  const refMsgType = rejected.msgType
  const { reason, text, refTagId } = options
  session.log('warn', 'fix.reject_sent', `rejecting MsgSeqNum ${refSeqNum}: ${text}`)
  const body: FixField[] = [[Tag.RefSeqNum, String(Number.isNaN(refSeqNum) ? 0 : refSeqNum)], [Tag.Text, text.slice(0, 200)]]
  if (refTagId !== undefined) body.push([Tag.RefTagID, String(refTagId)])
  if (refMsgType !== '') body.push([Tag.RefMsgType, refMsgType])
  body.push([Tag.SessionRejectReason, String(reason)])
  sendOn(session, connection, MsgType.Reject, body, {})
}
