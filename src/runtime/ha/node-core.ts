/**
 * What the two sides of an HA node's role — leading (leading.ts) and following (following.ts) — read and change of
 * the node (node.ts). HaNode holds the state and hands each side a view of it (HaNode.core): reads and writes go to
 * the node itself, so every side sees the same role, gateway and lease at every moment. A side reaches the other
 * through the view too (`lead`, `follow`, `stepDown`), so neither file imports the other.
 */

import type { Lease } from '../../../wal/index.ts'
import type { Gateway } from '../gateway.ts'
import type { DivergenceReport } from './divergence.ts'
import type { ResyncAbort } from './leader-gone.ts'
import type { LeaseTrouble } from './lease-trouble.ts'
import type { LeaseWatch } from './lease-watch.ts'
import type { HaNodeOptions, NodeRole } from './node-options.ts'
import type { Replicator } from './replicator.ts'
import type { SnapshotRecoveryStatus } from './resync.ts'
import type { RoleChanges } from './role-changes.ts'
import type { SyncReplication } from './sync.ts'
import type { TakeoverBackoff } from './takeover-backoff.ts'
import type { LogEnd, TakeoverGuard } from './takeover-guard.ts'
import type { TakeoverWouldRefuse } from './takeover-would-refuse.ts'
import type { TakeoverLag } from './takeover-lag.ts'

export interface NodeCore {
  readonly options: HaNodeOptions
  /** The lease holder id: the node's id and advertised URL (HaNode.holderId). */
  readonly holderId: string
  /** The node's role changes (role-changes.ts): their stop signal and pauses. */
  readonly changes: RoleChanges
  /** stop() has begun. */
  readonly stopping: boolean
  /** The running re-sync's abort: its requests to the leader end once the leader's lease is free (leader-gone.ts). */
  readonly resyncAbort: ResyncAbort
  /** The follower's watch on the lease record, for one whose expiry lies ahead of this clock (lease-watch.ts). */
  readonly leaseWatch: LeaseWatch
  /** What the node says while it cannot read the lease directory (lease-trouble.ts). */
  readonly leaseTrouble: LeaseTrouble
  /** The wait between failed takeovers (takeover-backoff.ts). */
  readonly takeoverBackoff: TakeoverBackoff
  /** A caught-up standby's check that its takeover would be refused (takeover-would-refuse.ts). */
  readonly takeoverWouldRefuse: TakeoverWouldRefuse
  /** A take of the lease judged on this node's log end and above its last epoch, read by `logEnd` (takeover-guard.ts). */
  guard(logEnd: () => LogEnd): TakeoverGuard
  role: NodeRole
  gateway: Gateway | null
  lease: Lease | null
  /** This leadership term's synchronous replication (null while not leading). */
  sync: SyncReplication | null
  /** The standby's replicator (null while not following). */
  replicator: Replicator | null
  lastTakeoverMs: number | null
  /** What this log lacked of the old leader's at the last takeover (takeover-lag.ts); null: never took over. */
  lastTakeoverLag: TakeoverLag | null
  lastDivergence: DivergenceReport | null
  lastSnapshotRecovery: SnapshotRecoveryStatus | null
  /** The leader's URL as the current lease names it (HaNode.leaderUrl). */
  leaderUrl(): string | null
  /** Finishes or drops an interrupted swap of `log/` before a gateway starts (HaNode.finishInterruptedSwaps). */
  finishInterruptedSwaps(when?: string): void
  /** Runs a role change, one at a time (HaNode.exclusive). */
  exclusive(name: string, work: () => Promise<void>, waitForFree?: boolean): Promise<void>
  /** Watches the gateway's log: its death is a step-down or the node's failure (HaNode.watchLog). */
  watchLog(gateway: Gateway): void
  /** Leads on `lease` (leading.ts). */
  lead(lease: Lease, takenAtMs: number | null): Promise<void>
  /** Follows the leader (following.ts). */
  follow(): Promise<void>
  /** Leaves the leader's role and follows (leading.ts). */
  stepDown(): Promise<void>
}
