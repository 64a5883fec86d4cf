/**
 * A message over messageBytesMax is read through holding only its first 4 KiB, and refused in its turn (its number
 * consumed). Such a message is most likely that large because of a length-prefixed data field (EncodedText, XmlData,
 * RawData; EncodedTextLen 354 and EncodedText 355 here), whose value then runs past the kept head: the head's parse failed on it ("data field 355 is not 70000
 * bytes long") and the message was ignored as garbled, its number never consumed. The venue resent the same bytes,
 * ignored again, every heartbeat interval, with every later message (fills included) queued above the gap for good.
 */

import { expect, test } from 'bun:test'
import { MsgType, Tag } from '../../../src/venues/fix/tags.ts'
import { settle } from './fake-acceptor.ts'
import { exec, loggedOn } from './session-harness.ts'

test('a message over messageBytesMax whose data field runs past the kept head is refused in its turn, not ignored as garbled; the next message is delivered', async () => {
  const h = await loggedOn({ limits: { messageBytesMax: 64 * 1024 } })
  const seqNum = h.acceptor.nextSeqNum
  h.acceptor.answerResends = true
  const text = `a=b\x01${'x'.repeat(70_000)}`
  h.acceptor.send(MsgType.ExecutionReport, [...exec('c1', 'e-big'), [354, String(text.length)], [355, text]])
  h.acceptor.send(MsgType.ExecutionReport, exec('c1', 'e-next'))
  await settle()
  await h.clock.advanceAsync(5_000)
  expect(h.logs.filter((r) => r.event === 'fix.garbled_message')).toEqual([])
  expect(h.acceptor.connections).toBe(1)
  expect(h.session.state).toBe('active')
  expect(h.acceptor.ofType(MsgType.Reject).map((m) => [m.get(Tag.RefSeqNum), m.get(Tag.SessionRejectReason), m.get(Tag.RefTagID)])).toEqual([[String(seqNum), '5', '9']])
  expect(h.refused.map((m) => m.get(Tag.ClOrdID))).toEqual(['c1'])
  expect(h.app.map((m) => m.get(Tag.ExecID))).toEqual(['e-next'])
  expect(h.session.seqNums?.nextTargetSeqNum).toBe(seqNum + 2)
})
