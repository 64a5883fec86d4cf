/**
 * The in-sync set a taker carries into its new record (wal/lease-floor.ts, lease-in-sync.ts carriedInSync): each
 * member's join LSN is an LSN of the log it joined in. A taker whose log ends below it (it was the other member, behind
 * — the old leader answered nothing beyond the taker's log, every answer waited for every member) starts a new history
 * there; carried unchanged, that LSN held the member to records this history may never reach (the member set its
 * diverged tail aside and follows the taker), and once the taker was lost too, the member that holds everything it
 * acknowledged was refused (LEASE_LOG_BEHIND) and no node but the lost one could lead without --accept-data-loss.
 */

import { afterEach, expect, test } from 'bun:test'
import { Lease, readCurrentLease } from '../../wal/index.ts'
import { removeTempDirs, tempDir } from './support.ts'

afterEach(removeTempDirs)

test("a member's join LSN beyond the taker's log end is carried as the taker's log end: the member that followed the taker can take over from it", () => {
  const dir = tempDir()
  let nowMs = 1_000_000
  const clock = { nowMs: () => nowMs }
  // Leader node-l: node-a joined at 80, node-b at 100 (node-b acknowledged further); its floor says 80.
  const l = Lease.acquire({ dir, holderId: 'node-l http://l', ttlMs: 1000, clockSkewMsMax: 100, ...clock })
  l.setInSync([{ nodeId: 'node-a', joinedLsn: 80 }, { nodeId: 'node-b', joinedLsn: 100 }])
  l.noteReplicated(80)
  l.renew()
  nowMs += 1200
  // node-a, a member whose log ends at 90 (everything node-l answered), takes over.
  Lease.acquire({ dir, holderId: 'node-a http://a', nodeId: 'node-a', ttlMs: 1000, clockSkewMsMax: 100, ...clock, logEndLsn: () => 90 })
  expect(readCurrentLease(dir)?.inSync).toEqual([{ nodeId: 'node-b', joinedLsn: 90 }])
  nowMs += 1200
  // node-b set its tail beyond 90 aside, followed node-a, acknowledged its log to 95; node-a is lost.
  const b = Lease.acquire({ dir, holderId: 'node-b http://b', nodeId: 'node-b', ttlMs: 1000, clockSkewMsMax: 100, ...clock, logEndLsn: () => 95 })
  expect(b.epoch).toBe(3)
  expect(b.dataLossAccepted).toBeNull()
})

test('a join LSN at or below the taker\'s log end is carried unchanged', () => {
  const dir = tempDir()
  let nowMs = 1_000_000
  const clock = { nowMs: () => nowMs }
  const l = Lease.acquire({ dir, holderId: 'node-l http://l', ttlMs: 1000, clockSkewMsMax: 100, ...clock })
  l.setInSync([{ nodeId: 'node-a', joinedLsn: 80 }, { nodeId: 'node-b', joinedLsn: 70 }])
  l.renew()
  nowMs += 1200
  Lease.acquire({ dir, holderId: 'node-a http://a', nodeId: 'node-a', ttlMs: 1000, clockSkewMsMax: 100, ...clock, logEndLsn: () => 90 })
  expect(readCurrentLease(dir)?.inSync).toEqual([{ nodeId: 'node-b', joinedLsn: 70 }])
})
