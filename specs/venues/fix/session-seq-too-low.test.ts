/**
 * "MsgSeqNum too low" (not a PossDup): the venue's numbering went back, so nothing more it says can be taken in
 * sequence. egress sent its Logout and then waited up to logoutTimeoutMs for the venue's answer, the connection open
 * and read all the while: a message the venue sent meanwhile under the expected number was taken as in sequence (an
 * execution report handed on), and a venue that never answered held the session for the whole timeout. QuickFIX sends
 * its Logout and disconnects at once (Session::doTargetTooLow: generateLogout, then the throw that disconnects); so
 * does egress now, reading nothing more on that connection. The ordinary logout still waits for the answer.
 */

import { expect, test } from 'bun:test'
import { MsgType, Tag } from '../../../src/venues/fix/tags.ts'
import { MemoryFixSessionStore } from '../../../src/venues/fix/store.ts'
import { FakeAcceptor, settle } from './fake-acceptor.ts'
import { exec, harness, loggedOn } from './session-harness.ts'

const LOGOUT_TIMEOUT_MS = 10_000

test('a message numbered too low: Logout, then the connection closes at once, without waiting for the answer; nothing after it is read', async () => {
  const acceptor = new FakeAcceptor({ answerLogouts: false })
  const h = await loggedOn({ logoutTimeoutMs: LOGOUT_TIMEOUT_MS, reconnectDelayMsMin: 20_000 }, { acceptor })
  h.acceptor.send(MsgType.Heartbeat)
  h.acceptor.send(MsgType.Heartbeat, [], { seqNum: 2 })
  // Before the Logout is written: one under the expected number (3), which a connection left open took as in sequence.
  h.acceptor.send(MsgType.ExecutionReport, exec('c1', 'e3'), { seqNum: 3 })
  await settle()
  expect(h.acceptor.ofType(MsgType.Logout).map((m) => m.get(Tag.Text))).toEqual(['MsgSeqNum too low, expecting 3 but received 2'])
  expect(h.app).toEqual([])
  expect(h.acceptor.connected).toBe(false)
  expect(h.session.state).toBe('reconnect_wait')
  expect(h.session.seqNums?.nextTargetSeqNum).toBe(3)
})

test('a Logon answer numbered too low: Logout, then the connection closes at once', async () => {
  const store = new MemoryFixSessionStore({ nextSenderSeqNum: 5, nextTargetSeqNum: 9 })
  const h = harness({ logoutTimeoutMs: LOGOUT_TIMEOUT_MS, reconnectDelayMsMin: 20_000 }, { store, acceptor: new FakeAcceptor({ answerLogouts: false }) })
  h.session.start()
  await settle()
  expect(h.acceptor.ofType(MsgType.Logout).map((m) => m.get(Tag.Text))).toEqual(['MsgSeqNum too low, expecting 9 but received 1'])
  expect(h.acceptor.connected).toBe(false)
  expect(h.session.state).toBe('reconnect_wait')
})

test("the ordinary logout still waits for the venue's answer, up to logoutTimeoutMs", async () => {
  const acceptor = new FakeAcceptor({ answerLogouts: false })
  const h = await loggedOn({ logoutTimeoutMs: LOGOUT_TIMEOUT_MS }, { acceptor })
  const stopped = h.session.stop()
  await settle()
  expect(h.acceptor.ofType(MsgType.Logout)).toHaveLength(1)
  expect(h.acceptor.connected).toBe(true)
  // A message in its turn while ours waits for the answer is still read.
  h.acceptor.send(MsgType.ExecutionReport, exec('c1', 'e2'))
  await settle()
  expect(h.app.map((m) => m.get(Tag.ExecID))).toEqual(['e2'])
  await h.clock.advanceAsync(LOGOUT_TIMEOUT_MS + 1_000)
  await stopped
  expect(h.acceptor.connected).toBe(false)
  expect(h.session.state).toBe('stopped')
})
