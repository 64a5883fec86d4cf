/**
 * What the leader hands the lease (src/runtime/ha/in-sync.ts `publish`) is the set it wants, always: the next renewal
 * writes the last set handed. A node that joined (handed: [b, c]) and fell out again before that record was durable
 * left the wanted set equal to the durable one ([b]) — and nothing was handed, so the renewal wrote [b, c]: a record
 * naming a node that had fallen out (a member a taker is judged by), and, once durable, holding every answer back for
 * that node until yet another renewal wrote it out.
 */

import { expect, test } from 'bun:test'
import type { LeaseInSyncMember } from '../../../wal/index.ts'
import { SyncReplication } from '../../../src/runtime/ha/index.ts'

const EPOCH = 3

test('a node that joins and falls out before the record naming it is durable is handed back out: the next renewal writes the set without it', () => {
  let nowMs = 1_000_000
  const published: LeaseInSyncMember[][] = []
  const sync = new SyncReplication({
    policy: 'fail_closed', epoch: EPOCH, timeoutMs: 60_000, waitersMax: 16, leaderLastLsn: () => 10, nowMs: () => nowMs, onTransition: () => {},
    inSync: { carried: [], publish: (members) => void published.push(members) },
  })
  sync.acknowledge(10, EPOCH, 'node-b')
  sync.inSyncWritten(published.at(-1) ?? [])
  sync.acknowledge(10, EPOCH, 'node-c')
  expect(published.at(-1)?.map((member) => member.nodeId)).toEqual(['node-b', 'node-c'])
  // node-c goes silent before the renewal; node-b keeps acknowledging.
  nowMs += 40_000
  sync.acknowledge(10, EPOCH, 'node-b')
  nowMs += 30_000
  sync.check()
  expect(sync.status().in_sync?.map((member) => member.node_id)).toEqual(['node-b'])
  // What the next renewal writes: the wanted set, not the one with node-c.
  expect(published.at(-1)).toEqual([{ nodeId: 'node-b', joinedLsn: 10 }])
  sync.inSyncWritten(published.at(-1) ?? [])
  expect(sync.state).toBe('sync')
})
