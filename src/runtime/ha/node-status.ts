/**
 * What an HA node reports about itself (HaNode.status): `/health` → `ha`. Its documented schema
 * (src/http/openapi/ha-status-schema.ts) is checked against this type at compile time. Its keys are snake_case at
 * every depth, like every JSON body of the HTTP API: the reports the runtime keeps under camelCase names (a
 * divergence, a snapshot recovery, the shadow decisions) are mapped by status-json.ts.
 */

import { basename } from 'node:path'
import type { Gateway } from '../gateway.ts'
import type { Lease } from '../../../wal/index.ts'
import type { DivergenceReport } from './divergence.ts'
import type { NodeRole } from './node-options.ts'
import type { SnapshotRecoveryStatus } from './resync.ts'
import type { ReplicatorStatus } from './replicator.ts'
import { divergenceJson, shadowJson, snapshotRecoveryJson, type DivergenceJson, type ShadowJson, type SnakeKeysOnly, type SnapshotRecoveryJson } from './status-json.ts'
import type { SyncPolicy, SyncReplication, SyncStatus } from './sync.ts'
import type { TakeoverRefusedJson } from './takeover-guard.ts'
import type { TakeoverLag } from './takeover-lag.ts'
import type { TakeoverWouldRefuseJson } from './takeover-would-refuse.ts'

/** `ha.sync` of a node not leading: only the configured policy, and no standby in sync. */
export type SyncNotLeading = { policy: SyncPolicy; state: 'down' }

export type HaNodeStatus = {
  role: NodeRole
  node_id: string
  /** The lease's epoch while holding one, else its log's last epoch; 0 with neither (an empty log, or no gateway). */
  epoch: number
  /**
   * The leader's advertised URL: this node's while leading (its lease held), else as the current lease names it (null:
   * none) — a leader whose lease another node took names that node before its next renewal steps it down.
   */
  leader: string | null
  /** Leading: the lease is held and the gateway is ready; following: the replication stream is connected. */
  ready: boolean
  lag_records: number
  replicating: boolean
  /** How long the last takeover took, lease taken to intake open (ms); null: this node never took over. */
  last_takeover_ms: number | null
  /** What this log lacked of the old leader's when this node last took the lease; null: it never took over. */
  last_takeover_lag: { epoch: number; log_last_lsn: number; leader_last_lsn: number | null; records_behind: number | null } | null
  last_divergence: DivergenceJson | null
  failure: string | null
  last_snapshot_recovery: SnapshotRecoveryJson | null
  sync: SyncStatus | SyncNotLeading
  shadow: ShadowJson | null
  command_record_failures: number
  /**
   * Why this node last refused to take the free lease: its log ends below the LSN a standby of the last leader held
   * (takeover-guard.ts); null once the lease is held again or taken, or if it never refused.
   */
  takeover_refused: TakeoverRefusedJson | null
  /**
   * Caught up with the leader, this standby's log holds orders not ended on a venue its config no longer lists: its
   * takeover would be refused (VENUE_GONE_ORDERS_OPEN; takeover-would-refuse.ts). null: it would not, or not checked.
   */
  takeover_would_refuse: TakeoverWouldRefuseJson | null
}

// tsc fails here when a key of the status, at any depth, is not snake_case (SyncStatus is built so by sync.ts).
const statusKeysSnakeCase: SnakeKeysOnly<HaNodeStatus> = true

/** What status() reads off the node (its public state). */
export interface NodeStatusSource {
  role: NodeRole
  gateway: Gateway | null
  lease: Lease | null
  sync: SyncReplication | null
  lastTakeoverMs: number | null
  lastTakeoverLag: TakeoverLag | null
  lastDivergence: DivergenceReport | null
  lastSnapshotRecovery: SnapshotRecoveryStatus | null
  failure: Error | null
}

/** The node's report, from its state and what only it knows (its options, the current leader, its replicator). */
export function nodeStatusOf(
  node: NodeStatusSource,
  known: {
    nodeId: string; advertiseUrl: string; syncPolicy: SyncPolicy; leaderUrl: string | null; replication: ReplicatorStatus | undefined; leading: boolean
    takeoverRefused: TakeoverRefusedJson | null
    takeoverWouldRefuse: TakeoverWouldRefuseJson | null
  },
): HaNodeStatus {
  const { replication, leading } = known
  const shadow = node.gateway?.engine.shadow?.stats ?? null
  return {
    role: node.role,
    node_id: known.nodeId,
    epoch: node.lease?.epoch ?? node.gateway?.engine.wal.lastEpoch ?? 0,
    leader: leading ? known.advertiseUrl : known.leaderUrl,
    ready: node.role === 'leader' ? leading && (node.gateway?.ready ?? false) : replication?.connected === true,
    lag_records: replication?.lagRecords ?? 0,
    replicating: replication?.connected ?? false,
    last_takeover_ms: node.lastTakeoverMs,
    last_takeover_lag: lagJson(node.lastTakeoverLag),
    last_divergence: node.lastDivergence === null ? null : divergenceJson(node.lastDivergence),
    failure: node.failure === null ? null : failureText(node.failure),
    last_snapshot_recovery: node.lastSnapshotRecovery === null ? null : snapshotRecoveryJson(node.lastSnapshotRecovery),
    sync: node.sync?.status() ?? { policy: known.syncPolicy, state: 'down' },
    // Shadow decisions of this node while it follows (null while leading): counts and the last mismatches.
    shadow: shadow === null ? null : shadowJson(shadow),
    // Leading: commands that could not be written as kernel.command records (the standby cannot re-decide them).
    command_record_failures: node.gateway?.engine.commandRecordFailures ?? 0,
    takeover_refused: known.takeoverRefused,
    takeover_would_refuse: known.takeoverWouldRefuse,
  }
}

/**
 * `ha.failure` as documented, `CODE: message`: a failure whose message does not start with its code (WalFatalError's)
 * gets it in front, so that an open /health, which shows only the code (haStatusCodesOnly), has one.
 */
function failureText(failure: Error): string {
  const known = stableCodeOf(failure, 'NODE_FAILED')
  return failure.message.startsWith(`${known}: `) ? failure.message : `${known}: ${failure.message}`
}

/** The error's stable code (`WAL_FATAL`, `FSYNC_FAILED`, `LEASE_LOST`), or `fallback` when it carries none. */
export function stableCodeOf(error: Error, fallback: string): string {
  const { code } = error as { code?: unknown }
  return typeof code === 'string' && STATUS_CODE.test(code) ? code : fallback
}

/** A stable code as the texts of the status start with one (`FSYNC_FAILED`, `SET_ASIDE_FAILED`, `PREFIX_BUILD_FAILED`). */
const STATUS_CODE = /^[A-Z][A-Z0-9_]{0,63}$/

/**
 * The status as an open /health (auth.protectServiceRoutes off) shows it to a caller without a service reader's token
 * (routes/health.ts): each error text (`failure`, `last_divergence.error` and `.fallback`, `last_snapshot_recovery.error`)
 * cut to its stable code, and each `moved_to` to its name in the data dir. Those texts name the data dir and its
 * files (`FSYNC_FAILED: fsync of /srv/egress/data/log failed …`), as `log.error` does (review: they went to anyone).
 */
export function haStatusCodesOnly(status: HaNodeStatus): HaNodeStatus {
  const divergence = status.last_divergence
  const recovery = status.last_snapshot_recovery
  return {
    ...status,
    failure: status.failure === null ? null : codeOfText(status.failure, 'NODE_FAILED'),
    last_divergence: divergence === null ? null : {
      ...divergence,
      moved_to: basename(divergence.moved_to),
      fallback: divergence.fallback === null ? null : codeOfText(divergence.fallback, 'PREFIX_NOT_KEPT'),
      error: divergence.error === null ? null : codeOfText(divergence.error, 'SET_ASIDE_FAILED'),
    },
    last_snapshot_recovery: recovery === null ? null : recovery.state === 'failed' ? { ...recovery, error: recovery.code } : { ...recovery, moved_to: basename(recovery.moved_to) },
  }
}

/** The code a `CODE: message` text starts with, or `fallback`. */
function codeOfText(text: string, fallback: string): string {
  const code = text.slice(0, Math.max(0, text.indexOf(': ')))
  return STATUS_CODE.test(code) ? code : fallback
}

function lagJson(lag: TakeoverLag | null): HaNodeStatus['last_takeover_lag'] {
  return lag === null ? null : { epoch: lag.epoch, log_last_lsn: lag.logLastLsn, leader_last_lsn: lag.leaderLastLsn, records_behind: lag.recordsBehind }
}
