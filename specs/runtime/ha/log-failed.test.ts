/**
 * A node whose gateway's log dies (a failed write or fdatasync: WalFatalError; the engine halting it) can neither write
 * nor follow again in this process. `egress serve` exits then, for a restart to recover from the log; an HA node did
 * nothing: a leader kept its role and went on renewing its lease every ttl/4 for as long as the process lived,
 * answering every write with the dead log's error, and no standby could ever take over.
 */

import { afterEach, expect, test } from 'bun:test'
import { Lease, LeaseError, WalFatalError } from '../../../wal/index.ts'
import { Gateway } from '../../../src/runtime/index.ts'
import { startWorld, standbyOptionsOf, worldsStoppedAfterEach } from '../harness.ts'
import { countingIo } from '../../wal/support.ts'
import { leaderOptionsOf, takeoverNode } from './takeover-node.ts'

const worlds = worldsStoppedAfterEach()
const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const LEASE_TTL_MS = 300

/** Polls for the lease as another node would, for up to `waitMs`: its epoch, or null if it never got it. */
async function takeLeaseWithin(leaseDir: string, waitMs: number): Promise<number | null> {
  const deadline = Date.now() + waitMs
  while (Date.now() < deadline) {
    try {
      const lease = Lease.acquire({ dir: leaseDir, holderId: 'other http://127.0.0.1:3', ttlMs: 60_000, clockSkewMsMax: 10 })
      lease.release()
      return lease.epoch
    } catch (error) {
      if (!(error instanceof LeaseError)) throw error
      await Bun.sleep(10)
    }
  }
  return null
}

test("a leader whose log dies stops for good (role failed, `died` resolves with the log's error) and gives the lease up, so another node can lead", async () => {
  const world = await startWorld({ seed: 95 })
  worlds.push(world)
  const { node, leaseDir } = takeoverNode(
    cleanups,
    (dataDir, errors) => async (role, lease, beforeBootstrap) => {
      if (role !== 'leader' || lease === null) throw new Error(`expected to lead at once, asked for a ${role} gateway`)
      return Gateway.start(leaderOptionsOf(world, dataDir, errors, lease, beforeBootstrap))
    },
    { oldLeader: false, role: 'auto', leaseTtlMs: LEASE_TTL_MS },
  )
  await node.start()
  expect(node.role).toBe('leader')
  const wal = node.gateway?.engine.wal
  if (wal === undefined) throw new Error('a leader with no gateway')
  // What a failed fdatasync does to the writer (group-commit.ts die → stop), without a disk that fails.
  wal.halt('fdatasync failed: EIO (injected)', new Error('EIO'))
  const died = await Promise.race([node.died, Bun.sleep(3_000).then(() => null)])
  const otherEpoch = await takeLeaseWithin(leaseDir, LEASE_TTL_MS * 4)
  expect({ died: died?.constructor.name ?? null, role: node.role, otherLeads: otherEpoch === 2 }).toEqual({ died: 'WalFatalError', role: 'failed', otherLeads: true })
  expect(died).toBeInstanceOf(WalFatalError)
}, 30_000)

test("a standby whose replica log dies stops for good too, rather than stay up neither following nor able to lead", async () => {
  const world = await startWorld({ seed: 96 })
  worlds.push(world)
  const { node, leaseDir } = takeoverNode(
    cleanups,
    (dataDir, errors) => async (role) => {
      if (role !== 'standby') throw new Error(`expected a standby, asked for a ${role} gateway`)
      return Gateway.start(standbyOptionsOf(world, dataDir, errors))
    },
    { oldLeader: false, role: 'standby', leaseTtlMs: 60_000 },
  )
  // A leader elsewhere holds the lease for a minute: the node stays a standby.
  const leader = Lease.acquire({ dir: leaseDir, holderId: 'leader http://127.0.0.1:3', ttlMs: 60_000, clockSkewMsMax: 10 })
  await node.start()
  expect(node.role).toBe('standby')
  const wal = node.gateway?.engine.wal
  if (wal === undefined) throw new Error('a standby with no gateway')
  wal.halt('fdatasync failed: EIO (injected)', new Error('EIO'))
  const died = await Promise.race([node.died, Bun.sleep(3_000).then(() => null)])
  expect({ died: died?.constructor.name ?? null, role: node.role }).toEqual({ died: 'WalFatalError', role: 'failed' })
  leader.release()
}, 30_000)

test('a leader whose log was killed by a lost lease steps down at once (follows again): it does not stop for good', async () => {
  const world = await startWorld({ seed: 97 })
  worlds.push(world)
  const { node, leaseDir } = takeoverNode(
    cleanups,
    (dataDir, errors) => async (role, lease, beforeBootstrap) => {
      if (role === 'standby') return Gateway.start(standbyOptionsOf(world, dataDir, errors))
      if (lease === null) throw new Error('no lease')
      return Gateway.start(leaderOptionsOf(world, dataDir, errors, lease, beforeBootstrap))
    },
    // A minute's lease: the renewal (every 15 s) does not run during the spec; the log is what finds the loss.
    { oldLeader: false, role: 'auto', leaseTtlMs: 60_000 },
  )
  await node.start()
  expect(node.role).toBe('leader')
  const wal = node.gateway?.engine.wal
  if (wal === undefined) throw new Error('a leader with no gateway')
  // Another node whose clock is ten minutes ahead takes epoch 2; this node's next write is refused, its log dies of it.
  const other = Lease.acquire({ dir: leaseDir, holderId: 'other http://127.0.0.1:3', ttlMs: 60_000, clockSkewMsMax: 10, nowMs: () => Date.now() + 600_000 })
  expect(other.epoch).toBe(2)
  const refused = await wal.append([{ type: 7, version: 1, payload: new Uint8Array(1) }]).then(() => null, (error: unknown) => error)
  expect(refused).toBeInstanceOf(LeaseError)
  const deadline = Date.now() + 3_000
  while (!(node.role === 'standby' && node.gateway !== null) && Date.now() < deadline) await Bun.sleep(10)
  expect({ role: node.role, failure: node.failure }).toEqual({ role: 'standby', failure: null })
}, 30_000)

/**
 * A role change stops the node's gateway (a takeover its standby's, a step-down its leader's) and goes on with a new
 * one on the same data dir. A log whose close failed (its trim's truncate or fsync: WalFatalError, the log died) was
 * passed over: the node's watch on the log ignored a gateway no longer current, so the takeover opened the log again
 * and led, the step-down followed — a failed fsync treated as if the data question were settled. It is fatal instead.
 */
function closeFails(gateway: Gateway): Gateway {
  const wal = gateway.engine.wal
  const close = wal.close.bind(wal)
  wal.close = async () => {
    // What a failed trim at close does (wal/log.ts close): the log dies of a WalFatalError, then closes.
    wal.halt('closing the log failed: fsync EIO (injected)', Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' }))
    await close()
  }
  return gateway
}

test('a takeover whose standby log fails to close stops the node for good: it does not lead on that data dir', async () => {
  const world = await startWorld({ seed: 98 })
  worlds.push(world)
  const roles: string[] = []
  const { node } = takeoverNode(
    cleanups,
    (dataDir, errors) => async (role, lease, beforeBootstrap) => {
      roles.push(role)
      if (role === 'standby') return closeFails(await Gateway.start(standbyOptionsOf(world, dataDir, errors)))
      if (lease === null) throw new Error('no lease')
      return Gateway.start(leaderOptionsOf(world, dataDir, errors, lease, beforeBootstrap))
    },
  )
  await node.start()
  const died = await Promise.race([node.died, Bun.sleep(5_000).then(() => null)])
  expect({ died: died?.constructor.name ?? null, role: node.role, roles }).toEqual({ died: 'WalFatalError', role: 'failed', roles: ['standby'] })
  expect(died?.message).toContain('closing the log failed')
  expect(node.lease).toBeNull()
}, 30_000)

test('a step-down whose leader log fails to close stops the node for good: it does not follow on that data dir', async () => {
  const world = await startWorld({ seed: 99 })
  worlds.push(world)
  const roles: string[] = []
  const { node, leaseDir } = takeoverNode(
    cleanups,
    (dataDir, errors) => async (role, lease, beforeBootstrap) => {
      roles.push(role)
      if (role === 'standby') return Gateway.start(standbyOptionsOf(world, dataDir, errors))
      if (lease === null) throw new Error('no lease')
      return closeFails(await Gateway.start(leaderOptionsOf(world, dataDir, errors, lease, beforeBootstrap)))
    },
    { oldLeader: false, role: 'auto', leaseTtlMs: LEASE_TTL_MS },
  )
  await node.start()
  expect(node.role).toBe('leader')
  // Another node takes epoch 2 (its clock ten minutes ahead); this leader's next renewal finds it: a step-down, its
  // log still healthy (no write was fenced), so its close trims — and fails.
  Lease.acquire({ dir: leaseDir, holderId: 'other http://127.0.0.1:3', ttlMs: 60_000, clockSkewMsMax: 10, nowMs: () => Date.now() + 600_000 })
  const died = await Promise.race([node.died, Bun.sleep(5_000).then(() => null)])
  expect({ died: died?.constructor.name ?? null, role: node.role, roles }).toEqual({ died: 'WalFatalError', role: 'failed', roles: ['leader'] })
}, 30_000)

test("a leader stepping down whose old log fails to close (the fsync of its close's trim) stops for good: it does not follow on that disk", async () => {
  const world = await startWorld({ seed: 98 })
  worlds.push(world)
  // The leader's log keeps zeros ahead of its last frame, so its close trims them and fsyncs: that fsync fails.
  const io = countingIo()
  const { node, leaseDir } = takeoverNode(
    cleanups,
    (dataDir, errors) => async (role, lease, beforeBootstrap) => {
      if (role === 'standby') return Gateway.start(standbyOptionsOf(world, dataDir, errors))
      if (lease === null) throw new Error('no lease')
      const options = leaderOptionsOf(world, dataDir, errors, lease, beforeBootstrap)
      return Gateway.start({ ...options, wal: { ...options.wal, io, preallocateBytes: 64 * 1024 } })
    },
    // The renewal (every ttl/4) finds the lease lost while the log is healthy: the step-down closes it with a trim.
    { oldLeader: false, role: 'auto', leaseTtlMs: 400 },
  )
  await node.start()
  expect(node.role).toBe('leader')
  io.failNext('fsync', 'EIO')
  const other = Lease.acquire({ dir: leaseDir, holderId: 'other http://127.0.0.1:3', ttlMs: 60_000, clockSkewMsMax: 10, nowMs: () => Date.now() + 600_000 })
  expect(other.epoch).toBe(2)
  const died = await Promise.race([node.died, Bun.sleep(5_000).then(() => null)])
  // Before, the close's failure was only in the old log's fatalError: the node followed again (role standby).
  expect({ role: node.role, code: (died as { code?: string } | null)?.code ?? null }).toEqual({ role: 'failed', code: 'FSYNC_FAILED' })
  other.release()
}, 30_000)
