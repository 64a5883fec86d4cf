/**
 * A peer holding the replication token that sends frames no lease holder could have written: an epoch above the
 * lease's current one, or one below the epoch the standby's log already holds. The standby refuses them (typed
 * WalReplicationError, nothing appended), reconnects after a backoff, and its takeover at the lease's next epoch then
 * succeeds. Appended, epoch-5 frames under a lease at epoch 1 made every takeover fail LEASE_LOST (the log held an
 * epoch above the one taken), so the pair was left without a leader.
 */

import { afterEach, describe, expect, test } from 'bun:test'
import { Lease, Wal, rawFrameBytes, readCurrentLease, type RecordInput } from '../../../wal/index.ts'
import { Gateway } from '../../../src/runtime/index.ts'
import { encodeEnvelope } from '../../../src/runtime/ha/envelope.ts'
import { standbyOptionsOf, startWorld, tempDataDir, removeDir, worldsStoppedAfterEach, type World } from '../harness.ts'
import { waitFor } from './support.ts'
import { takeoverNode, worldGateways } from './takeover-node.ts'

const worlds = worldsStoppedAfterEach()
const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const TTL_MS = 300
const SKEW_MS = 10

/**
 * The world's leader log, re-written `copies` times over at `epoch` by a log of its own (the same records, valid
 * frames, a chain of its own), as bytes from `fromLsn` on.
 */
async function framesAtEpoch(world: World, epoch: number, options: { copies?: number; fromLsn?: number } = {}): Promise<Uint8Array> {
  const records: RecordInput[] = Array.from(world.gateway.engine.wal.read(1), (frame) => ({ type: frame.type, version: frame.version, payload: frame.payload.slice() }))
  const dir = tempDataDir()
  cleanups.push(() => removeDir(dir))
  const forged = Wal.open(dir, { durability: 'none', epoch })
  for (let copy = 0; copy < (options.copies ?? 1); copy++) await forged.append(records)
  const bytes = Buffer.concat(Array.from(forged.read(options.fromLsn ?? 1), (frame) => rawFrameBytes(frame).slice()))
  await forged.close()
  return bytes
}

/** A "leader" that answers every stream with one envelope of `frames`, then a heartbeat, then ends it. */
function hostileLeader(frames: () => Uint8Array): { url: string; streams: () => number } {
  let streams = 0
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch: (request) => {
      const url = new URL(request.url)
      if (url.pathname === '/replication/ack') return new Response('{}')
      if (url.pathname !== '/replication/stream') return new Response('not found', { status: 404 })
      streams++
      const bytes = frames()
      return new Response(Buffer.concat([encodeEnvelope(bytes, 1_000), encodeEnvelope(new Uint8Array(0), 1_000)]))
    },
  })
  cleanups.push(() => void server.stop(true))
  return { url: `http://127.0.0.1:${server.port}`, streams: () => streams }
}

describe('frames no lease holder wrote', () => {
  test('frames above the lease epoch are refused (EPOCH_AHEAD), not appended, and the takeover at the next epoch succeeds', async () => {
    const world = await startWorld({ seed: 11 })
    worlds.push(world)
    const forged = await framesAtEpoch(world, 5)
    const hostile = hostileLeader(() => forged)
    const standby = takeoverNode(
      cleanups,
      worldGateways(world),
      { oldLeader: false, leaseTtlMs: TTL_MS },
    )
    // The lease names the hostile peer at epoch 1; it never renews, so the standby takes over at epoch 2.
    Lease.acquire({ dir: standby.leaseDir, holderId: `hostile ${hostile.url}`, ttlMs: TTL_MS, clockSkewMsMax: SKEW_MS })
    await standby.node.start()
    await waitFor(() => hostile.streams() >= 2, 5_000, 'a reconnect after the refusal')
    expect(standby.node.gateway?.engine.wal.lastLsn).toBe(0)
    expect(standby.logLines.some((line) => line.includes('EPOCH_AHEAD') && line.includes('frame epoch 5 is above the lease\'s current epoch 1'))).toBe(true)
    await waitFor(() => standby.node.role === 'leader', 5_000, `the takeover (role ${standby.node.role}; ${standby.logLines.join(' | ')})`)
    expect(readCurrentLease(standby.leaseDir)?.epoch).toBe(2)
    expect(standby.logLines.filter((line) => line.includes('LEASE_LOST'))).toEqual([])
    expect(standby.errors).toEqual([])
  })

  test('frames below the epoch the standby already holds are refused (EPOCH_REGRESSION), not appended, and the stream retried', async () => {
    const world = await startWorld({ seed: 12 })
    worlds.push(world)
    const held = world.gateway.engine.wal.lastLsn
    const term2 = await framesAtEpoch(world, 2)
    // LSNs held+1.. at epoch 1: the next LSNs the standby asks for, of an epoch below the one its log holds.
    const term1After = await framesAtEpoch(world, 1, { copies: 2, fromLsn: held + 1 })
    let sent = term2
    const hostile = hostileLeader(() => sent)
    const standby = takeoverNode(
      cleanups,
      (dataDir, errors) => async (role) => {
        if (role === 'standby') return Gateway.start(standbyOptionsOf(world, dataDir, errors))
        throw new Error('this spec never takes over')
      },
      { oldLeader: false, leaseTtlMs: 60_000 },
    )
    // The lease is at epoch 2, held by the peer: the epoch-2 frames are a leader's own.
    Lease.acquire({ dir: standby.leaseDir, holderId: 'old http://127.0.0.1:1', ttlMs: 1, clockSkewMsMax: 0 })
    await Bun.sleep(SKEW_MS + 20)
    Lease.acquire({ dir: standby.leaseDir, holderId: `hostile ${hostile.url}`, ttlMs: 60_000, clockSkewMsMax: SKEW_MS })
    expect(readCurrentLease(standby.leaseDir)?.epoch).toBe(2)
    await standby.node.start()
    const wal = (): Wal => {
      const gateway = standby.node.gateway
      if (gateway === null) throw new Error('no standby gateway')
      return gateway.engine.wal
    }
    await waitFor(() => wal().lastLsn === held, 5_000, 'the epoch-2 frames')
    expect(wal().lastEpoch).toBe(2)
    sent = term1After
    const streamsBefore = hostile.streams()
    await waitFor(() => hostile.streams() >= streamsBefore + 2, 5_000, 'reconnects after the refusal')
    expect({ lastLsn: wal().lastLsn, lastEpoch: wal().lastEpoch, role: standby.node.role }).toEqual({ lastLsn: held, lastEpoch: 2, role: 'standby' })
    expect(standby.logLines.some((line) => line.includes('EPOCH_REGRESSION'))).toBe(true)
  })
})
