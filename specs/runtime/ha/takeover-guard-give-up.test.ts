/**
 * A take of the lease below its floor (`acceptDataLoss`, --accept-data-loss) whose leader start then fails: the lease
 * is given up with the floor it superseded, not its own log end (src/runtime/ha/leading.ts giveUp). The node never led
 * on its log, so nothing acknowledged rests on that lower floor; written into the released record, it would let any
 * node — an empty one started without the flag — take the lease and lead, and the copy holding the records would
 * then be set aside as diverged.
 */

import { afterEach, describe, expect, test } from 'bun:test'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readCurrentLease, type LeaseRecord } from '../../../wal/index.ts'
import { Gateway } from '../../../src/runtime/index.ts'
import { HaNode } from '../../../src/runtime/ha/index.ts'
import { removeDir, standbyOptionsOf, startWorld, tempDataDir, worldsStoppedAfterEach } from '../harness.ts'
import { TOKEN } from './support.ts'

const worlds = worldsStoppedAfterEach()
const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

describe('a take below the floor whose leader start fails', () => {
  test('gives the lease up with the floor it superseded, so a node behind it is still refused', async () => {
    const world = await startWorld({ seed: 11 })
    worlds.push(world)
    const leaseDir = mkdtempSync(join(tmpdir(), 'egress-lease-'))
    const dataDir = tempDataDir()
    const now = Date.now()
    const record: LeaseRecord = { holderId: 'node-a http://127.0.0.1:1', epoch: 1, expiresAtMs: now - 5_000, renewedAtMs: now - 5_000, replicatedLsn: 40 }
    writeFileSync(join(leaseDir, 'epoch-0000000001.json'), JSON.stringify(record))
    const node = new HaNode({
      nodeId: 'node-c',
      advertiseUrl: 'http://127.0.0.1:3',
      dataDir,
      leaseDir,
      leaseTtlMs: 200,
      clockSkewMsMax: 10,
      role: 'auto',
      acceptDataLoss: true,
      replicationToken: TOKEN,
      startGateway: async (gatewayRole) => {
        if (gatewayRole === 'standby') return Gateway.start(standbyOptionsOf(world, dataDir, []))
        throw new Error('the leader start is refused (say, VENUE_GONE_ORDERS_OPEN)')
      },
      onGateway: () => {},
      log: () => {},
      replication: { backoffMsMin: 10, backoffMsMax: 50, envelopeBytesMax: 1024 * 1024, silenceMsMax: 500 },
    })
    cleanups.push(() => {
      removeDir(leaseDir)
      removeDir(dataDir)
    })
    await expect(node.start()).rejects.toThrow('the leader start is refused')
    const released = readCurrentLease(leaseDir)
    expect(released).toMatchObject({ holderId: node.holderId, epoch: 2, expiresAtMs: 0 })
    // Not 0 (this node's log end): the node never led on it.
    expect(released?.replicatedLsn).toBe(40)
  })
})
