/** For the standby snapshot-recovery specs: a leader that compacts its log, and a standby that restarts from snapshots. */

import { join } from 'node:path'
import { nodeIo } from '../../../wal/index.ts'
import type { Gateway } from '../../../src/runtime/index.ts'
import { SnapshotStore } from '../../../src/runtime/snapshot/index.ts'
import { removeDir, run, standbyOptionsOf, startWorld, type World } from '../harness.ts'
import { trade } from '../snapshot/support.ts'
import { haHttp, serveReplication } from './support.ts'

/** A leader that snapshots every 60 records and compacts below them, serving replication and its snapshots. */
export async function compactingLeader(seed: number, cleanups: (() => Promise<void> | void)[]): Promise<{ world: World; url: string }> {
  const world = await startWorld({ seed, wal: { segmentBytesMax: 4096 }, snapshots: { everyRecords: 60, keep: 2, compaction: 'archive' } })
  const store = (): SnapshotStore => new SnapshotStore(join(world.dir, 'snapshots'), { io: nodeIo, keep: 2 })
  const server = serveReplication(() => world.gateway.engine.wal, haHttp({ snapshots: store }))
  cleanups.push(async () => {
    server.stop()
    await world.gateway.stop()
    removeDir(world.dir)
  })
  return { world, url: server.url }
}

/** Trades on `world` until its log no longer holds LSN `belowLsn` + 1 (at most 10 rounds). */
export async function tradeUntilCompacted(world: World, belowLsn: number, seed: number): Promise<void> {
  for (let round = 0; world.gateway.engine.wal.firstLsn <= belowLsn + 1; round++) {
    if (round > 10) throw new Error(`the leader did not compact past LSN ${belowLsn}`)
    await trade(world, { orders: 30, tag: `c${round}`, seed: seed + round })
    await run(world, 100)
    await world.gateway.snapshotter.idle()
  }
}

/** A standby's options with snapshots on (defaults): what a recovered standby restarts from. */
export function recoveringStandbyOptions(world: World, dataDir: string, errors: string[]): Parameters<typeof Gateway.start>[0] {
  return { ...standbyOptionsOf(world, dataDir, errors), snapshots: {} }
}
