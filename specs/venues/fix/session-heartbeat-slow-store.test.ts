/**
 * A Heartbeat is due when nothing went out for a heartbeat interval — but a message waiting for the store's save (a
 * number is saved before it is written) is going out. While a save was slow, every tick found nothing written for an
 * interval and queued another Heartbeat, each taking a number: a queue growing with the save's wait, sent in one burst
 * when the save came through (61 Heartbeats after a 90 s wait).
 */

import { expect, test } from 'bun:test'
import { MsgType } from '../../../src/venues/fix/tags.ts'
import { settle } from './fake-acceptor.ts'
import { loggedOn, slowStore } from './session-harness.ts'

test('while a save is slow one Heartbeat waits for it, not one per tick: it goes out once the save comes through', async () => {
  const { store, control } = slowStore()
  const h = await loggedOn({ heartbeatIntervalSeconds: 30 }, { store })
  control.hold = true
  for (let second = 0; second < 90; second++) {
    await h.clock.advanceAsync(1_000)
    h.acceptor.send(MsgType.Heartbeat, []) // the venue is alive: no TestRequest
    await settle()
  }
  expect(h.acceptor.received.map((m) => m.msgType)).toEqual([MsgType.Logon])
  control.hold = false
  control.release()
  await settle()
  expect(h.acceptor.received.map((m) => [m.msgType, m.seqNum])).toEqual([[MsgType.Logon, 1], [MsgType.Heartbeat, 2]])
  // Heartbeats go on as before once the store keeps up.
  await h.clock.advanceAsync(30_000)
  await settle()
  expect(h.acceptor.received.map((m) => [m.msgType, m.seqNum])).toEqual([[MsgType.Logon, 1], [MsgType.Heartbeat, 2], [MsgType.Heartbeat, 3]])
  expect(h.session.state).toBe('active')
})
