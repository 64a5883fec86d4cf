/**
 * An in-process HA node for the specs that drive a role change through a spec's own `startGateway`: a standby on a
 * fresh data dir whose lease directory holds an old leader's lease (TAKEOVER_TTL_MS) that nobody renews, so the
 * node takes over once it expires. Its gateways are the world's (standbyOptionsOf, leaderOptionsOf); everything is
 * stopped and removed by the cleanups given.
 */

import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Lease } from '../../../wal/index.ts'
import { Gateway } from '../../../src/runtime/index.ts'
import type { Engine } from '../../../src/runtime/engine.ts'
import { HaNode, type HaNodeOptions } from '../../../src/runtime/ha/index.ts'
import { removeDir, standbyOptionsOf, tempDataDir, type World } from '../harness.ts'
import { TOKEN } from './support.ts'

export const TAKEOVER_TTL_MS = 200
const SKEW_MS = 10

export interface TakeoverNode {
  node: HaNode
  dataDir: string
  leaseDir: string
  logLines: string[]
  /** What the node's gateways reported through onError (a spec expects none). */
  errors: string[]
}

/** The options of a leader gateway over the world's venues for `dataDir`, writing under `lease`. */
export function leaderOptionsOf(world: World, dataDir: string, errors: string[], lease: Lease, beforeBootstrap?: (engine: Engine, gateway: Gateway) => void): Parameters<typeof Gateway.start>[0] {
  const options = standbyOptionsOf(world, dataDir, errors)
  return {
    ...options,
    role: 'leader',
    venues: world.gateway.options.venues,
    lease,
    wal: { ...options.wal, lease, epoch: lease.epoch },
    ...(beforeBootstrap === undefined ? {} : { beforeBootstrap }),
  }
}

/** A `startGateway` for takeoverNode: the world's standby gateways, and its leaders as leaderOptionsOf. */
export function worldGateways(world: World): (dataDir: string, errors: string[]) => HaNodeOptions['startGateway'] {
  return (dataDir, errors) => async (role, lease, beforeBootstrap) => {
    if (role === 'standby') return Gateway.start(standbyOptionsOf(world, dataDir, errors))
    if (lease === null) throw new Error('no lease')
    return Gateway.start(leaderOptionsOf(world, dataDir, errors, lease, beforeBootstrap))
  }
}

/**
 * A `startGateway` for takeoverNode: leaders as leaderOptionsOf, and a standby gateway whose stop waits for `held`
 * before it stops for real (a venue or disk that never answers while the spec holds it); `onStandbyStopping` is told
 * when that stop begins, `roles` (if given) gets each role asked for.
 */
export function heldStandbyStop(world: World, held: Promise<void>, onStandbyStopping: () => void, roles?: string[]): (dataDir: string, errors: string[]) => HaNodeOptions['startGateway'] {
  return (dataDir, errors) => async (role, lease, beforeBootstrap) => {
    roles?.push(role)
    if (role === 'leader') {
      if (lease === null) throw new Error('no lease')
      return Gateway.start(leaderOptionsOf(world, dataDir, errors, lease, beforeBootstrap))
    }
    const standby = await Gateway.start(standbyOptionsOf(world, dataDir, errors))
    const stop = standby.stop.bind(standby)
    standby.stop = async () => {
      onStandbyStopping()
      await held
      await stop()
    }
    return standby
  }
}

export interface TakeoverNodeOptions {
  /** false: the lease directory is left empty (no takeover pending). */
  oldLeader?: boolean
  /** The node's own lease TTL (default TAKEOVER_TTL_MS). */
  leaseTtlMs?: number
  log?: (line: string) => void
  /** The node's onGateway (default: does nothing). */
  onGateway?: HaNodeOptions['onGateway']
  /** The node's snapshot-recovery limits (with the TTL and backoff, they bound how long stop() waits). */
  snapshotRecovery?: HaNodeOptions['snapshotRecovery']
  /** The node's role choice (default `standby`; `auto` with no old leader: it leads at once). */
  role?: HaNodeOptions['role']
  /** The bound on time without progress of stop()'s teardown (default: the node's, 30 s). */
  teardownWaitMsMax?: number
  /** The bound of the wait between failed takeovers (default: the node's, 30 s). */
  takeoverBackoffMsMax?: number
  /** The venues a leader start on the node's config serves (default: not known, nothing checked). */
  leaderVenues?: HaNodeOptions['leaderVenues']
}

/** A standby node as described in the header. `startGateway` is given the node's data dir and error list. */
export function takeoverNode(
  cleanups: (() => Promise<void> | void)[],
  startGateway: (dataDir: string, errors: string[]) => HaNodeOptions['startGateway'],
  options: TakeoverNodeOptions = {},
): TakeoverNode {
  const leaseDir = mkdtempSync(join(tmpdir(), 'egress-lease-'))
  const dataDir = tempDataDir()
  if (options.oldLeader !== false) Lease.acquire({ dir: leaseDir, holderId: 'old http://127.0.0.1:1', ttlMs: TAKEOVER_TTL_MS, clockSkewMsMax: SKEW_MS })
  const errors: string[] = []
  const logLines: string[] = []
  const node = new HaNode({
    nodeId: 'standby',
    advertiseUrl: 'http://127.0.0.1:2',
    dataDir,
    leaseDir,
    leaseTtlMs: options.leaseTtlMs ?? TAKEOVER_TTL_MS,
    clockSkewMsMax: SKEW_MS,
    role: options.role ?? 'standby',
    replicationToken: TOKEN,
    startGateway: startGateway(dataDir, errors),
    onGateway: options.onGateway ?? (() => {}),
    log: (line) => {
      logLines.push(line)
      options.log?.(line)
    },
    replication: { backoffMsMin: 10, backoffMsMax: 50, envelopeBytesMax: 1024 * 1024, silenceMsMax: 500 },
    ...(options.snapshotRecovery === undefined ? {} : { snapshotRecovery: options.snapshotRecovery }),
    ...(options.teardownWaitMsMax === undefined ? {} : { teardownWaitMsMax: options.teardownWaitMsMax }),
    ...(options.takeoverBackoffMsMax === undefined ? {} : { takeoverBackoffMsMax: options.takeoverBackoffMsMax }),
    // A spec's standby checks at every lease TTL (the least the node allows), not once a minute.
    ...(options.leaderVenues === undefined ? {} : { leaderVenues: options.leaderVenues, takeoverWouldRefuseCheckMs: 0 }),
  })
  cleanups.push(async () => {
    await node.stop()
    removeDir(leaseDir)
    removeDir(dataDir)
  })
  return { node, dataDir, leaseDir, logLines, errors }
}
