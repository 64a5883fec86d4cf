/**
 * The leader's in-sync set (src/runtime/ha/in-sync.ts, sync.ts): every write waits for every member; a node's
 * acknowledgements count once a lease record naming it is durable (`inSync.publish`, then `inSyncWritten`); a member
 * that falls out is written out only while another member covers (the last one is kept); acknowledgements without a
 * node id (a standby build before node ids) count as one unnamed member. The lease is played by the spec: `published`
 * is what the leader asked to write, `written()` says the renewal succeeded.
 */

import { describe, expect, test } from 'bun:test'
import type { LeaseInSyncMember } from '../../../wal/index.ts'
import { SyncReplication, type SyncOutcome, type SyncPolicy } from '../../../src/runtime/ha/index.ts'

const EPOCH = 3

function leader(options: { carried?: LeaseInSyncMember[]; policy?: SyncPolicy } = {}) {
  let lastLsn = 10
  let nowMs = 1_000_000
  const published: LeaseInSyncMember[][] = []
  const sync = new SyncReplication({
    policy: options.policy ?? 'fail_closed', epoch: EPOCH, timeoutMs: 60_000, waitersMax: 16, leaderLastLsn: () => lastLsn, nowMs: () => nowMs, onTransition: () => {},
    inSync: { carried: options.carried ?? [], publish: (members) => void published.push(members) },
  })
  return {
    sync,
    published,
    /** The renewal carrying the last published set succeeded. */
    written: () => sync.inSyncWritten(published.at(-1) ?? []),
    write: (lsn: number) => void (lastLsn = lsn),
    advance: (ms: number) => void (nowMs += ms),
  }
}

/** A wait's outcome so far (null: still waiting). */
function watch(promise: Promise<SyncOutcome>): () => SyncOutcome | null {
  let outcome: SyncOutcome | null = null
  void promise.then((value) => void (outcome = value))
  return () => outcome
}

const settled = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0))

describe('a node joins the in-sync set through the lease', () => {
  test('its acknowledgements release nothing until a lease record naming it is durable', async () => {
    const l = leader()
    expect(l.sync.acknowledge(10, EPOCH, 'node-b')).toBe(true)
    expect(l.published).toEqual([[{ nodeId: 'node-b', joinedLsn: 10 }]])
    // Caught up, but not in the lease yet: new orders are still refused, nothing counts as replicated.
    expect(l.sync.state).toBe('down')
    expect(l.sync.refusal()).not.toBeNull()
    expect(l.sync.standbyDurableLsn).toBe(0)
    expect(l.sync.status().in_sync).toEqual([{ node_id: 'node-b', joined_lsn: 10, durable_lsn: 10, live: true, state: 'joining' }])
    l.written()
    expect(l.sync.state).toBe('sync')
    expect(l.sync.refusal()).toBeNull()
    expect(l.sync.standbyDurableLsn).toBe(10)
    expect(l.sync.status().in_sync?.[0]?.state).toBe('member')
  })

  test('a second node acknowledging first does not release a write the member has not acknowledged', async () => {
    const l = leader()
    l.sync.acknowledge(10, EPOCH, 'node-b')
    l.written()
    l.write(12)
    const wait = watch(l.sync.wait(12))
    // node-c, caught up, acknowledges 12 before node-b: it is joining (written into the lease), and waited for.
    l.sync.acknowledge(12, EPOCH, 'node-c')
    await settled()
    expect(wait()).toBeNull()
    expect(l.published.at(-1)).toEqual([{ nodeId: 'node-b', joinedLsn: 10 }, { nodeId: 'node-c', joinedLsn: 12 }])
    l.written()
    await settled()
    expect(wait()).toBeNull()
    // Only once every member holds it.
    l.sync.acknowledge(12, EPOCH, 'node-b')
    await settled()
    expect(wait()).toBe('replicated')
    expect(l.sync.standbyDurableLsn).toBe(12)
  })

  test('the third node: a lagging standby behind the answered LSN never joins, so the lease never names it', async () => {
    const l = leader()
    l.sync.acknowledge(10, EPOCH, 'node-b')
    l.written()
    l.write(20)
    const wait = watch(l.sync.wait(20))
    l.sync.acknowledge(20, EPOCH, 'node-b')
    await settled()
    expect(wait()).toBe('replicated')
    // node-c first acknowledges at 15, below what was answered: not caught up, not in the set.
    l.sync.acknowledge(15, EPOCH, 'node-c')
    expect(l.published.at(-1)).toEqual([{ nodeId: 'node-b', joinedLsn: 10 }])
    expect(l.sync.status().in_sync?.map((member) => member.node_id)).toEqual(['node-b'])
  })
})

describe('a member falls out', () => {
  test('it is written out while another member covers, and holds writes back until that record is durable', async () => {
    const l = leader()
    l.sync.acknowledge(10, EPOCH, 'node-b')
    l.sync.acknowledge(10, EPOCH, 'node-c')
    l.written()
    expect(l.published.at(-1)?.map((member) => member.nodeId)).toEqual(['node-b', 'node-c'])
    l.write(12)
    const wait = watch(l.sync.wait(12))
    // node-c goes silent past the timeout; node-b keeps acknowledging.
    l.advance(40_000)
    l.sync.acknowledge(12, EPOCH, 'node-b')
    l.advance(30_000)
    l.sync.check()
    expect(l.published.at(-1)).toEqual([{ nodeId: 'node-b', joinedLsn: 10 }])
    await settled()
    expect(wait()).toBeNull()
    expect(l.sync.status().in_sync?.find((member) => member.node_id === 'node-c')?.state).toBe('leaving')
    l.written()
    await settled()
    expect(wait()).toBe('replicated')
    expect(l.sync.state).toBe('sync')
  })

  test('the last member is kept: the leader goes down (fail_closed refuses) rather than leave the lease naming no one', () => {
    const l = leader()
    l.sync.acknowledge(10, EPOCH, 'node-b')
    l.written()
    const writes = l.published.length
    l.advance(70_000)
    l.sync.check()
    expect(l.sync.state).toBe('down')
    expect(l.sync.refusal()).not.toBeNull()
    expect(l.published.length).toBe(writes)
    expect(l.sync.status().in_sync).toEqual([{ node_id: 'node-b', joined_lsn: 10, durable_lsn: 10, live: false, state: 'member' }])
  })

  test('a member carried over from the last term that never comes back is replaced once a new node has joined', () => {
    const l = leader({ carried: [{ nodeId: 'node-a', joinedLsn: 4 }] })
    expect(l.sync.state).toBe('down')
    l.sync.acknowledge(10, EPOCH, 'node-c')
    // One record swaps them: node-c in, node-a out.
    expect(l.published.at(-1)).toEqual([{ nodeId: 'node-c', joinedLsn: 10 }])
    expect(l.sync.state).toBe('down')
    l.written()
    expect(l.sync.state).toBe('sync')
    expect(l.sync.standbyDurableLsn).toBe(10)
  })
})

describe('a rolling upgrade', () => {
  test('acknowledgements without a node id count as one unnamed member, written into the lease like any other', () => {
    const l = leader()
    expect(l.sync.acknowledge(10, EPOCH)).toBe(true)
    expect(l.published).toEqual([[{ nodeId: '', joinedLsn: 10 }]])
    expect(l.sync.state).toBe('down')
    l.written()
    expect(l.sync.state).toBe('sync')
    expect(l.sync.status().in_sync).toEqual([{ node_id: null, joined_lsn: 10, durable_lsn: 10, live: true, state: 'member' }])
  })

  test('under off no set is kept: the highest acknowledgement counts, and nothing is written into the lease', () => {
    const l = leader({ policy: 'off' })
    l.sync.acknowledge(10, EPOCH, 'node-b')
    l.sync.acknowledge(7, EPOCH, 'node-c')
    expect(l.published).toEqual([])
    expect(l.sync.standbyDurableLsn).toBe(10)
    expect(l.sync.status().in_sync).toBeNull()
  })
})
