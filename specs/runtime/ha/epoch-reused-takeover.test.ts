/**
 * A standby whose log holds frames of the epoch it takes (wal/lease-epoch-reused for the log's side).
 *
 * The lease directory loses the leader's epoch file (emptied by hand, a damaged disk) while the leader still runs: the
 * standby finds no lease, takes epoch 1 — the leader's own — and, before the log refused it, led at epoch 1 while the
 * old holder's fencing check read the standby's file as its own and went on acknowledging writes at epoch 1 until its
 * next renewal. The log refuses a lease whose epoch it already holds (LeaseEpochUsedError), or one below it; and the
 * taker now takes the lease above its log's last epoch at once (wal/lease.ts, "Epochs the log holds"): epoch 2 here,
 * which fences the old holder at its next write. Before, each take at or below the log's epoch was burnt by a failed
 * start: a standby's takeover failed and it followed again (its gateways stopped and started) to take the next epoch at
 * its next tick, and a node starting up failed its start (exit 1) for each epoch below its log's, one per restart.
 * A taker whose log lacks the lost epoch's frames (replication behind) is not refused its log at that epoch: a standby
 * that watched the old holder's record now takes the lease above that epoch (lease-watch.ts), and a node that never saw
 * it (started after the loss) takes it again, but the old holder's fencing check tells the taker's file from its own
 * and fences it at its next write (wal/lease-retaken-writes). Before, both wrote and acknowledged at one epoch until
 * the old holder's next renewal.
 */

import { afterEach, describe, expect, test } from 'bun:test'
import { readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { Lease, LeaseError, Wal, rawFrameBytes, readCurrentLease, type RecordInput } from '../../../wal/index.ts'
import { encodeEnvelope } from '../../../src/runtime/ha/envelope.ts'
import { removeDir, startWorld, tempDataDir, worldsStoppedAfterEach, type World } from '../harness.ts'
import { record } from '../../wal/support.ts'
import { waitFor } from './support.ts'
import { takeoverNode, worldGateways } from './takeover-node.ts'

const worlds = worldsStoppedAfterEach()
const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const TTL_MS = 300

/** The world's records, to be written again by a log of a spec's own. */
function recordsOf(world: World): RecordInput[] {
  return Array.from(world.gateway.engine.wal.read(1), (frame) => ({ type: frame.type, version: frame.version, payload: frame.payload.slice() }))
}

/** The world's log written again at epoch 1 by a log of its own: a leader's frames, as it streams them. */
async function framesAtEpoch1(world: World): Promise<Uint8Array> {
  const records = recordsOf(world)
  const dir = tempDataDir()
  cleanups.push(() => removeDir(dir))
  const leader = Wal.open(dir, { durability: 'none', epoch: 1 })
  await leader.append(records)
  const bytes = Buffer.concat(Array.from(leader.read(1), (frame) => rawFrameBytes(frame).slice()))
  await leader.close()
  return bytes
}

/** The old leader's replication stream: `frames`, a heartbeat, then the end of the stream (the standby reconnects). */
function leaderStream(frames: Uint8Array): string {
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch: (request) => {
      const url = new URL(request.url)
      if (url.pathname === '/replication/ack') return new Response('{}')
      if (url.pathname !== '/replication/stream') return new Response('not found', { status: 404 })
      const from = Number(url.searchParams.get('from_lsn') ?? '1')
      return new Response(Buffer.concat([encodeEnvelope(from > 1 ? new Uint8Array(0) : frames, 1_000), encodeEnvelope(new Uint8Array(0), 1_000)]))
    },
  })
  cleanups.push(() => void server.stop(true))
  return `http://127.0.0.1:${server.port}`
}

/** How `wal`'s append ended: acknowledged, or the LeaseError's code. */
function appendOutcome(wal: Wal, text: string): Promise<string> {
  return wal.append([record(text)]).then(() => 'acknowledged', (error: unknown) => (error instanceof LeaseError ? error.code : String(error)))
}

/**
 * The old leader: epoch 2 (taken over from a holder of epoch 1 that released it), a long lease it does not renew in
 * these specs, and a log it has written at epoch 2 — frames no standby holds (replication behind).
 */
async function oldLeaderAtEpoch2(leaseDir: string, frames: Uint8Array): Promise<{ old: Lease; oldWal: Wal }> {
  Lease.acquire({ dir: leaseDir, holderId: 'first', ttlMs: 60_000, clockSkewMsMax: 10 }).release()
  const old = Lease.acquire({ dir: leaseDir, holderId: `old ${leaderStream(frames)}`, ttlMs: 60_000, clockSkewMsMax: 10 })
  expect(old.epoch).toBe(2)
  const oldWal = Wal.open(tempDataDir(), { lease: old, epoch: old.epoch, durability: 'none' })
  cleanups.push(() => oldWal.close().catch(() => undefined))
  expect(await appendOutcome(oldWal, 'old, before')).toBe('acknowledged')
  return { old, oldWal }
}

describe('a lease whose epoch the taker\'s log already holds', () => {
  test('a standby taking over from a leader whose epoch file was lost leads at the next epoch, and the old holder is fenced', async () => {
    const world = await startWorld({ seed: 31 })
    worlds.push(world)
    const frames = await framesAtEpoch1(world)
    const held = world.gateway.engine.wal.lastLsn
    const standby = takeoverNode(cleanups, worldGateways(world), { oldLeader: false, leaseTtlMs: TTL_MS })
    // The old leader: epoch 1, a long lease it does not renew in this spec (its next renewal would read the standby's
    // record and step down; the window is until then), and a log it writes at epoch 1.
    const old = Lease.acquire({ dir: standby.leaseDir, holderId: `old ${leaderStream(frames)}`, ttlMs: 60_000, clockSkewMsMax: 10 })
    const oldWal = Wal.open(tempDataDir(), { lease: old, epoch: old.epoch, durability: 'none' })
    cleanups.push(() => oldWal.close().catch(() => undefined))
    expect(await oldWal.append([record('old, before')])).toEqual([1])
    await standby.node.start()
    await waitFor(() => standby.node.gateway?.engine.wal.lastLsn === held, 5_000, 'the standby holding the epoch-1 frames')

    rmSync(join(standby.leaseDir, 'epoch-0000000001.json'))
    await waitFor(() => standby.node.role === 'leader', 10_000, `the takeover (role ${standby.node.role}; ${standby.logLines.join(' | ')})`)
    const oldAppend = await oldWal.append([record('old, after the takeover')]).then(() => 'acknowledged', (error: unknown) => (error instanceof LeaseError ? error.code : String(error)))
    // Before the refusal: { standbyEpoch: 1, oldAppend: 'acknowledged' }, two leaders of epoch 1.
    expect({ standbyEpoch: standby.node.status().epoch, oldAppend }).toEqual({ standbyEpoch: 2, oldAppend: 'LEASE_LOST' })
    expect(readCurrentLease(standby.leaseDir)).toMatchObject({ epoch: 2, holderId: 'standby http://127.0.0.1:2' })
    // Epoch 1 was passed (linked as released, the standby's record: the old holder is fenced by that too), never led at.
    expect(JSON.parse(readFileSync(join(standby.leaseDir, 'epoch-0000000001.json'), 'utf8'))).toMatchObject({ holderId: 'standby http://127.0.0.1:2', expiresAtMs: 0 })
    expect(standby.logLines.filter((line) => line.includes('failed'))).toEqual([])
    expect(standby.errors).toEqual([])
  })

  test('a standby whose log lacks the lost epoch\'s frames takes the lease above the epoch it watched: the old holder is fenced', async () => {
    const world = await startWorld({ seed: 34 })
    worlds.push(world)
    const frames = await framesAtEpoch1(world)
    const held = world.gateway.engine.wal.lastLsn
    const standby = takeoverNode(cleanups, worldGateways(world), { oldLeader: false, leaseTtlMs: TTL_MS })
    const { oldWal } = await oldLeaderAtEpoch2(standby.leaseDir, frames)
    await standby.node.start()
    await waitFor(() => standby.node.gateway?.engine.wal.lastLsn === held, 5_000, 'the standby holding the epoch-1 frames')
    // Its ticks read old's record (epoch 2) while it follows.
    await Bun.sleep(TTL_MS)

    rmSync(join(standby.leaseDir, 'epoch-0000000002.json'))
    await waitFor(() => standby.node.role === 'leader', 10_000, `the takeover (role ${standby.node.role}; ${standby.logLines.join(' | ')})`)
    // Before: epoch 2 again (its log's last epoch + 1, the name free), which its log opened (no frame of epoch 2 in
    // it): two leaders of epoch 2 until old's fencing check found the standby's file.
    expect(standby.node.status().epoch).toBe(3)
    expect(readCurrentLease(standby.leaseDir)).toMatchObject({ epoch: 3, holderId: 'standby http://127.0.0.1:2' })
    expect(await appendOutcome(oldWal, 'old, after the takeover')).toBe('LEASE_LOST')
    expect(standby.errors).toEqual([])
  })

  test('a node started after the loss, its log lacking the lost epoch\'s frames, takes that epoch again: the old holder is fenced at its next write', async () => {
    const world = await startWorld({ seed: 35 })
    worlds.push(world)
    const frames = await framesAtEpoch1(world)
    const node = takeoverNode(cleanups, worldGateways(world), { oldLeader: false, leaseTtlMs: TTL_MS, role: 'auto' })
    const { old, oldWal } = await oldLeaderAtEpoch2(node.leaseDir, frames)
    // Its log holds the epoch-1 frames only; it never saw old's record before the file was lost.
    const log = Wal.openReplica(join(node.dataDir, 'log'), { durability: 'none' })
    await log.appendFrames(frames)
    await log.close()
    rmSync(join(node.leaseDir, 'epoch-0000000002.json'))
    await node.node.start()
    await waitFor(() => node.node.role === 'leader', 10_000, `the lead (role ${node.node.role}; ${node.logLines.join(' | ')})`)
    // Its log's last epoch + 1 and the name free: epoch 2 again, which its log opens (no frame of epoch 2 in it).
    expect(node.node.status().epoch).toBe(2)
    // Before: 'acknowledged' (and every append after it) until old's next renewal: two leaders writing at epoch 2.
    expect(await appendOutcome(oldWal, 'old, after the take')).toBe('LEASE_LOST')
    expect(old.isHeld()).toBe(false)
    expect(node.errors).toEqual([])
  })

  test('a node meeting it at start-up leads at the next epoch, rather than failing its start', async () => {
    const world = await startWorld({ seed: 32 })
    worlds.push(world)
    const frames = await framesAtEpoch1(world)
    const node = takeoverNode(cleanups, worldGateways(world), { oldLeader: false, leaseTtlMs: TTL_MS, role: 'auto' })
    // Its log holds epoch 1's frames (it led at epoch 1, or followed its leader); the lease directory lost them all.
    const log = Wal.openReplica(join(node.dataDir, 'log'), { durability: 'none' })
    await log.appendFrames(frames)
    await log.close()
    await node.node.start()
    await waitFor(() => node.node.role === 'leader', 10_000, `the lead (role ${node.node.role}; ${node.logLines.join(' | ')})`)
    expect(node.node.status().epoch).toBe(2)
    expect(node.logLines.filter((line) => line.includes('lost'))).toEqual([])
    expect(node.errors).toEqual([])
  })

  test('a node whose log holds epochs above an emptied lease directory leads above them at its first start', async () => {
    const world = await startWorld({ seed: 33 })
    worlds.push(world)
    const node = takeoverNode(cleanups, worldGateways(world), { oldLeader: false, leaseTtlMs: TTL_MS, role: 'auto' })
    // Its log led at epoch 4 (three takeovers before); the lease directory lost every file.
    const log = Wal.open(join(node.dataDir, 'log'), { durability: 'none', epoch: 4 })
    await log.append(recordsOf(world))
    await log.close()
    // Before: the start failed (LEASE_LOST: the log holds frames of epoch 4; this writer has epoch 1), epoch 1 spent,
    // and so at each restart until the take reached epoch 4 (refused as used) and the node led at 5 from following.
    await node.node.start()
    expect({ role: node.node.role, epoch: node.node.status().epoch }).toEqual({ role: 'leader', epoch: 5 })
    expect(readCurrentLease(node.leaseDir)).toMatchObject({ epoch: 5, holderId: 'standby http://127.0.0.1:2' })
    expect(node.errors).toEqual([])
  })
})
