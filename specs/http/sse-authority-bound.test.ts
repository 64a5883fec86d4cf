/**
 * The hub's look at its streams' authority each heartbeat (hub.ts): an expired token ends its stream with no check, an
 * unchanged one is not checked, and of the streams whose token needs a check at most authorityChecksPerHeartbeatMax
 * start per heartbeat, the ones not yet checked first. Before, every heartbeat checked every stream at once.
 */

import { expect, test } from 'bun:test'
import type { Engine } from '../../src/runtime/engine.ts'
import { authorityChecksPerHeartbeat, SseHub, type StreamAuthority } from '../../src/http/sse/index.ts'

/** Just what a live stream needs of the engine: the log's end, and durable events (none here). */
function quietEngine(): Engine {
  return { onDurable: () => () => {}, wal: { lastLsn: 0, firstLsn: 1 }, state: { orders: new Map() } } as unknown as Engine
}

class FakeAuthority implements StreamAuthority {
  now: 'held' | 'expired' | 'recheck' = 'recheck'
  checks = 0
  state(): 'held' | 'expired' | 'recheck' {
    return this.now
  }
  check(): Promise<boolean> {
    this.checks++
    this.now = 'held'
    return Promise.resolve(true)
  }
}

test('at most authorityChecksPerHeartbeatMax checks start per heartbeat, each stream in turn; an expired token ends its stream unchecked', async () => {
  const disconnects: string[] = []
  // A heartbeat timer that never fires here: the spec runs each heartbeat itself.
  const hub = new SseHub({ engine: quietEngine(), heartbeatMs: 3_600_000, bufferEventsMax: 16, subscribersMax: 16, authorityChecksPerHeartbeatMax: 3, onDisconnect: (reason) => void disconnects.push(reason) })
  const authorities = Array.from({ length: 8 }, () => new FakeAuthority())
  for (const authority of authorities) expect(hub.open({ kind: 'account', accountId: 'demo-1' }, null, authority).ok).toBe(true)
  const checked = (): number[] => authorities.map((authority) => authority.checks)
  hub.heartbeat()
  expect(checked()).toEqual([1, 1, 1, 0, 0, 0, 0, 0])
  await Bun.sleep(0)
  hub.heartbeat()
  expect(checked()).toEqual([1, 1, 1, 1, 1, 1, 0, 0])
  await Bun.sleep(0)
  hub.heartbeat()
  expect(checked()).toEqual([1, 1, 1, 1, 1, 1, 1, 1])
  await Bun.sleep(0)
  // Nothing changed: no check at all.
  hub.heartbeat()
  hub.heartbeat()
  expect(checked()).toEqual([1, 1, 1, 1, 1, 1, 1, 1])
  // A key-set change asks every one again, the bound holding.
  for (const authority of authorities) authority.now = 'recheck'
  hub.heartbeat()
  expect(checked().reduce((sum, count) => sum + count, 0)).toBe(8 + 3)
  // An expired token: its stream ends at the next heartbeat, without a check.
  const expired = authorities[7] as FakeAuthority
  await Bun.sleep(0)
  const before = expired.checks
  expired.now = 'expired'
  hub.heartbeat()
  expect(expired.checks).toBe(before)
  expect(disconnects).toEqual(['unauthenticated'])
  expect(hub.subscriberCount).toBe(7)
  hub.close()
})

test('the bound re-checks every stream within the reload interval: the subscribers spread over its heartbeats', () => {
  expect(authorityChecksPerHeartbeat({ subscribersMax: 1_024, heartbeatMs: 5_000, windowMs: 30_000 })).toBe(171)
  expect(authorityChecksPerHeartbeat({ subscribersMax: 1_024, heartbeatMs: 5_000, windowMs: 1_000 })).toBe(1_024)
  expect(authorityChecksPerHeartbeat({ subscribersMax: 10, heartbeatMs: 100, windowMs: 60_000 })).toBe(1)
})
