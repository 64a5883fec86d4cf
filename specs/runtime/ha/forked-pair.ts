/**
 * A deposed leader and the node that took over from it, for the divergence specs. A led at epoch 1 and B followed it
 * up to `commonLsn`; A then went on writing records B never got (orders accepted with its executor stopped, so none
 * reached the venue; a snapshot of that state too) and died as a kill -9 would leave it. B took the lease at epoch 2
 * with the log it had, leads and writes on, serving replication on loopback (every request it answers is recorded).
 * `rejoiningNode` brings A back as an HaNode standby on its own data dir, following B.
 */

import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { Lease, Wal, nodeIo, toHex, type WalIo } from '../../../wal/index.ts'
import { Gateway } from '../../../src/runtime/index.ts'
import { HaNode } from '../../../src/runtime/ha/index.ts'
import { SnapshotStore, takeSnapshot } from '../../../src/runtime/snapshot/index.ts'
import { crashWorld, removeDir, run, standbyOptionsOf, startWorld, tempDataDir, traderA, type World } from '../harness.ts'
import { TOKEN, haHttp, replicator, serveReplication, waitFor } from './support.ts'

/** Small segments, so the shared part of A's log spans many of them. */
const SEGMENT_BYTES = 8 * 1024
const LEASE_TTL_MS = 60_000

export interface ForkedPair {
  leaseDir: string
  /** A's data dir as its crash left it, its last LSN, and the chain hash of each of its records after commonLsn. */
  a: { dir: string; lastLsn: number; divergedHashes: string[]; snapshotBelowLsn: number; snapshotAboveLsn: number }
  b: World
  commonLsn: number
  server: { url: string; stop: () => void }
  /** Every replication request B's server answered (path and query). */
  requests: URL[]
  /** Stops B and its server, removes every directory. */
  cleanup: () => Promise<void>
}

async function placeOrders(world: World, tag: string, count: number): Promise<void> {
  for (let index = 0; index < count; index++) {
    const body = { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '61000', client_order_id: `${tag}-${index}` }
    const { reply } = await world.gateway.place(traderA, body, null)
    if (reply.kind !== 'accepted') throw new Error(`order ${tag}-${index}: ${JSON.stringify(reply)}`)
  }
  await run(world, 300)
}

async function snapshotOf(world: World): Promise<number> {
  const taken = await takeSnapshot(world.gateway.engine, new SnapshotStore(join(world.dir, 'snapshots'), { io: nodeIo, keep: 3 }), { nowMs: world.clock.nowMs() })
  if (taken === null) throw new Error('expected a snapshot')
  return taken.lsn
}

/** B's log: a replica of A's as it stands now (what B had followed when A was deposed). */
export async function followerLogOf(a: World): Promise<string> {
  const dir = tempDataDir()
  const replica = Wal.openReplica(join(dir, 'log'), { durability: 'none' })
  const source = serveReplication(() => a.gateway.engine.wal)
  const pulling = replicator(replica, () => source.url)
  pulling.start()
  await waitFor(() => replica.lastLsn === a.gateway.engine.wal.lastLsn, 5_000, 'B following A')
  await pulling.stop()
  source.stop()
  await replica.close()
  return dir
}

export interface ForkedPairOptions {
  /** Answers a request to B's replication server instead of B (a failing or silent leader); undefined: B answers. */
  intercept?: (url: URL) => Response | Promise<Response> | undefined
}

export async function forkedPair(seed: number, options: ForkedPairOptions = {}): Promise<ForkedPair> {
  const leaseDir = tempDataDir()
  const leaseA = Lease.acquire({ dir: leaseDir, holderId: 'a http://127.0.0.1:1', ttlMs: LEASE_TTL_MS, clockSkewMsMax: 100 })
  const a = await startWorld({ seed, wal: { lease: leaseA, epoch: leaseA.epoch, segmentBytesMax: SEGMENT_BYTES } })
  a.gateway.engine.commandRecords = true
  await placeOrders(a, 'shared', 8)
  const snapshotBelowLsn = await snapshotOf(a)
  await placeOrders(a, 'shared-late', 6)
  const bDir = await followerLogOf(a)
  const commonLsn = a.gateway.engine.wal.lastLsn
  // A writes on alone: B never gets these records.
  a.gateway.executor.stop()
  await placeOrders(a, 'unshared', 3)
  const snapshotAboveLsn = await snapshotOf(a)
  await placeOrders(a, 'unshared-late', 2)
  const divergedHashes = Array.from(a.gateway.engine.wal.read(commonLsn + 1), (frame) => toHex(frame.hash))
  const aLastLsn = a.gateway.engine.wal.lastLsn
  await crashWorld(a)
  // B takes the lease (its clock says A's expired) naming the URL it serves replication at, and leads at epoch 2.
  const requests: URL[] = []
  const leader: { world: World | null } = { world: null }
  const server = serveReplication(() => (leader.world as World).gateway.engine.wal, haHttp(), (url) => {
    requests.push(url)
    return options.intercept?.(url)
  })
  const leaseB = Lease.acquire({ dir: leaseDir, holderId: `b ${server.url}`, ttlMs: LEASE_TTL_MS, clockSkewMsMax: 100, nowMs: () => Date.now() + 2 * LEASE_TTL_MS })
  const b = await startWorld({ seed, dir: bDir, clock: a.clock, venue: a.venue, wal: { lease: leaseB, epoch: leaseB.epoch, segmentBytesMax: SEGMENT_BYTES } })
  leader.world = b
  b.gateway.engine.commandRecords = true
  await placeOrders(b, 'after-takeover', 5)
  return {
    leaseDir,
    a: { dir: a.dir, lastLsn: aLastLsn, divergedHashes, snapshotBelowLsn, snapshotAboveLsn },
    b,
    commonLsn,
    server,
    requests,
    cleanup: async () => {
      server.stop()
      await b.gateway.stop().catch(() => undefined)
      for (const dir of [leaseDir, a.dir, bDir]) removeDir(dir)
    },
  }
}

export interface RejoiningNode {
  node: HaNode
  /** Every LSN the node's log took from the leader (replicated batches), in order. */
  appended: number[]
  errors: string[]
  logLines: string[]
}

export interface RejoinOptions {
  /** The file-system calls of keeping a diverged prefix (HaNodeOptions.dataDirIo). */
  io?: WalIo
  /** Fails the node's standby start number `index` (0: the first), as a start refusing its log or a snapshot would. */
  refuseStart?: (index: number) => boolean
  /** The node's replication silenceMsMax, which also bounds each request of the shared-LSN search (default 2 s). */
  silenceMsMax?: number
}

/** A back as a standby (an HaNode on its own data dir), following B. */
export function rejoiningNode(pair: ForkedPair, options: RejoinOptions = {}): RejoiningNode {
  const appended: number[] = []
  const errors: string[] = []
  const logLines: string[] = []
  let starts = 0
  const node = new HaNode({
    nodeId: 'a',
    advertiseUrl: 'http://127.0.0.1:1',
    dataDir: pair.a.dir,
    leaseDir: pair.leaseDir,
    leaseTtlMs: LEASE_TTL_MS,
    clockSkewMsMax: 100,
    role: 'standby',
    replicationToken: TOKEN,
    startGateway: async (role) => {
      if (role !== 'standby') throw new Error('A never leads in these specs')
      if (options.refuseStart?.(starts++) === true) throw new Error('start refused by the spec')
      return Gateway.start(standbyOptionsOf(pair.b, pair.a.dir, errors))
    },
    onGateway: (gateway) => {
      gateway.engine.wal.subscribe((batch) => {
        for (let lsn = batch.firstLsn; lsn <= batch.lastLsn; lsn++) appended.push(lsn)
      })
    },
    log: (line) => void logLines.push(line),
    replication: { backoffMsMin: 10, backoffMsMax: 50, envelopeBytesMax: 4 * 1024 * 1024, silenceMsMax: options.silenceMsMax ?? 2_000 },
    ...(options.io === undefined ? {} : { dataDirIo: options.io }),
  })
  return { node, appended, errors, logLines }
}

/** Waits until the node follows the leader and holds its whole log. */
export async function caughtUp(rejoin: RejoiningNode, pair: ForkedPair): Promise<void> {
  const leaderWal = pair.b.gateway.engine.wal
  await waitFor(
    () => rejoin.node.role === 'standby' && rejoin.node.gateway?.engine.wal.lastLsn === leaderWal.lastLsn,
    15_000,
    `A caught up with B at LSN ${leaderWal.lastLsn} (A at ${rejoin.node.gateway?.engine.wal.lastLsn}, role ${rejoin.node.role}; ${rejoin.logLines.join(' | ')})`,
  )
}

/** The `from_lsn` of every replication stream B's server was asked for, in order. */
export function streamsFrom(pair: ForkedPair): number[] {
  return pair.requests.filter((url) => url.pathname === '/replication/stream').map((url) => Number(url.searchParams.get('from_lsn')))
}

export function segmentNames(dir: string): string[] {
  return readdirSync(dir).filter((name) => name.endsWith('.seg')).sort()
}
