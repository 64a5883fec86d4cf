/**
 * What waits on the write chain for the store's save (a number is saved before a message carrying it is written) is
 * bounded as the socket's buffer is, by writeBufferBytesMax: a venue sending TestRequests (each answered with a
 * Heartbeat) or messages drawing a Reject while a save was slow queued an answer per message, without bound, since
 * the bound was looked at only once a message reached the socket. Past it the session disconnects, as for a peer that
 * does not read; nothing queued is written.
 */

import { expect, test } from 'bun:test'
import { MsgType, Tag } from '../../../src/venues/fix/tags.ts'
import { settle } from './fake-acceptor.ts'
import { loggedOn, slowStore } from './session-harness.ts'

test('TestRequests flooding in while a save is slow: past writeBufferBytesMax of answers waiting the session disconnects, and writes none of them', async () => {
  const { store, control } = slowStore()
  const h = await loggedOn({ writeBufferBytesMax: 64 * 1024 }, { store })
  control.hold = true
  let sent = 0
  // Each answer is a Heartbeat of about 100 bytes: 64 KiB of them is some 650.
  while (h.acceptor.connected && sent < 5_000) h.acceptor.send(MsgType.TestRequest, [[Tag.TestReqID, `probe-${sent++}`]])
  await settle()
  expect(sent).toBeLessThan(5_000)
  expect(h.session.state).not.toBe('active')
  expect(h.logs.some((record) => record.message.includes('writeBufferBytesMax'))).toBe(true)
  control.hold = false
  control.release()
  await settle()
  expect(h.acceptor.received.filter((message) => message.get(Tag.TestReqID)?.startsWith('probe-') === true)).toEqual([])
})

test('answers waiting for a slow save within the bound are all written once it comes through', async () => {
  const { store, control } = slowStore()
  const h = await loggedOn({ writeBufferBytesMax: 64 * 1024 }, { store })
  control.hold = true
  for (let index = 0; index < 50; index++) h.acceptor.send(MsgType.TestRequest, [[Tag.TestReqID, `probe-${index}`]])
  await settle()
  expect(h.session.state).toBe('active')
  control.hold = false
  control.release()
  await settle()
  expect(h.acceptor.received.filter((message) => message.get(Tag.TestReqID)?.startsWith('probe-') === true).length).toBe(50)
  expect(h.session.state).toBe('active')
})
