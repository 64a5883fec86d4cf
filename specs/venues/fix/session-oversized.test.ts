/**
 * A venue message over messageBytesMax (64 KiB by default) dropped the connection; the venue resent it after every
 * reconnect, which dropped the connection again, for good, with every later message (fills included) stuck behind it.
 * It is now read through without being held (codec.ts OVERSIZED_MESSAGE_FACTOR_MAX), refused with a session Reject in
 * its turn and its number consumed; the order its head names is read back, and the session goes on.
 */

import { expect, test } from 'bun:test'
import { MsgType, Tag } from '../../../src/venues/fix/tags.ts'
import { settle } from './fake-acceptor.ts'
import { exec, loggedOn } from './session-harness.ts'

test('a message over messageBytesMax is refused in its turn, its number consumed; the session stays up and the next message is delivered', async () => {
  const h = await loggedOn({ limits: { messageBytesMax: 64 * 1024 } })
  const seqNum = h.acceptor.nextSeqNum
  h.acceptor.answerResends = true
  h.acceptor.send(MsgType.ExecutionReport, [...exec('c1', 'e-big'), [Tag.Text, 'x'.repeat(70_000)]])
  h.acceptor.send(MsgType.ExecutionReport, exec('c1', 'e-next'))
  await settle()
  await h.clock.advanceAsync(5_000)
  expect(h.acceptor.connections).toBe(1)
  expect(h.session.state).toBe('active')
  expect(h.acceptor.ofType(MsgType.Reject).map((m) => [m.get(Tag.RefSeqNum), m.get(Tag.SessionRejectReason), m.get(Tag.RefTagID)])).toEqual([[String(seqNum), '5', '9']])
  expect(h.refused.map((m) => m.get(Tag.ClOrdID))).toEqual(['c1'])
  expect(h.app.map((m) => m.get(Tag.ExecID))).toEqual(['e-next'])
  expect(h.session.seqNums?.nextTargetSeqNum).toBe(seqNum + 2)
})
