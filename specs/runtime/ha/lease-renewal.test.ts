/**
 * A renewal the file system refuses (a full disk under the lease directory, an EIO, a share gone for a moment) is not
 * a lost lease: the lease still holds until its expiry by this node's clocks, and no newer epoch exists. The leader
 * stepped down at the first such refusal — a failover (calls in flight read back, intake closed for a bootstrap)
 * for a blip that the next tick, a quarter TTL later, would have ridden out. It now keeps leading and tries again; a
 * lease that expires meanwhile, or is taken, still ends its lead (the log and the executor refuse at once).
 */

import { afterEach, expect, test } from 'bun:test'
import { mkdtempSync, unlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Lease, LeaseError, nodeIo, readCurrentLease, type WalIo } from '../../../wal/index.ts'
import { renewLease, stepDown } from '../../../src/runtime/ha/leading.ts'
import type { NodeCore } from '../../../src/runtime/ha/node-core.ts'
import { removeDir } from '../harness.ts'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) removeDir(dir)
})

/** The node view renewLease needs of a leader holding `lease`, with the role changes it asks for and the lines it logs. */
function nodeHolding(lease: Lease): { node: NodeCore; changes: string[]; lines: string[] } {
  const changes: string[] = []
  const lines: string[] = []
  // Only what renewLease reads of the node: its lease, log, stop flag and role changes.
  const node = {
    lease,
    stopping: false,
    options: { log: (line: string) => void lines.push(line) },
    exclusive: (name: string) => {
      changes.push(name)
      return Promise.resolve()
    },
  } as unknown as NodeCore
  return { node, changes, lines }
}

/** A lease on a directory whose renames fail with ENOSPC while `full.on`; the node view renewLease needs. */
function leaderOnFullDisk(clock: { nowMs: number }): { lease: Lease; full: { on: boolean }; node: NodeCore; changes: string[]; lines: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'egress-lease-'))
  dirs.push(dir)
  const full = { on: false }
  const enospc = (from: string, to: string): Error => Object.assign(new Error(`ENOSPC: no space left on device, rename '${from}' -> '${to}'`), { code: 'ENOSPC' })
  const io: WalIo = {
    ...nodeIo,
    rename: (from, to) => {
      if (full.on) throw enospc(from, to)
      nodeIo.rename(from, to)
    },
    // The leader renews off the event loop (renewLease: Lease.renewOffLoop).
    renameOffLoop: (from, to, done) => {
      if (full.on) return void setTimeout(() => done(enospc(from, to)), 1)
      nodeIo.renameOffLoop(from, to, done)
    },
  }
  const lease = Lease.acquire({ dir, holderId: 'a http://127.0.0.1:1', ttlMs: 1000, clockSkewMsMax: 10, io, nowMs: () => clock.nowMs })
  return { lease, full, ...nodeHolding(lease) }
}

test('a renewal refused with ENOSPC keeps the lead while the lease holds, and the next renewal extends it', async () => {
  const clock = { nowMs: 1_000_000 }
  const { lease, full, node, changes, lines } = leaderOnFullDisk(clock)
  full.on = true
  clock.nowMs += 250
  await renewLease(node)
  expect(changes).toEqual([])
  expect(lease.isHeld()).toBe(true)
  expect(lines.some((line) => line.includes('ENOSPC') && line.includes('retrying'))).toBe(true)
  full.on = false
  clock.nowMs += 250
  await renewLease(node)
  clock.nowMs += 900
  expect(lease.isHeld()).toBe(true)
  expect(changes).toEqual([])
})

test('a renewal refused until the lease has expired steps down', async () => {
  const clock = { nowMs: 1_000_000 }
  const { lease, full, node, changes } = leaderOnFullDisk(clock)
  full.on = true
  clock.nowMs += 1_000
  expect(lease.isHeld()).toBe(false)
  await renewLease(node)
  expect(changes).toEqual(['step-down'])
})

/** A leader whose lease directory's disk takes `syncMs` per fsync (on the loop: a busy wait, as a slow disk holds it). */
function leaderOnSlowDisk(syncMs: number, fail: { fsync: Error | null }): { lease: Lease; node: NodeCore; changes: string[]; lines: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'egress-lease-'))
  dirs.push(dir)
  const io: WalIo = {
    ...nodeIo,
    fsync: (fd) => {
      const until = performance.now() + syncMs
      while (performance.now() < until) {
        // The loop is held, as by fsyncSync on a slow disk.
      }
      if (fail.fsync !== null) throw fail.fsync
      nodeIo.fsync(fd)
    },
    fsyncOffLoop: (fd, done) => {
      setTimeout(() => (fail.fsync !== null ? done(fail.fsync) : nodeIo.fsyncOffLoop(fd, done)), syncMs)
    },
  }
  const lease = Lease.acquire({ dir, holderId: 'a http://127.0.0.1:1', ttlMs: 60_000, clockSkewMsMax: 10, io })
  return { lease, ...nodeHolding(lease) }
}

test('the renewal leaves the event loop free while the disk syncs: a timer due meanwhile fires before it ends', async () => {
  const { lease, node, changes } = leaderOnSlowDisk(80, { fsync: null })
  let firedMs: number | null = null
  const startedMs = performance.now()
  setTimeout(() => void (firedMs = performance.now() - startedMs), 5)
  await renewLease(node)
  const renewedMs = performance.now() - startedMs
  expect(firedMs).not.toBeNull()
  expect(firedMs!).toBeLessThan(renewedMs)
  expect(changes).toEqual([])
  expect(lease.isHeld()).toBe(true)
})

test('a renewal whose fsync fails off the loop keeps the lead while the lease holds (retried at the next tick), as one on the loop did', async () => {
  const fail: { fsync: Error | null } = { fsync: null }
  const { lease, node, changes, lines } = leaderOnSlowDisk(1, fail)
  fail.fsync = Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' })
  await renewLease(node)
  expect(changes).toEqual([])
  expect(lease.isHeld()).toBe(true)
  expect(lines.some((line) => line.includes('EIO') && line.includes('retrying'))).toBe(true)
})

test('a renewal that fails after the node let go of its lease (stepped down, gave it up) changes nothing', async () => {
  const { lease, node, changes, lines } = leaderOnSlowDisk(20, { fsync: null })
  const renewal = renewLease(node)
  // The node gives the lease up while the renewal syncs (giveUp: released, node.lease cleared).
  lease.release()
  ;(node as { lease: Lease | null }).lease = null
  await renewal
  expect(changes).toEqual([])
  expect(lines).toEqual([])
})

test('a renewal that never ends (a lease directory whose share hangs) holds no later tick: once the lease has run out, the next one steps down', async () => {
  const clock = { nowMs: 1_000_000 }
  const dir = mkdtempSync(join(tmpdir(), 'egress-lease-'))
  dirs.push(dir)
  // Every off-loop fsync of the renewal's temp file waits for good, as on a hard-mounted NFS share gone away.
  const io: WalIo = { ...nodeIo, fsyncOffLoop: () => {} }
  const lease = Lease.acquire({ dir, holderId: 'a http://127.0.0.1:1', ttlMs: 1000, clockSkewMsMax: 10, io, nowMs: () => clock.nowMs })
  const { node, changes } = nodeHolding(lease)
  const pending = new Promise<'pending'>((resolve) => setTimeout(() => resolve('pending'), 50))
  clock.nowMs += 250
  expect(await Promise.race([renewLease(node), pending])).toBe('pending')
  clock.nowMs += 250
  expect(await Promise.race([renewLease(node), pending])).toBe('pending')
  expect(changes).toEqual([])
  clock.nowMs += 500
  expect(lease.isHeld()).toBe(false)
  const stepped = new Promise<'pending'>((resolve) => setTimeout(() => resolve('pending'), 50))
  expect(await Promise.race([renewLease(node), stepped])).toBeUndefined()
  expect(changes).toEqual(['step-down'])
})

/**
 * A leader (TTL 1 s, taken at 1_000_000) whose renewal, begun at 1_000_250, waits at its rename until `rename.go`
 * is called (a slow share); the node view stepDown needs (no gateway, no replication: it follows at once).
 */
async function leaderRenamingSlowly(clock: { nowMs: number }): Promise<{ dir: string; lease: Lease; node: NodeCore; renewal: Promise<void>; goRename: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'egress-lease-'))
  dirs.push(dir)
  const renames: Array<() => void> = []
  const io: WalIo = { ...nodeIo, renameOffLoop: (from, to, done) => void renames.push(() => nodeIo.renameOffLoop(from, to, done)) }
  const lease = Lease.acquire({ dir, holderId: 'a http://127.0.0.1:1', ttlMs: 1000, clockSkewMsMax: 10, io, nowMs: () => clock.nowMs })
  const { node } = nodeHolding(lease)
  Object.assign(node, { role: 'leader', gateway: null, sync: null, follow: () => Promise.resolve() })
  clock.nowMs += 250
  const renewal = renewLease(node)
  for (let turn = 0; turn < 500 && renames.length === 0; turn++) await new Promise((resolve) => setTimeout(resolve, 1))
  expect(renames).toHaveLength(1)
  return { dir, lease, node, renewal, goRename: renames[0]! }
}

test('a step-down overtakes a renewal still writing: its late rename does not extend the lease, and a standby takes over at the expiry the node had', async () => {
  const clock = { nowMs: 1_000_000 }
  const { dir, lease, node, renewal, goRename } = await leaderRenamingSlowly(clock)
  // The lease runs out while the renewal waits (a tick's renewal is refused LEASE_LOST at once): the node steps down.
  clock.nowMs = 1_001_000
  expect(lease.isHeld()).toBe(false)
  await stepDown(node)
  expect(node.lease).toBeNull()
  goRename()
  await renewal
  // Before: the renewal's rename landed after the step-down (expiry 1_001_250): the standby was refused LEASE_HELD
  // until then, a quarter of a TTL here and up to a whole one when the renewal began late in the lease.
  expect(readCurrentLease(dir)).toMatchObject({ epoch: 1, expiresAtMs: 1_001_000 })
  clock.nowMs = 1_001_011
  const taker = Lease.acquire({ dir, holderId: 'b http://127.0.0.1:2', ttlMs: 1000, clockSkewMsMax: 10, nowMs: () => clock.nowMs })
  expect(taker.epoch).toBe(2)
  expect(lease.isHeld()).toBe(false)
})

test("a step-down from an epoch another holder linked again (its file had gone) writes nothing over the other's record, and neither does its renewal", async () => {
  const clock = { nowMs: 1_000_000 }
  const { dir, lease, node, renewal, goRename } = await leaderRenamingSlowly(clock)
  // Its file gone (a lease directory emptied by hand), a taker links epoch 1 again while the renewal waits at its rename.
  unlinkSync(join(dir, 'epoch-0000000001.json'))
  const taker = Lease.acquire({ dir, holderId: 'b http://127.0.0.1:2', ttlMs: 1000, clockSkewMsMax: 10, nowMs: () => clock.nowMs })
  expect(taker.epoch).toBe(1)
  await stepDown(node)
  goRename()
  await renewal
  // Before: the renewal's rename, made after the step-down, put the old holder's record over the taker's.
  expect(readCurrentLease(dir)).toMatchObject({ epoch: 1, holderId: 'b http://127.0.0.1:2', expiresAtMs: 1_001_250 })
  expect(() => lease.assertHeld()).toThrow(LeaseError)
  expect(taker.isHeld()).toBe(true)
})
