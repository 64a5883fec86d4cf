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

/**
 * The lease file comes from another host (a shared directory): the URL in its holder id was used as it was — fetched
 * with the replication token attached by every standby, and handed to clients in NOT_LEADER — whatever it held. Only
 * a node's base URL (absolute http(s), no credentials, query or fragment) names a leader now, as `egress backup` checks
 * a leader a node names.
 */
test("a holder id whose last word is no node's base URL names no leader", () => {
  const leaseDir = tempDir('egress-lease-')
  const access = { leaseDir, leaseTtlMs: 60_000, clockSkewMsMax: 10 }
  const named = (url: string): string | null => {
    const lease = Lease.acquire({ dir: leaseDir, holderId: `host-a ${url}`, ttlMs: 60_000, clockSkewMsMax: 10 })
    const leader = leaderUrlIn(access)
    lease.release()
    return leader
  }
  expect(named('not-a-url')).toBeNull()
  expect(named('file:///etc/passwd')).toBeNull()
  expect(named('ftp://10.0.0.7')).toBeNull()
  expect(named('http://user:secret@10.0.0.7:8080')).toBeNull()
  expect(named('http://10.0.0.7:8080/?next=http://elsewhere')).toBeNull()
  expect(named('http://10.0.0.7:8080#x')).toBeNull()
  expect(named(`http://10.0.0.7:8080/${'a'.repeat(2048)}`)).toBeNull()
  // A base URL is named as the node's base: a trailing slash would have made "//replication/stream".
  expect(named('http://10.0.0.7:8080/')).toBe('http://10.0.0.7:8080')
  expect(named('https://egress.example/a/')).toBe('https://egress.example/a')
})
