/**
 * The live feed looks up the account of an order the kernel no longer holds in the log (hub.ts accountLookup, through
 * LogIndex.accountOf). That lookup throws while the log index is still being built after a restart (a log past
 * LOG_INDEX_SYNC_FRAMES_MAX_DEFAULT frames: LogIndex.requireComplete, ApiError UNAVAILABLE) or when the log cannot be
 * read. Thrown from the engine's durable listener, it cut the whole batch short: every stream after the account stream
 * in the hub's order, whatever its scope, silently missed the batch (no event, no disconnect), and the account stream
 * itself went on past events it never judged. Now the account stream whose lookup failed ends with `log_unavailable`
 * (its client resumes with Last-Event-ID, and the replay waits for the index), and every other stream gets the batch.
 */

import { expect, test } from 'bun:test'
import type { DomainEvent } from '../../src/domain/events/index.ts'
import { ApiError } from '../../src/http/errors.ts'
import { SseHub } from '../../src/http/sse/index.ts'
import { engineWithFeed } from './sse-feed.ts'

async function textOf(stream: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stream.getReader()
  const decoder = new TextDecoder()
  let text = ''
  for (;;) {
    const { done, value } = await reader.read()
    if (done) return text
    text += decoder.decode(value)
  }
}

test('a failed account lookup ends only its own stream (log_unavailable); the other streams still get the batch', async () => {
  const { engine, publish } = engineWithFeed()
  const disconnects: string[] = []
  const hub = new SseHub({
    engine,
    heartbeatMs: 3_600_000,
    bufferEventsMax: 16,
    subscribersMax: 16,
    onDisconnect: (reason) => void disconnects.push(reason),
    // As LogIndex.accountOf answers while its background part is still being indexed.
    retiredOrderAccountOf: (orderId) => {
      throw new ApiError('UNAVAILABLE', 'order history is still being indexed after the restart; retry shortly', { details: { order_id: orderId } })
    },
  })
  // The account stream first: the hub hands a batch to its streams in the order they were opened.
  const account = hub.open({ kind: 'account', accountId: 'demo-1' }, null)
  const global = hub.open({ kind: 'global' }, null)
  if (!account.ok || !global.ok) throw new Error('streams not opened')
  const canceled = { type: 'order.canceled', orderId: 'retired-1' } as unknown as DomainEvent
  expect(() => publish([{ event: canceled, lsn: 1 }])).not.toThrow()
  expect(disconnects).toEqual(['log_unavailable'])
  expect(hub.subscriberCount).toBe(1)
  hub.close()
  const globalText = await textOf(global.stream)
  expect(globalText).toContain('id: 1\nevent: order.canceled')
  const accountText = await textOf(account.stream)
  expect(accountText).not.toContain('event: order.canceled')
  expect(accountText).toContain('"reason":"log_unavailable"')
})
