/**
 * What an HA node reports about itself (HaNode.status): `/health` → `ha`. Its documented schema
 * (src/http/openapi/ha-status-schema.ts) is checked against this type at compile time. Some members are reports kept
 * as the runtime builds them (last_divergence, last_snapshot_recovery, shadow), so their keys are camelCase.
 */

import type { DivergenceReport } from './divergence.ts'
import type { NodeRole } from './node-options.ts'
import type { SnapshotRecoveryStatus } from './resync.ts'
import type { ShadowStats } from './shadow.ts'
import type { SyncPolicy, SyncStatus } from './sync.ts'

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
