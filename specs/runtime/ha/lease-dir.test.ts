import { afterEach, expect, test } from 'bun:test'
import { Lease } from '../../../wal/index.ts'
import { leaderUrlIn } from '../../../src/runtime/ha/lease-dir.ts'
import { removeTempDirs, tempDir } from '../../wal/support.ts'

afterEach(removeTempDirs)

/**
 * The holder id is `<node id> <advertised URL>`, and the node id is whatever `--node-id` says. The URL was taken as
 * the second space-separated word: a node id with a space in it ("rack 1 a") named "1" as the leader's URL, so every
 * standby pulled from a URL that does not exist, for good, and could never follow the leader.
 */
test("the leader's URL is the holder id's last word, whatever the node id holds", () => {
  const leaseDir = tempDir('egress-lease-')
  const access = { leaseDir, leaseTtlMs: 60_000, clockSkewMsMax: 10 }
  const lease = Lease.acquire({ dir: leaseDir, holderId: 'rack 1 node a http://10.0.0.7:8080', ttlMs: 60_000, clockSkewMsMax: 10 })
  expect(leaderUrlIn(access)).toBe('http://10.0.0.7:8080')
  lease.release()
  // Released (expired at once): no leader is named.
  expect(leaderUrlIn(access)).toBeNull()
  Lease.acquire({ dir: leaseDir, holderId: 'host-b http://10.0.0.8:8080', ttlMs: 60_000, clockSkewMsMax: 10 })
  expect(leaderUrlIn(access)).toBe('http://10.0.0.8:8080')
})
