/**
 * What an HA node (node.ts) is given: who it is and where others reach it, its data and lease directories, the role it
 * starts in, how it builds a gateway for a role, and its replication, synchronous-replication and snapshot-recovery
 * settings.
 */

import type { Lease, WalIo } from '../../../wal/index.ts'
import type { Engine } from '../engine.ts'
import type { Gateway, GatewayRole } from '../gateway.ts'
import type { SnapshotRecoveryLimits } from './resync.ts'
import type { SyncPolicy } from './sync.ts'

export type RoleChoice = 'auto' | 'leader' | 'standby'
export type NodeRole = 'starting' | 'standby' | 'promoting' | 'leader' | 'stepping-down' | 'stopped' | 'failed'

export interface HaNodeOptions {
  nodeId: string
  /** The base URL other nodes reach this one at (replication, NOT_LEADER answers). */
  advertiseUrl: string
  dataDir: string
  leaseDir: string
  leaseTtlMs: number
  clockSkewMsMax: number
  role: RoleChoice
  replicationToken: string
  /**
   * Builds this node's gateway for a role (with the lease when leading). A leader's start calls `beforeBootstrap`
   * with the engine and the gateway before its executor starts (GatewayOptions.beforeBootstrap): the send gate goes in
   * there, and the executor's places are held until the promotion has succeeded (ha/leading.ts).
   */
  startGateway: (role: GatewayRole, lease: Lease | null, beforeBootstrap?: (engine: Engine, gateway?: Gateway) => void) => Promise<Gateway>
  /** Called whenever the node's gateway changes (the HTTP layer rebinds to it). */
  onGateway: (gateway: Gateway) => void
  log: (line: string) => void
  replication: { backoffMsMin: number; backoffMsMax: number; envelopeBytesMax: number; silenceMsMax: number }
  /** Synchronous replication while leading (default: off, asynchronous). */
  sync?: { policy: SyncPolicy; timeoutMs: number; waitersMax: number }
  /**
   * How long stop()'s teardown may go without progress once no role change runs (default 30 s, serve's stop bound;
   * teardown.ts teardownBounds): past it a stuck step (a gateway stop that never ends) is abandoned, the lease released.
   */
  teardownWaitMsMax?: number
  /**
   * How long a leader's planned stop waits for its connected standbys to acknowledge its log's last LSN before it
   * releases the lease (tail-handoff.ts; default TAIL_HANDOFF_WAIT_MS_MAX).
   */
  tailHandoffWaitMsMax?: number
  /** A standby below the leader's compacted log starts from the leader's snapshot (defaults: 1 GiB, 60 s, keep 3). */
  snapshotRecovery?: SnapshotRecoveryLimits
  /**
   * The file-system calls that replace the data dir's log and snapshots (default node:fs; specs inject failures):
   * setting a diverged log aside (divergence.ts), a snapshot install (snapshot-recovery.ts), and finishing either.
   */
  dataDirIo?: WalIo
  /**
   * Take the lease even with a log below the lease record's floor (takeover-guard.ts; `--accept-data-loss`): the
   * operator's override when no copy holding the last leader's acknowledged records is left. Default false.
   */
  acceptDataLoss?: boolean
  /**
   * The bound of the wait between a standby's failed takeovers (takeover-backoff.ts; default 30 s): the first waits one
   * lease TTL, each further one twice the last, up to this.
   */
  takeoverBackoffMsMax?: number
  /**
   * The venues a leader start on this node's config has adapters for (their names; null or absent: not known). Given,
   * a standby caught up with the leader checks whether such a start would be refused for VENUE_GONE_ORDERS_OPEN, and
   * says so ahead of a failover (takeover-would-refuse.ts).
   */
  leaderVenues?: () => ReadonlySet<string> | null
  /**
   * The least time between two of those checks (default TAKEOVER_WOULD_REFUSE_CHECK_MS, never below the lease TTL):
   * each walks every order the standby holds, on the loop that applies and acknowledges the leader's records.
   */
  takeoverWouldRefuseCheckMs?: number
}
