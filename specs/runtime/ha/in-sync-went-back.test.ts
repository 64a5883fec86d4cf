/**
 * A member whose acknowledgement goes back (src/runtime/ha/in-sync.ts `went_back`): it acknowledged 500, restarted on an
 * older copy of its data directory under the same node id, and acknowledges 300. It lost records it had acknowledged as
 * durable: it falls out like a laggard (written out while another member covers; kept as the last one, the leader
 * `down`), its old 500 never counts again, and it comes back only the way any node joins. Before, the leader kept the
 * higher acknowledgement: the member stayed live and counted at 500, so an answer waiting at 400 for another member was
 * released on the strength of records the restarted member no longer held.
 */

import { describe, expect, test } from 'bun:test'
import type { LeaseInSyncMember } from '../../../wal/index.ts'
import { SyncReplication, type SyncOutcome } from '../../../src/runtime/ha/index.ts'

const EPOCH = 3

function leader() {
  let lastLsn = 10
  const published: LeaseInSyncMember[][] = []
  const wentBack: { nodeId: string; lsn: number; previousLsn: number }[] = []
  const sync = new SyncReplication({
    policy: 'fail_closed', epoch: EPOCH, timeoutMs: 60_000, waitersMax: 16, leaderLastLsn: () => lastLsn, nowMs: () => 1_000_000, onTransition: () => {},
    inSync: { carried: [], publish: (members) => void published.push(members) },
    onWentBack: (event) => void wentBack.push(event),
  })
  return {
    sync,
    published,
    wentBack,
    /** The renewal carrying the last published set succeeded. */
    written: () => sync.inSyncWritten(published.at(-1) ?? []),
    write: (lsn: number) => void (lastLsn = lsn),
    member: (nodeId: string) => sync.status().in_sync?.find((member) => member.node_id === nodeId),
  }
}

/** A wait's outcome so far (null: still waiting). */
function watch(promise: Promise<SyncOutcome>): () => SyncOutcome | null {
  let outcome: SyncOutcome | null = null
  void promise.then((value) => void (outcome = value))
  return () => outcome
}

const settled = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0))

describe('a member acknowledges less than it did (restarted on an older copy of its data directory)', () => {
  /** node-b and node-c members, the leader at 500; node-b acknowledged 500, node-c 350; an answer waits at 400. */
  function twoMembers() {
    const l = leader()
    l.sync.acknowledge(10, EPOCH, 'node-b')
    l.sync.acknowledge(10, EPOCH, 'node-c')
    l.written()
    expect(l.sync.state).toBe('sync')
    l.write(500)
    l.sync.acknowledge(500, EPOCH, 'node-b')
    l.sync.acknowledge(350, EPOCH, 'node-c')
    return { ...l, wait: watch(l.sync.wait(400)) }
  }

  test('it no longer counts: an answer waiting past what it holds now is not released by its old acknowledgement', async () => {
    const l = twoMembers()
    // node-b restarts on a copy ending at 300; node-c then reaches 400.
    l.sync.acknowledge(300, EPOCH, 'node-b')
    l.sync.acknowledge(400, EPOCH, 'node-c')
    await settled()
    expect(l.wait()).toBeNull()
    // Its next acknowledgements count as what it holds now, never as the old 500.
    l.sync.acknowledge(301, EPOCH, 'node-b')
    await settled()
    expect(l.wait()).toBeNull()
    expect(l.member('node-b')?.durable_lsn).toBe(301)
    expect(l.wentBack).toEqual([{ nodeId: 'node-b', lsn: 300, previousLsn: 500 }])
  })

  test('with another member covering it is written out, and the answer goes once the record without it is durable', async () => {
    const l = twoMembers()
    l.sync.acknowledge(300, EPOCH, 'node-b')
    expect(l.published.at(-1)).toEqual([{ nodeId: 'node-c', joinedLsn: 10 }])
    expect(l.member('node-b')).toEqual({ node_id: 'node-b', joined_lsn: 10, durable_lsn: 300, live: false, state: 'leaving' })
    l.sync.acknowledge(400, EPOCH, 'node-c')
    l.written()
    await settled()
    expect(l.wait()).toBe('replicated')
    expect(l.sync.state).toBe('sync')
    expect(l.sync.status().in_sync?.map((member) => member.node_id)).toEqual(['node-c'])
  })

  test('written out, it rejoins like any node once caught up: written into the record before its acknowledgements release anything', async () => {
    const l = twoMembers()
    l.sync.acknowledge(300, EPOCH, 'node-b')
    l.sync.acknowledge(400, EPOCH, 'node-c')
    l.written()
    expect(l.sync.status().in_sync?.map((member) => member.node_id)).toEqual(['node-c'])
    // Caught up again: the leader's end (500) at its first acknowledgement after going back.
    l.sync.acknowledge(500, EPOCH, 'node-b')
    expect(l.published.at(-1)).toEqual([{ nodeId: 'node-c', joinedLsn: 10 }, { nodeId: 'node-b', joinedLsn: 500 }])
    expect(l.member('node-b')?.state).toBe('joining')
    l.write(510)
    const next = watch(l.sync.wait(510))
    l.sync.acknowledge(510, EPOCH, 'node-c')
    await settled()
    expect(next()).toBeNull()
    l.written()
    l.sync.acknowledge(510, EPOCH, 'node-b')
    await settled()
    expect(next()).toBe('replicated')
    expect(l.member('node-b')?.state).toBe('member')
  })

  test('as the last member: it is kept, the leader goes down (answers stop) until it has caught up again', async () => {
    const l = leader()
    l.sync.acknowledge(10, EPOCH, 'node-b')
    l.written()
    l.write(500)
    l.sync.acknowledge(500, EPOCH, 'node-b')
    l.write(520)
    const wait = watch(l.sync.wait(520))
    const writes = l.published.length
    l.sync.acknowledge(300, EPOCH, 'node-b')
    expect(l.sync.state).toBe('down')
    expect(l.sync.refusal()).not.toBeNull()
    await settled()
    expect(wait()).toBe('timeout')
    expect(l.published.length).toBe(writes)
    expect(l.member('node-b')).toEqual({ node_id: 'node-b', joined_lsn: 10, durable_lsn: 300, live: false, state: 'member' })
    // Past its old 500 but short of the leader's end: still down.
    l.sync.acknowledge(510, EPOCH, 'node-b')
    expect(l.sync.state).toBe('down')
    l.sync.acknowledge(520, EPOCH, 'node-b')
    expect(l.sync.state).toBe('sync')
    expect(l.member('node-b')).toEqual({ node_id: 'node-b', joined_lsn: 10, durable_lsn: 520, live: true, state: 'member' })
  })

  test('the same LSN again is no going back; acknowledgements without a node id (maybe several old standbys) are exempt', () => {
    const l = leader()
    l.sync.acknowledge(10, EPOCH, 'node-b')
    l.written()
    l.sync.acknowledge(10, EPOCH, 'node-b')
    expect(l.sync.state).toBe('sync')
    l.write(20)
    l.sync.acknowledge(20, EPOCH)
    l.sync.acknowledge(15, EPOCH)
    expect(l.wentBack).toEqual([])
    expect(l.sync.status().in_sync?.find((member) => member.node_id === null)?.durable_lsn).toBe(20)
  })
})
