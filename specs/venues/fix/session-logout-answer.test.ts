/**
 * A Logout from the venue was "answered" with a Logout that never went out: the answer was queued behind the store's
 * save and the connection closed at once, and a write finds a closed connection and drops its message. The venue
 * waited out its logout timeout for the answer, and the number taken for it, never written, was a gap the venue asked
 * about at the next Logon — gap-filling (ending unknown) whatever egress sent right after logging on again. The answer
 * is now written before the connection closes; nothing else goes out meanwhile.
 */

import { expect, test } from 'bun:test'
import { MemoryFixSessionStore, type FixSeqNums } from '../../../src/venues/fix/store.ts'
import { MsgType, Tag } from '../../../src/venues/fix/tags.ts'
import { settle } from './fake-acceptor.ts'
import { loggedOn } from './session-harness.ts'

test("the venue's Logout is answered with a Logout before the connection closes; the next Logon's number follows it", async () => {
  const h = await loggedOn({ reconnectDelayMsMin: 1_000 })
  h.acceptor.send(MsgType.Logout, [[Tag.Text, 'end of day']])
  await settle()
  expect(h.acceptor.connected).toBe(false)
  expect(h.acceptor.received.map((m) => [m.msgType, m.seqNum])).toEqual([[MsgType.Logon, 1], [MsgType.Logout, 2]])
  expect(h.abandoned).toEqual([])
  await h.clock.advanceAsync(1_000)
  await settle()
  expect(h.session.state).toBe('active')
  // No number skipped: the venue has nothing to ask about, and nothing egress sends after this Logon is gap-filled.
  expect(h.acceptor.received.map((m) => m.seqNum)).toEqual([1, 2, 3])
})

test('while the answer waits for the store, nothing else is sent and the connection stays open; it closes once the answer is out', async () => {
  const store = new MemoryFixSessionStore()
  let release: (() => void) | null = null
  let holding = false
  const save = store.save.bind(store)
  store.save = (seqNums: FixSeqNums) => (holding ? new Promise<void>((resolve) => (release = () => resolve(save(seqNums)))) : save(seqNums))
  const h = await loggedOn({}, { store })
  holding = true
  h.acceptor.send(MsgType.Logout, [[Tag.Text, 'end of day']])
  await settle()
  expect(h.acceptor.connected).toBe(true)
  expect(h.session.send(MsgType.NewOrderSingle, [[Tag.ClOrdID, 'c1']]).kind).toBe('not_logged_on')
  holding = false
  ;(release as (() => void) | null)?.()
  await settle()
  expect(h.acceptor.received.map((m) => m.msgType)).toEqual([MsgType.Logon, MsgType.Logout])
  expect(h.acceptor.connected).toBe(false)
})
