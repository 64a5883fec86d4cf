/**
 * The takeover guard of an HA node (src/runtime/ha/takeover-guard.ts): a node whose log ends below the lease record's
 * floor (an LSN a standby of the last leader held durably) never takes the free lease — neither at start-up (`auto`)
 * nor at a standby's takeover tick. It follows, says why once (log line, /health `ha.takeover_refused`) and keeps
 * trying; the refusal clears once a live leader holds the lease. `acceptDataLoss` (--accept-data-loss) takes it all the
 * same and says what was given up. The DR GameDay's site-loss scenario is the end-to-end case (dr-early-start.test.ts).
 */

import { afterEach, describe, expect, test } from 'bun:test'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readCurrentLease, type LeaseRecord } from '../../../wal/index.ts'
import { Gateway } from '../../../src/runtime/index.ts'
import { HaNode, type HaNodeOptions, type RoleChoice } from '../../../src/runtime/ha/index.ts'
import { removeDir, standbyOptionsOf, startWorld, tempDataDir, worldsStoppedAfterEach } from '../harness.ts'
import { TOKEN, waitFor } from './support.ts'

const worlds = worldsStoppedAfterEach()
const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const TTL_MS = 200
const SKEW_MS = 10
const LOST_LEADER = 'node-a http://127.0.0.1:1'

/** The lease record of a leader whose standby held LSN `replicatedLsn`, written `expiresInMs` from now (< 0: expired). */
function writeLease(leaseDir: string, replicatedLsn: number, expiresInMs: number, inSync?: LeaseRecord['inSync']): void {
  const now = Date.now()
  const record: LeaseRecord = { holderId: LOST_LEADER, epoch: 1, expiresAtMs: now + expiresInMs, renewedAtMs: now, replicatedLsn, ...(inSync === undefined ? {} : { inSync }) }
  writeFileSync(join(leaseDir, 'epoch-0000000001.json'), JSON.stringify(record))
}

async function emptyNode(role: RoleChoice, options: { acceptDataLoss?: boolean; nodeId?: string; sync?: HaNodeOptions['sync']; leaseDir?: string } = {}): Promise<{ node: HaNode; leaseDir: string; lines: string[] }> {
  const world = await startWorld({ seed: 11 })
  worlds.push(world)
  const leaseDir = options.leaseDir ?? mkdtempSync(join(tmpdir(), 'egress-lease-'))
  const dataDir = tempDataDir()
  const errors: string[] = []
  const lines: string[] = []
  const node = new HaNode({
    nodeId: options.nodeId ?? 'node-c',
    advertiseUrl: 'http://127.0.0.1:3',
    dataDir,
    leaseDir,
    leaseTtlMs: TTL_MS,
    clockSkewMsMax: SKEW_MS,
    role,
    replicationToken: TOKEN,
    ...(options.acceptDataLoss === undefined ? {} : { acceptDataLoss: options.acceptDataLoss }),
    ...(options.sync === undefined ? {} : { sync: options.sync }),
    startGateway: async (gatewayRole, lease, beforeBootstrap) => {
      const base = standbyOptionsOf(world, dataDir, errors)
      if (gatewayRole === 'standby') return Gateway.start(base)
      if (lease === null) throw new Error('a leader start without a lease')
      return Gateway.start({
        ...base, role: 'leader', venues: world.gateway.options.venues, lease, wal: { ...base.wal, lease, epoch: lease.epoch },
        ...(beforeBootstrap === undefined ? {} : { beforeBootstrap }),
      })
    },
    onGateway: () => {},
    log: (line) => void lines.push(line),
    replication: { backoffMsMin: 10, backoffMsMax: 50, envelopeBytesMax: 1024 * 1024, silenceMsMax: 500 },
  })
  cleanups.push(async () => {
    await node.stop()
    removeDir(leaseDir)
    removeDir(dataDir)
  })
  return { node, leaseDir, lines }
}

describe('a node whose log is behind the lease record\'s floor', () => {
  test('started `auto` on an empty data dir while the lease is free: it does not take the lease, follows, and says why', async () => {
    const { node, leaseDir, lines } = await emptyNode('auto')
    writeLease(leaseDir, 40, -5_000)
    await node.start()
    expect(node.role).toBe('standby')
    expect(readCurrentLease(leaseDir)).toMatchObject({ holderId: LOST_LEADER, epoch: 1 })
    expect(node.status().takeover_refused).toMatchObject({ code: 'LEASE_LOG_BEHIND', holder: LOST_LEADER, epoch: 1, replicated_lsn: 40, log_last_lsn: 0 })
    // Its takeover ticks refuse too, and say so once, not at every tick.
    await Bun.sleep(TTL_MS * 2)
    expect(node.role).toBe('standby')
    expect(readCurrentLease(leaseDir)?.epoch).toBe(1)
    expect(lines.filter((line) => line.includes('LEASE_LOG_BEHIND'))).toHaveLength(1)
    expect(lines.find((line) => line.includes('LEASE_LOG_BEHIND'))).toContain('--accept-data-loss')
  })

  test('a standby\'s takeover tick refuses it too; the refusal clears once a live leader holds the lease', async () => {
    const { node, leaseDir } = await emptyNode('standby')
    writeLease(leaseDir, 40, -5_000)
    await node.start()
    await waitFor(() => node.status().takeover_refused !== null, 3_000, 'a takeover tick refused')
    expect(node.role).toBe('standby')
    expect(readCurrentLease(leaseDir)?.epoch).toBe(1)
    // A good node leads (its record renewed, far from expiry): nothing is refused any more.
    writeLease(leaseDir, 40, 60_000)
    await waitFor(() => node.status().takeover_refused === null, 3_000, 'the refusal cleared')
    expect(node.role).toBe('standby')
  })

  test('`leader` role waiting for the lease is refused the same, and keeps waiting', async () => {
    const { node, leaseDir } = await emptyNode('leader')
    writeLease(leaseDir, 40, -5_000)
    const started = node.start()
    await waitFor(() => node.status().takeover_refused !== null, 3_000, 'the leader\'s wait refused')
    expect(node.role).toBe('starting')
    expect(readCurrentLease(leaseDir)?.epoch).toBe(1)
    await node.stop()
    await started
  })

  test('with acceptDataLoss (--accept-data-loss) it takes the lease and leads, and logs what it gave up', async () => {
    const { node, leaseDir, lines } = await emptyNode('auto', { acceptDataLoss: true })
    writeLease(leaseDir, 40, -5_000)
    await node.start()
    expect(node.role).toBe('leader')
    expect(readCurrentLease(leaseDir)).toMatchObject({ holderId: node.holderId, epoch: 2, replicatedLsn: 0 })
    expect(node.status().takeover_refused).toBeNull()
    const line = lines.find((each) => each.includes('--accept-data-loss'))
    expect(line).toContain('below LSN 40')
    expect(line).toContain('40 records')
  })
})

describe('a node outside the lease record\'s in-sync set (the floor is at most one renewal old)', () => {
  // The lost leader's standby node-b was in sync; the record's floor (0, written before any acknowledgement) lets any
  // log through. node-c, a third node whose log lacks what node-b acknowledged, must not take over.
  test('started `auto` while the lease is free: refused LEASE_NOT_IN_SYNC, it follows, and /health says why', async () => {
    const { node, leaseDir, lines } = await emptyNode('auto')
    writeLease(leaseDir, 0, -5_000, [{ nodeId: 'node-b', joinedLsn: 0 }])
    await node.start()
    expect(node.role).toBe('standby')
    expect(readCurrentLease(leaseDir)).toMatchObject({ holderId: LOST_LEADER, epoch: 1 })
    expect(node.status().takeover_refused).toMatchObject({ code: 'LEASE_NOT_IN_SYNC', holder: LOST_LEADER, epoch: 1, replicated_lsn: 0, log_last_lsn: 0, in_sync: ['node-b'] })
    expect(lines.filter((line) => line.includes('LEASE_NOT_IN_SYNC'))).toHaveLength(1)
  })

  test('the member itself takes it, and carries the set on without itself (kept by its renewals under fail_closed)', async () => {
    const { node, leaseDir } = await emptyNode('auto', { nodeId: 'node-b', sync: { policy: 'fail_closed', timeoutMs: 500, waitersMax: 8 } })
    writeLease(leaseDir, 0, -5_000, [{ nodeId: 'node-b', joinedLsn: 0 }, { nodeId: 'node-d', joinedLsn: 0 }])
    await node.start()
    expect(node.role).toBe('leader')
    expect(readCurrentLease(leaseDir)).toMatchObject({ holderId: node.holderId, epoch: 2, inSync: [{ nodeId: 'node-d', joinedLsn: 0 }] })
    // node-d never acknowledges this term: it is the last member, kept; the leader refuses new orders meanwhile.
    expect(node.status().sync).toMatchObject({ state: 'down', in_sync: [{ node_id: 'node-d', state: 'member', live: false }] })
  })

  test('with acceptDataLoss it takes the lease and logs that it was outside the set', async () => {
    const { node, leaseDir, lines } = await emptyNode('auto', { acceptDataLoss: true })
    writeLease(leaseDir, 0, -5_000, [{ nodeId: 'node-b', joinedLsn: 0 }])
    await node.start()
    expect(node.role).toBe('leader')
    expect(lines.find((line) => line.includes('--accept-data-loss'))).toContain('outside the in-sync set')
  })
})

describe('the ping-pong of a two-node pair (the lease record\'s previous holder, while its in-sync set is empty)', () => {
  // node-a led with node-b in sync and was lost; node-b took over — its record's set empty, it was the only member —
  // and was lost before node-a rejoined. No member joined node-b's term, so under fail_closed it answered nothing:
  // node-a, which the record names as previous holder, takes the lease back (refused LEASE_NOT_IN_SYNC before).
  test('node-b leads with an empty set (down: new orders refused), stops; node-a takes the lease back and leads; node-c would not', async () => {
    const sync = { policy: 'fail_closed' as const, timeoutMs: 500, waitersMax: 8 }
    const b = await emptyNode('auto', { nodeId: 'node-b', sync })
    writeLease(b.leaseDir, 0, -5_000, [{ nodeId: 'node-b', joinedLsn: 0 }])
    await b.node.start()
    expect(b.node.role).toBe('leader')
    expect(readCurrentLease(b.leaseDir)).toMatchObject({ holderId: b.node.holderId, epoch: 2, inSync: [], previousHolder: 'node-a' })
    expect(b.node.status().sync).toMatchObject({ state: 'down', standby_durable_lsn: 0, in_sync: [] })
    expect(b.node.sync?.refusal()).toContain('fail_closed')
    expect(await b.node.sync?.untilReplicated(1)).toBe('hold')
    await b.node.stop()
    expect(readCurrentLease(b.leaseDir)).toMatchObject({ epoch: 2, expiresAtMs: 0, inSync: [], previousHolder: 'node-a' })

    const c = await emptyNode('auto', { nodeId: 'node-c', sync, leaseDir: b.leaseDir })
    await c.node.start()
    expect(c.node.role).toBe('standby')
    expect(c.node.status().takeover_refused).toMatchObject({ code: 'LEASE_NOT_IN_SYNC', epoch: 2, in_sync: [] })
    await c.node.stop()

    const a = await emptyNode('auto', { nodeId: 'node-a', sync, leaseDir: b.leaseDir })
    await a.node.start()
    expect(a.node.role).toBe('leader')
    expect(a.node.status().takeover_refused).toBeNull()
    expect(readCurrentLease(b.leaseDir)).toMatchObject({ holderId: a.node.holderId, epoch: 3, inSync: [], previousHolder: 'node-b' })
  })
})
