/**
 * degrade_async with an in-sync set (src/runtime/ha/sync.ts, in-sync.ts): an answer or a venue send that goes out
 * after its wait timed out is unconfirmed by some member, so the leader must be `down` — the window on record
 * (ha.replication_degraded) — even when the members that lagged leave the set because another one covers. Staying
 * `sync` there broke the documented guarantee "RPO 0 while ha.sync.state is sync": the laggard stays in the lease
 * record until the record without it is durable, and as a member it may take over without the answered write.
 */

import { expect, test } from 'bun:test'
import type { LeaseInSyncMember } from '../../../wal/index.ts'
import { SyncReplication, type SyncTransition } from '../../../src/runtime/ha/index.ts'

const EPOCH = 3

function leader() {
  let lastLsn = 10
  const published: LeaseInSyncMember[][] = []
  const transitions: SyncTransition[] = []
  const sync = new SyncReplication({
    policy: 'degrade_async', epoch: EPOCH, timeoutMs: 30, waitersMax: 16, leaderLastLsn: () => lastLsn, nowMs: () => 1_000_000, onTransition: (transition) => void transitions.push(transition),
    inSync: { carried: [], publish: (members) => void published.push(members) },
  })
  sync.acknowledge(10, EPOCH, 'node-b')
  sync.acknowledge(10, EPOCH, 'node-c')
  sync.inSyncWritten(published.at(-1) ?? [])
  return { sync, published, transitions, write: (lsn: number) => void (lastLsn = lsn) }
}

test('a 202 answered unwaited after a member lagged puts the leader down (on record), though another member covers', async () => {
  const l = leader()
  expect(l.sync.state).toBe('sync')
  expect(l.published.at(-1)?.map((member) => member.nodeId)).toEqual(['node-b', 'node-c'])
  l.write(12)
  const answer = l.sync.wait(12)
  // node-b holds 12, node-c (still in the durable record) does not: the wait times out and the answer goes unwaited.
  l.sync.acknowledge(12, EPOCH, 'node-b')
  expect(await answer).toBe('not_waited')
  expect(l.sync.state).toBe('down')
  expect(l.transitions.at(-1)?.state).toBe('down')
  // node-c is written out; once that record is durable and node-b acknowledges, the leader is restored.
  expect(l.published.at(-1)?.map((member) => member.nodeId)).toEqual(['node-b'])
  l.sync.inSyncWritten(l.published.at(-1) ?? [])
  l.sync.acknowledge(12, EPOCH, 'node-b')
  expect(l.sync.state).toBe('sync')
})

test('a venue send let out unconfirmed after a member lagged puts the leader down too', async () => {
  const l = leader()
  l.write(12)
  const verdict = l.sync.untilReplicated(12)
  l.sync.acknowledge(12, EPOCH, 'node-b')
  expect(await verdict).toBe('send')
  expect(l.sync.state).toBe('down')
})
