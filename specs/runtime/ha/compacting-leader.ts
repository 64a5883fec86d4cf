/** For the standby snapshot-recovery specs: a leader that compacts its log, and a standby that restarts from snapshots. */

import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Lease, nodeIo, type WalIo } from '../../../wal/index.ts'
import { Gateway } from '../../../src/runtime/index.ts'
import type { GatewayRole } from '../../../src/runtime/gateway.ts'
import type { HaNodeOptions } from '../../../src/runtime/ha/index.ts'
import { SnapshotStore } from '../../../src/runtime/snapshot/index.ts'
import { removeDir, run, standbyOptionsOf, startWorld, tempDataDir, type World } from '../harness.ts'
import { trade } from '../snapshot/support.ts'
import { haHttp, serveReplication, TOKEN } from './support.ts'

export interface CompactingLeaderOptions {
  /** Answers a request to the leader's server instead of the leader (a failing or silent leader); undefined: it answers. */
  intercept?: (url: URL) => Response | Promise<Response> | undefined
  /** The epoch the leader's log writes its frames at (default 1). */
  epoch?: number
}

/** A leader that snapshots every 60 records and compacts below them, serving replication and its snapshots. */
export async function compactingLeader(seed: number, cleanups: (() => Promise<void> | void)[], options: CompactingLeaderOptions = {}): Promise<{ world: World; url: string }> {
  const wal = { segmentBytesMax: 4096, ...(options.epoch === undefined ? {} : { epoch: options.epoch }) }
  const world = await startWorld({ seed, wal, snapshots: { everyRecords: 60, keep: 2, compaction: 'archive' } })
  const store = (): SnapshotStore => new SnapshotStore(join(world.dir, 'snapshots'), { io: nodeIo, keep: 2 })
  const server = serveReplication(() => world.gateway.engine.wal, haHttp({ snapshots: store }), options.intercept)
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

/** The longest replication backoff of a recovering standby: a failed snapshot recovery is retried after it. */
export const RECOVERING_BACKOFF_MS_MAX = 100

export interface RecoveringStandby {
  /** The node's options (an HaNode of them starts with an empty data dir). */
  options: HaNodeOptions
  /** The lease naming the leader (held for 60 s; the spec may renew it). */
  lease: Lease
  /** Every line the node logged. */
  logLines: string[]
  /** What the node's gateways reported through onError (a spec expects none). */
  errors: string[]
}

export interface RecoveringStandbyOptions {
  /** The file-system calls of a re-sync (HaNodeOptions.dataDirIo); default node:fs. */
  io?: WalIo
  /** Sees every line the node logs, as it is logged. */
  onLog?: (line: string) => void
}

/**
 * An empty standby (an in-process HaNode's options, on a fresh data dir) following the leader at `url`, named by a
 * lease in a fresh lease directory; its gateways restart from snapshots (recoveringStandbyOptions). The lease and both
 * directories go with `cleanups`; the spec stops its node itself (a cleanup pushed after this one runs first).
 */
export function recoveringStandby(world: World, url: string, cleanups: (() => Promise<void> | void)[], options: RecoveringStandbyOptions = {}): RecoveringStandby {
  const leaseDir = mkdtempSync(join(tmpdir(), 'egress-lease-'))
  const lease = Lease.acquire({ dir: leaseDir, holderId: `leader ${url}`, ttlMs: 60_000, clockSkewMsMax: 100 })
  const dataDir = tempDataDir()
  cleanups.push(() => {
    lease.release()
    removeDir(leaseDir)
    removeDir(dataDir)
  })
  const errors: string[] = []
  const logLines: string[] = []
  const nodeOptions: HaNodeOptions = {
    nodeId: 'standby',
    advertiseUrl: 'http://127.0.0.1:1',
    dataDir,
    leaseDir,
    leaseTtlMs: 60_000,
    clockSkewMsMax: 100,
    role: 'standby',
    replicationToken: TOKEN,
    startGateway: async (role: GatewayRole) => Gateway.start({ ...recoveringStandbyOptions(world, dataDir, errors), role }),
    onGateway: () => {},
    log: (line) => {
      logLines.push(line)
      options.onLog?.(line)
    },
    replication: { backoffMsMin: 10, backoffMsMax: RECOVERING_BACKOFF_MS_MAX, envelopeBytesMax: 4 * 1024 * 1024, silenceMsMax: 2_000 },
    ...(options.io === undefined ? {} : { dataDirIo: options.io }),
  }
  return { options: nodeOptions, lease, logLines, errors }
}
