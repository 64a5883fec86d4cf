/**
 * The logout handshake while a Logout of egress's waits for the store (a number is saved before it is written): a
 * second Logout from the venue, or one crossing ours, was taken as the confirmation of ours and closed the connection,
 * and a write finds a closed connection and drops its message — so egress's Logout never went out: the venue waited
 * out its logout timeout, and the number taken for it was a gap asked about at the next Logon (gap-filling what egress
 * sent right after). Now a venue-initiated Logout gets exactly one Logout answer, ours is confirmed only by a venue
 * Logout taken after it is written, and a duplicate is ignored.
 */

import { expect, test } from 'bun:test'
import { MsgType, Tag } from '../../../src/venues/fix/tags.ts'
import { settle } from './fake-acceptor.ts'
import { loggedOn, slowStore } from './session-harness.ts'

test("a second Logout from the venue while egress's answer waits for the store is ignored: the answer is written, once, then the connection closes", async () => {
  const { store, control } = slowStore()
  const h = await loggedOn({ reconnectDelayMsMin: 1_000 }, { store })
  control.hold = true
  h.acceptor.send(MsgType.Logout, [[Tag.Text, 'end of day']])
  await settle()
  h.acceptor.send(MsgType.Logout, [[Tag.Text, 'end of day (again)']])
  await settle()
  expect(h.acceptor.connected).toBe(true)
  control.hold = false
  control.release()
  await settle()
  expect(h.acceptor.received.map((m) => [m.msgType, m.seqNum])).toEqual([[MsgType.Logon, 1], [MsgType.Logout, 2]])
  expect(h.acceptor.connected).toBe(false)
  expect(h.abandoned).toEqual([])
  expect(h.logs.filter((r) => r.event === 'fix.logout_duplicate').length).toBeGreaterThanOrEqual(1)
  await h.clock.advanceAsync(1_000)
  await settle()
  // No number left unwritten: the next Logon follows the answer.
  expect(h.acceptor.received.map((m) => m.seqNum)).toEqual([1, 2, 3])
})

/**
 * egress stops while the store holds its Logout; `meanwhile` the venue sends something; once the store lets the Logout
 * go, it is the one Logout egress sent, and the connection closes after it (not before: a Logout never written).
 */
async function stopWithLogoutHeld(meanwhile: (h: Awaited<ReturnType<typeof loggedOn>>) => void): Promise<void> {
  const { store, control } = slowStore()
  const h = await loggedOn({ reconnectDelayMsMin: 1_000 }, { store })
  control.hold = true
  const stopped = h.session.stop()
  await settle()
  meanwhile(h)
  await settle()
  expect(h.acceptor.connected).toBe(true)
  control.hold = false
  control.release()
  await stopped
  await settle()
  expect(h.acceptor.received.map((m) => [m.msgType, m.seqNum, m.get(Tag.Text)])).toEqual([[MsgType.Logon, 1, undefined], [MsgType.Logout, 2, 'egress stopping']])
  expect(h.acceptor.connected).toBe(false)
  expect(h.abandoned).toEqual([])
  expect(h.session.state).toBe('stopped')
}

test("a venue Logout crossing egress's own while ours waits for the store is answered by ours: ours is written, then the connection closes", async () => {
  await stopWithLogoutHeld((h) => h.acceptor.send(MsgType.Logout, [[Tag.Text, 'end of day']]))
})

test("once egress's Logout is written, the venue's Logout confirms it: the connection closes, nothing more is sent", async () => {
  const h = await loggedOn()
  const stopped = h.session.stop()
  await stopped
  await settle()
  expect(h.acceptor.connected).toBe(false)
  expect(h.acceptor.received.map((m) => [m.msgType, m.seqNum])).toEqual([[MsgType.Logon, 1], [MsgType.Logout, 2]])
  expect(h.session.state).toBe('stopped')
})

test("a venue message refused while egress's Logout waits for the store closes the connection only once that Logout is written", async () => {
  // MsgSeqNum too low, not a PossDup: fatal, a Logout of its own — but ours is already out.
  await stopWithLogoutHeld((h) => h.acceptor.send(MsgType.Heartbeat, [], { seqNum: 1 }))
})

/**
 * egress stops while a Logout of its — `logOut` has it sent: an answer to the venue's, or its own — waits for the store:
 * it is written, once, then the connection closes. stop() disconnected at once once the connection was logging out,
 * and the Logout was dropped unwritten (reported not_written: a gap at the next Logon).
 */
async function stopWhileLoggingOut(logOut: (h: Awaited<ReturnType<typeof loggedOn>>) => void, text: string | undefined): Promise<void> {
  const { store, control } = slowStore()
  const h = await loggedOn({ reconnectDelayMsMin: 1_000 }, { store })
  control.hold = true
  logOut(h)
  await settle()
  const stopped = h.session.stop()
  await settle()
  expect(h.acceptor.connected).toBe(true)
  control.hold = false
  control.release()
  await stopped
  await settle()
  expect(h.acceptor.received.map((m) => [m.msgType, m.seqNum, m.get(Tag.Text)])).toEqual([[MsgType.Logon, 1, undefined], [MsgType.Logout, 2, text]])
  expect(h.acceptor.connected).toBe(false)
  expect(h.abandoned).toEqual([])
  expect(h.session.state).toBe('stopped')
}

test("egress stopping while its answer to the venue's Logout waits for the store writes that answer, then closes", async () => {
  await stopWhileLoggingOut((h) => h.acceptor.send(MsgType.Logout, [[Tag.Text, 'end of day']]), undefined)
})

test('egress stopping while its own Logout (MsgSeqNum too low) waits for the store writes that Logout, then closes', async () => {
  await stopWhileLoggingOut((h) => h.acceptor.send(MsgType.Heartbeat, [], { seqNum: 1 }), 'MsgSeqNum too low, expecting 2 but received 1')
})
