import { afterEach, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { nodeIo } from '../../../wal/index.ts'
import { stateDigest } from '../../../src/kernel/index.ts'
import { Gateway } from '../../../src/runtime/index.ts'
import { fetchLeaderSnapshot, installLeaderSnapshot } from '../../../src/runtime/ha/index.ts'
import { SnapshotStore } from '../../../src/runtime/snapshot/index.ts'
import { removeDir, run, startWorld, tempDataDir } from '../harness.ts'
import { trade } from '../snapshot/support.ts'
import { recoveringStandbyOptions, tradeUntilCompacted } from './compacting-leader.ts'
import { TOKEN, haHttp, replicator, serveReplication, waitFor } from './support.ts'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

describe('a standby started from the leader\'s snapshot', () => {
  for (const seed of [51, 52, 53]) {
    test(`decides every later command as the leader did and ends in the leader's state (seed ${seed})`, async () => {
      // Retirement at its tightest (3 terminal orders kept, 50 ms grace), so the snapshot holds a retired-down state.
      const world = await startWorld({
        seed,
        params: { terminalOrdersKeptMax: 3, terminalOrderRetireAfterMs: 50 },
        wal: { segmentBytesMax: 4096 },
        snapshots: { everyRecords: 37, keep: 2, compaction: 'archive' },
      })
      world.gateway.engine.commandRecords = true
      const store = (): SnapshotStore => new SnapshotStore(join(world.dir, 'snapshots'), { io: nodeIo, keep: 2 })
      const server = serveReplication(() => world.gateway.engine.wal, haHttp({ snapshots: store }))
      cleanups.push(async () => {
        server.stop()
        await world.gateway.stop()
        removeDir(world.dir)
      })
      await tradeUntilCompacted(world, 1, seed)
      const dir = tempDataDir()
      cleanups.push(() => removeDir(dir))
      const access = { leaderUrl: server.url, token: TOKEN, timeoutMs: 5_000 }
      const snapshot = await fetchLeaderSnapshot({ ...access, bytesMax: 1 << 30 })
      await installLeaderSnapshot(dir, snapshot, { ...access, envelopeBytesMax: 1 << 22, keep: 3, previousLastLsn: 0 })
      const errors: string[] = []
      const standby = await Gateway.start(recoveringStandbyOptions(world, dir, errors))
      cleanups.push(() => standby.stop())
      const pulling = replicator(standby.engine.wal, () => server.url)
      pulling.start()
      cleanups.push(() => pulling.stop())
      await trade(world, { orders: 40, tag: 'after', seed: seed + 7 })
      await run(world, 3_000)
      await waitFor(() => standby.engine.state.lastLsn === world.gateway.engine.state.lastLsn, 5_000, 'the standby caught up')
      const stats = standby.engine.shadow?.stats
      expect(stats?.decisions ?? 0).toBeGreaterThan(100)
      expect({ mismatches: stats?.mismatches, last: stats?.lastMismatches }).toEqual({ mismatches: 0, last: [] })
      expect(stateDigest(standby.engine.state)).toBe(stateDigest(world.gateway.engine.state))
      expect(errors).toEqual([])
    })
  }
})
