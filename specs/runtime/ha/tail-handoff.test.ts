/**
 * The wait of a leader's planned stop for its standbys to hold its closed log's last LSN (src/runtime/ha/tail-handoff.ts
 * handTail), on a SyncReplication fed acknowledgements by hand: it ends as soon as every connected standby holds the
 * LSN, is bounded when one does not, and does not wait at all with none connected. The process-level case (a real
 * leader and standby, SIGTERM) is planned-stop-tail.test.ts.
 */

import { expect, test } from 'bun:test'
import { SyncReplication, type SyncPolicy } from '../../../src/runtime/ha/sync.ts'
import { handTail } from '../../../src/runtime/ha/tail-handoff.ts'

const EPOCH = 3

function syncOf(policy: SyncPolicy, lastLsn: () => number): SyncReplication {
  return new SyncReplication({ policy, epoch: EPOCH, timeoutMs: 1_000, waitersMax: 8, leaderLastLsn: lastLsn, nowMs: Date.now, onTransition: () => {} })
}

test.each(['off', 'fail_closed'] as const)('%s: waits for the connected standby to acknowledge the last LSN, then says so', async (policy) => {
  const sync = syncOf(policy, () => 40)
  sync.acknowledge(30, EPOCH, 'node-b')
  // The stop closed the term's replication before its gateway stopped: acknowledgements still count.
  sync.close()
  const lines: string[] = []
  const startedMs = Date.now()
  setTimeout(() => sync.acknowledge(35, EPOCH, 'node-b'), 20)
  setTimeout(() => sync.acknowledge(40, EPOCH, 'node-b'), 60)
  await handTail(sync, 40, { connectedWithinMs: 2_000, waitMsMax: 2_000, log: (line) => lines.push(line) })
  const elapsedMs = Date.now() - startedMs
  expect(elapsedMs).toBeGreaterThanOrEqual(50)
  expect(elapsedMs).toBeLessThan(1_000)
  expect(lines).toHaveLength(1)
  expect(lines[0]).toStartWith('stop: handed the tail to the standby through LSN 40 (standby node-b, ')
  expect(sync.onAcknowledged).toBeNull()
})

test('a standby that does not acknowledge the last LSN is waited for no longer than the bound', async () => {
  const sync = syncOf('off', () => 40)
  sync.acknowledge(38, EPOCH, 'node-b')
  const lines: string[] = []
  const startedMs = Date.now()
  await handTail(sync, 40, { connectedWithinMs: 2_000, waitMsMax: 150, log: (line) => lines.push(line) })
  const elapsedMs = Date.now() - startedMs
  expect(elapsedMs).toBeGreaterThanOrEqual(140)
  expect(elapsedMs).toBeLessThan(1_000)
  expect(lines).toEqual(['stop: the standby did not confirm LSN 40 within 150 ms (standby node-b at LSN 38); releasing the lease all the same'])
})

test('with no standby connected (none acknowledged, or not within the window) it does not wait', async () => {
  const lines: string[] = []
  const none = syncOf('degrade_async', () => 12)
  let startedMs = Date.now()
  await handTail(none, 12, { connectedWithinMs: 2_000, waitMsMax: 5_000, log: (line) => lines.push(line) })
  expect(Date.now() - startedMs).toBeLessThan(100)
  let nowMs = 1_000_000
  const gone = new SyncReplication({ policy: 'off', epoch: EPOCH, timeoutMs: 1_000, waitersMax: 8, leaderLastLsn: () => 12, nowMs: () => nowMs, onTransition: () => {} })
  gone.acknowledge(10, EPOCH, 'node-b')
  nowMs += 2_001
  startedMs = Date.now()
  await handTail(gone, 12, { connectedWithinMs: 2_000, waitMsMax: 5_000, log: (line) => lines.push(line) })
  expect(Date.now() - startedMs).toBeLessThan(100)
  expect(lines).toEqual(['stop: no standby connected; the log ends at LSN 12, not waiting for one', 'stop: no standby connected; the log ends at LSN 12, not waiting for one'])
})
