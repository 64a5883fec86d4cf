/**
 * What an HA node reports about itself (HaNode.status): `/health` → `ha`. Its documented schema
 * (src/http/openapi/ha-status-schema.ts) is checked against this type at compile time. Some members are reports kept
 * as the runtime builds them (last_divergence, last_snapshot_recovery, shadow), so their keys are camelCase.
 */

import type { Gateway } from '../gateway.ts'
import type { Lease } from '../../../wal/index.ts'
import type { DivergenceReport } from './divergence.ts'
import type { NodeRole } from './node-options.ts'
import type { SnapshotRecoveryStatus } from './resync.ts'
import type { ShadowStats } from './shadow.ts'
import type { ReplicatorStatus } from './replicator.ts'
import type { SyncPolicy, SyncReplication, SyncStatus } from './sync.ts'

/** `ha.sync` of a node not leading: only the configured policy, and no standby in sync. */
export type SyncNotLeading = { policy: SyncPolicy; state: 'down' }

export type HaNodeStatus = {
  role: NodeRole
  node_id: string
  /** The lease's epoch while holding one, else its log's last epoch; 0 with neither (an empty log, or no gateway). */
  epoch: number
  /** The leader's advertised URL: this node's while leading, else as the current lease names it (null: none). */
  leader: string | null
  /** Leading: the gateway is ready; following: the replication stream is connected. */
  ready: boolean
  lag_records: number
  replicating: boolean
  /** How long the last takeover took, lease taken to intake open (ms); null: this node never took over. */
  last_takeover_ms: number | null
  last_divergence: DivergenceReport | null
  failure: string | null
  last_snapshot_recovery: SnapshotRecoveryStatus | null
  sync: SyncStatus | SyncNotLeading
  shadow: ShadowStats | null
  command_record_failures: number
}

/** What status() reads off the node (its public state). */
export interface NodeStatusSource {
  role: NodeRole
  gateway: Gateway | null
  lease: Lease | null
  sync: SyncReplication | null
  lastTakeoverMs: number | null
  lastDivergence: DivergenceReport | null
  lastSnapshotRecovery: SnapshotRecoveryStatus | null
  failure: Error | null
}

/** The node's report, from its state and what only it knows (its options, the current leader, its replicator). */
export function nodeStatusOf(
  node: NodeStatusSource,
  known: { nodeId: string; advertiseUrl: string; syncPolicy: SyncPolicy; leaderUrl: string | null; replication: ReplicatorStatus | undefined },
): HaNodeStatus {
  const { replication } = known
  return {
    role: node.role,
    node_id: known.nodeId,
    epoch: node.lease?.epoch ?? node.gateway?.engine.wal.lastEpoch ?? 0,
    leader: node.role === 'leader' ? known.advertiseUrl : known.leaderUrl,
    ready: node.role === 'leader' ? (node.gateway?.ready ?? false) : replication?.connected === true,
    lag_records: replication?.lagRecords ?? 0,
    replicating: replication?.connected ?? false,
    last_takeover_ms: node.lastTakeoverMs,
    last_divergence: node.lastDivergence,
    failure: node.failure?.message ?? null,
    last_snapshot_recovery: node.lastSnapshotRecovery,
    sync: node.sync?.status() ?? { policy: known.syncPolicy, state: 'down' },
    // Shadow decisions of this node while it follows (null while leading): counts and the last mismatches.
    shadow: node.gateway?.engine.shadow?.stats ?? null,
    // Leading: commands that could not be written as kernel.command records (the standby cannot re-decide them).
    command_record_failures: node.gateway?.engine.commandRecordFailures ?? 0,
  }
}
