/**
 * A disconnect closed the transport only once the connection's write chain had run, and the chain waits for the store's
 * save: with a save hanging, the old TCP connection stayed open while the session reconnected — two connections to the
 * venue at once, the old one still able to carry the message waiting for its save. Nothing queued is written after a
 * disconnect anyway (a write finds the connection closed), so the transport now closes at once; a graceful Logout is
 * written before the session disconnects (session-handshake.ts), its wait bounded by logoutTimeoutMs.
 */

import { expect, test } from 'bun:test'
import { MsgType, Tag } from '../../../src/venues/fix/tags.ts'
import type { FixConnect } from '../../../src/venues/fix/transport.ts'
import { FakeAcceptor, settle } from './fake-acceptor.ts'
import { loggedOn, slowStore } from './session-harness.ts'

/** The acceptor's connect, counting the transports egress holds open (closed by egress or by the peer). */
function countingConnect(acceptor: FakeAcceptor): { connect: FixConnect; open: Set<number>; openMax: () => number } {
  const open = new Set<number>()
  let openMax = 0
  let count = 0
  const connect: FixConnect = (target, events) => {
    const id = ++count
    open.add(id)
    openMax = Math.max(openMax, open.size)
    const transport = acceptor.connect(target, { ...events, onClose: (error) => (open.delete(id), events.onClose(error)) })
    return { write: (bytes) => transport.write(bytes), close: () => (open.delete(id), transport.close()) }
  }
  return { connect, open, openMax: () => openMax }
}

test('a disconnect while a save hangs closes the old transport before the session reconnects; the waiting message is never written', async () => {
  const { store, control } = slowStore()
  const acceptor = new FakeAcceptor()
  const counted = countingConnect(acceptor)
  const h = await loggedOn({ heartbeatIntervalSeconds: 30, reconnectDelayMsMin: 500, connect: counted.connect }, { store, acceptor })
  control.hold = true
  const ticket = h.session.send(MsgType.NewOrderSingle, [[Tag.ClOrdID, 'c1']])
  expect(ticket.kind).toBe('queued')
  // The venue goes silent: a TestRequest (waiting for the save too) and, a heartbeat interval later, the disconnect.
  await h.clock.advanceAsync(36_000)
  await settle()
  await h.clock.advanceAsync(30_000)
  await settle()
  expect(h.logs.some((r) => r.event === 'fix.disconnected' && /no answer to TestRequest/.test(r.message))).toBe(true)
  expect(counted.open.size).toBe(0)
  // The reconnect opens a new transport only: one connection to the venue at a time.
  await h.clock.advanceAsync(1_000)
  await settle()
  expect(h.acceptor.connections).toBe(2)
  expect(counted.openMax()).toBe(1)
  control.hold = false
  control.release()
  await settle()
  // The order waiting for its save was never written, on the old connection or the new one: abandoned, not written.
  expect(h.acceptor.ofType(MsgType.NewOrderSingle)).toEqual([])
  expect(ticket.kind === 'queued' && (await ticket.written)).toBe(false)
  expect(h.abandoned).toContainEqual({ beginSeqNum: ticket.kind === 'queued' ? ticket.seqNum : -1, endSeqNum: ticket.kind === 'queued' ? ticket.seqNum : -1, cause: 'not_written' })
  expect(h.session.state).toBe('active')
  expect(counted.open.size).toBe(1)
})

test("stop() while a save holds our Logout closes the transport at logoutTimeoutMs, before it resolves", async () => {
  const { store, control } = slowStore()
  const acceptor = new FakeAcceptor()
  const counted = countingConnect(acceptor)
  const h = await loggedOn({ logoutTimeoutMs: 2_000, connect: counted.connect }, { store, acceptor })
  control.hold = true
  let stopped = false
  void h.session.stop().then(() => (stopped = true))
  await settle()
  expect(counted.open.size).toBe(1)
  await h.clock.advanceAsync(3_000)
  await settle()
  expect(stopped).toBe(true)
  expect(counted.open.size).toBe(0)
  control.hold = false
  control.release()
  await settle()
  expect(h.acceptor.ofType(MsgType.Logout)).toEqual([])
})
