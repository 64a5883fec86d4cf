import { afterEach, describe, expect, test } from 'bun:test'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { toHex } from '../../../wal/index.ts'
import { Gateway } from '../../../src/runtime/index.ts'
import { HaNode, SnapshotRecoveryError, fetchLeaderSnapshot, installLeaderSnapshot, standbyRequestHeaders } from '../../../src/runtime/ha/index.ts'
import { removeTempDirs } from '../../wal/support.ts'
import { removeDir, tempDataDir } from '../harness.ts'
import { trade } from '../snapshot/support.ts'
import { haStatusDepartures } from '../../http/openapi-departures.ts'
import { compactingLeader, recoveringStandby, recoveringStandbyOptions, tradeUntilCompacted } from './compacting-leader.ts'
import { TOKEN, replicator, waitFor } from './support.ts'

afterEach(removeTempDirs)

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const statuses = (gateway: Gateway): string[] => [...gateway.engine.state.orders.values()].map((order) => `${order.orderId}:${order.status}`).sort()

describe('a standby below the leader\'s compacted log', () => {
  test('the stream answers RESYNC_REQUIRED (an empty standby too) and the replicator hands over instead of retrying', async () => {
    const { world, url } = await compactingLeader(31, cleanups)
    await tradeUntilCompacted(world, 1, 31)
    const head = '0'.repeat(64)
    const refused = await fetch(`${url}/replication/stream?from_lsn=1&head=${head}`, { headers: standbyRequestHeaders(TOKEN) })
    expect(refused.status).toBe(409)
    const body = (await refused.json()) as { error: { code: string; details: { leader_first_lsn: number } } }
    expect(body.error.code).toBe('RESYNC_REQUIRED')
    expect(body.error.details.leader_first_lsn).toBe(world.gateway.engine.wal.firstLsn)
    // The route for the snapshot is behind the replication token like the others.
    expect((await fetch(`${url}/replication/snapshot`)).status).toBe(401)
    const dir = tempDataDir()
    cleanups.push(() => removeDir(dir))
    const errors: string[] = []
    const standby = await Gateway.start(recoveringStandbyOptions(world, dir, errors))
    cleanups.push(() => standby.stop())
    const handedOver: number[] = []
    const pulling = replicator(standby.engine.wal, () => url, { onResyncRequired: (details) => void handedOver.push(details.leaderFirstLsn) })
    pulling.start()
    await waitFor(() => handedOver.length === 1, 5_000, 'RESYNC_REQUIRED handed over')
    await Bun.sleep(50)
    expect(handedOver).toEqual([world.gateway.engine.wal.firstLsn])
    expect(standby.engine.wal.lastLsn).toBe(0)
    await pulling.stop()
  })

  test('an HA standby that fell behind recovers from the leader\'s snapshot, its old log moved aside, and follows again', async () => {
    const { world, url } = await compactingLeader(41, cleanups)
    await trade(world, { orders: 5, tag: 'early', seed: 41 })
    // A standby node (in process) following the leader named by the lease.
    const { options, lease, logLines, errors } = recoveringStandby(world, url, cleanups)
    const node = new HaNode(options)
    cleanups.push(() => node.stop())
    await node.start()
    await waitFor(() => node.gateway?.engine.wal.lastLsn === world.gateway.engine.wal.lastLsn, 5_000, 'standby caught up')
    const behindAt = node.gateway?.engine.wal.lastLsn ?? 0
    // The standby goes away; the leader trades on, snapshots and compacts past everything the standby has.
    const gone = node.stop()
    await gone
    await tradeUntilCompacted(world, behindAt, 41)
    expect(world.gateway.engine.wal.firstLsn).toBeGreaterThan(behindAt + 1)
    lease.renew()
    const again = new HaNode(options)
    cleanups.push(() => again.stop())
    await again.start()
    await waitFor(() => again.lastSnapshotRecovery !== null, 10_000, 'snapshot recovery')
    const recovery = again.lastSnapshotRecovery
    if (recovery?.state !== 'recovered') throw new Error(`recovery: ${JSON.stringify(recovery)} ${logLines.join('\n')}`)
    expect(recovery.previousLastLsn).toBe(behindAt)
    expect(recovery.snapshotLsn).toBeGreaterThanOrEqual(world.gateway.engine.wal.firstLsn)
    expect(existsSync(recovery.movedTo)).toBe(true)
    // It follows again from the snapshot on: same chain head, same orders, and it keeps following live trading.
    await trade(world, { orders: 5, tag: 'late', seed: 43 })
    await waitFor(() => again.gateway?.engine.wal.lastLsn === world.gateway.engine.wal.lastLsn && again.gateway.engine.state.lastLsn === world.gateway.engine.state.lastLsn, 10_000, 'following after recovery')
    const standby = again.gateway as Gateway
    expect(standby.restoreReport?.snapshot?.lsn).toBe(recovery.snapshotLsn)
    expect(standby.engine.wal.firstLsn).toBe(recovery.snapshotLsn)
    expect(toHex(standby.engine.wal.chainHead)).toBe(toHex(world.gateway.engine.wal.chainHead))
    expect(statuses(standby)).toEqual(statuses(world.gateway))
    const health = again.status()
    expect(health.last_snapshot_recovery).toMatchObject({ state: 'recovered', snapshot_lsn: recovery.snapshotLsn, previous_last_lsn: behindAt, moved_to: recovery.movedTo })
    expect(haStatusDepartures(health)).toEqual([])
    expect(errors).toEqual([])
  })

  test('refusals: no snapshot, a tampered or oversized file, and a failed catch-up that puts the old log back', async () => {
    const { world, url } = await compactingLeader(51, cleanups)
    const access = { leaderUrl: url, token: TOKEN, timeoutMs: 5_000 }
    const code = async (work: Promise<unknown>): Promise<string> => {
      try {
        await work
      } catch (error) {
        expect(error).toBeInstanceOf(SnapshotRecoveryError)
        return (error as SnapshotRecoveryError).code
      }
      return 'ok'
    }
    expect(await code(fetchLeaderSnapshot({ ...access, bytesMax: 1 << 30 }))).toBe('SNAPSHOT_UNAVAILABLE')
    await tradeUntilCompacted(world, 1, 51)
    const snapshot = await fetchLeaderSnapshot({ ...access, bytesMax: 1 << 30 })
    expect(await code(fetchLeaderSnapshot({ ...access, bytesMax: 100 }))).toBe('SNAPSHOT_TOO_LARGE')
    // A server handing out a flipped byte: the digest over the file catches it.
    const tampered = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      fetch: async (request) => {
        const original = await fetch(`${url}${new URL(request.url).pathname}`, { headers: request.headers })
        const bytes = new Uint8Array(await original.arrayBuffer())
        const middle = Math.floor(bytes.byteLength / 2)
        bytes[middle] = (bytes[middle] ?? 0) ^ 0x01
        return new Response(bytes, { status: original.status, headers: original.headers })
      },
    })
    cleanups.push(() => void tampered.stop(true))
    expect(await code(fetchLeaderSnapshot({ ...access, leaderUrl: `http://127.0.0.1:${tampered.port}`, bytesMax: 1 << 30 }))).toBe('SNAPSHOT_INVALID')
    // A wrong anchor: the leader's frames do not chain from it, so nothing is installed and the old log is back.
    const dataDir = tempDataDir()
    cleanups.push(() => removeDir(dataDir))
    const errors: string[] = []
    const old = await Gateway.start(recoveringStandbyOptions(world, dataDir, errors))
    await old.stop()
    const before = readdirSync(join(dataDir, 'log')).sort()
    const wrong = { ...snapshot, chainBefore: new Uint8Array(32).fill(7) }
    expect(await code(installLeaderSnapshot(dataDir, wrong, { ...access, envelopeBytesMax: 4 * 1024 * 1024, keep: 2, previousLastLsn: 0 }))).toBe('CATCH_UP_FAILED')
    expect(readdirSync(join(dataDir, 'log')).sort()).toEqual(before)
    expect(readdirSync(dataDir).filter((name) => name.includes('compacted'))).toEqual([])
    // The right one installs: a standby gateway restores from it.
    const report = await installLeaderSnapshot(dataDir, snapshot, { ...access, envelopeBytesMax: 4 * 1024 * 1024, keep: 2, previousLastLsn: 0 })
    expect(report.lastLsn).toBeGreaterThanOrEqual(snapshot.lsn)
    const restored = await Gateway.start(recoveringStandbyOptions(world, dataDir, errors))
    expect(restored.restoreReport?.snapshot?.lsn).toBe(snapshot.lsn)
    await restored.stop()
    expect(errors).toEqual([])
  })
})
