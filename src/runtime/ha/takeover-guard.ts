/**
 * The takeover guard: a node whose log ends below the current lease record's log floor (wal/lease.ts
 * `replicatedLsn`: an LSN a standby of the last leader held durably, at or above every answer acknowledged under
 * synchronous replication up to its last renewal) never takes the lease, at start-up or at a takeover. Without it an
 * empty node started right after a site loss, before the surviving standby took over, won the lease and led with an
 * empty log: every acknowledged order was lost, fail_closed or not (the DR GameDay, README "Disaster recovery").
 *
 * A refused node stays (or starts) a standby and follows; each tick tries again, so it takes over once its log reaches
 * the floor, and once a node with the records leads it simply follows it and catches up. The refusal is logged once
 * per record and log end (not at every tick) and shown in /health (`ha.takeover_refused`) until the lease is held
 * again or taken. `--accept-data-loss` (acceptDataLoss) is the operator's override for when no copy holding the
 * records is left: the lease is taken below the floor, and that is logged with what was given up.
 *
 * The floor is at most one renewal old, so the record also names its in-sync set (wal/lease-in-sync.ts, in-sync.ts):
 * the standbys every acknowledged answer waited for. A node outside it (a second, lagging standby; one started from an
 * old copy) whose log passed the floor is refused all the same (LEASE_NOT_IN_SYNC), reported and overridden alike.
 * The record's holder and, while its set is empty (no member joined that term: under fail_closed it answered nothing),
 * the holder before it (`previousHolder`) are judged by the floor alone: the old leader of a two-node pair takes the
 * lease back after its standby's term ended before it rejoined.
 */

import { join } from 'node:path'
import { LeaseLogBehindError, nodeIo, openReadOnly, type Lease, type LeaseNotInSyncError } from '../../../wal/index.ts'

/** `/health` → `ha.takeover_refused`. */
export type TakeoverRefusedJson = {
  code: 'LEASE_LOG_BEHIND' | 'LEASE_NOT_IN_SYNC'
  at_ms: number
  /** The holder of the lease record that refused this node (node id and URL), and its epoch. */
  holder: string
  epoch: number
  /** The record's log floor: an LSN a standby of that holder held durably. */
  replicated_lsn: number
  /** Where this node's log ended. */
  log_last_lsn: number
  /** LEASE_NOT_IN_SYNC: the record's in-sync set, which does not name this node; null for LEASE_LOG_BEHIND. */
  in_sync: string[] | null
}

/** Where a node's log ends: its last LSN and the highest epoch of its frames (0 and 0: no log). */
export interface LogEnd {
  lastLsn: number
  lastEpoch: number
}

/** What a node's takes of the lease carry (lease-dir.ts acquireIfFree). */
export interface TakeoverGuard {
  /** This node's id, judged against the record's in-sync set. */
  nodeId: string
  /** Where this node's durable log ends; read only when the lease is free and its record carries a floor or an in-sync set. */
  logEndLsn: () => number
  /**
   * The highest epoch of this node's log's frames; read only when the lease is free. The lease is taken above it
   * (wal/lease.ts, "Epochs the log holds"): at or below it, the log refuses the leader (Wal.open) and the take is burnt.
   */
  logEpoch: () => number
  acceptDataLoss: boolean
  refusal: TakeoverRefusal
}

/** The node's last refusal, and its log lines. */
export class TakeoverRefusal {
  private last: TakeoverRefusedJson | null = null

  constructor(private readonly log: (line: string) => void) {}

  get status(): TakeoverRefusedJson | null {
    return this.last
  }

  refused(error: LeaseLogBehindError | LeaseNotInSyncError, nowMs = Date.now()): void {
    const { record } = error
    const behind = error instanceof LeaseLogBehindError
    const logEndLsn = error.logEndLsn ?? 0
    const inSync = behind ? null : [...error.record.inSync]
    const last = this.last
    const same = last !== null && last.code === error.code && last.epoch === record.epoch && last.replicated_lsn === record.replicatedLsn && last.log_last_lsn === logEndLsn
    this.last = { code: error.code === 'LEASE_NOT_IN_SYNC' ? 'LEASE_NOT_IN_SYNC' : 'LEASE_LOG_BEHIND', at_ms: same ? last.at_ms : nowMs, holder: record.holderId, epoch: record.epoch, replicated_lsn: record.replicatedLsn, log_last_lsn: logEndLsn, in_sync: inSync }
    if (same) return
    const until = behind ? `this node takes over once its log reaches LSN ${record.replicatedLsn}` : 'this node takes over only once a leader has written it into its in-sync set'
    this.log(
      `ha: ${error.message}. Staying standby and retrying: ${until}, and follows a node that holds ` +
        'the records once it leads; if no such copy is left, restart this node with --accept-data-loss (loses what it lacks)',
    )
  }

  /** The lease is held by a live leader again, or was taken by this node: nothing is refused now. */
  cleared(): void {
    this.last = null
  }

  /** This node took `lease`: said loudly when it did so below the floor (acceptDataLoss). */
  taken(lease: Lease): void {
    this.last = null
    const accepted = lease.dataLossAccepted
    if (accepted === null) return
    if (accepted.reason === 'not_in_sync') {
      this.log(
        `ha: --accept-data-loss: lease epoch ${lease.epoch} taken by a node outside the in-sync set of ${accepted.holderId} (epoch ${accepted.epoch}), ` +
          `this log at LSN ${accepted.logEndLsn}: acknowledged orders its members hold beyond it are not in this log and are lost unless a member comes back ` +
          '(it would then be set aside as diverged)',
      )
      return
    }
    this.log(
      `ha: --accept-data-loss: lease epoch ${lease.epoch} taken with this log at LSN ${accepted.logEndLsn}, below LSN ${accepted.replicatedLsn}, which a standby of ` +
        `${accepted.holderId} (epoch ${accepted.epoch}) held durably: the ${accepted.replicatedLsn - accepted.logEndLsn} records between them, acknowledged orders among them, ` +
        'are not in this log and are lost unless that copy comes back (it would then be set aside as diverged)',
    )
  }
}

/**
 * Where the log in `dataDir` ends, read without a gateway (start-up, a `leader` waiting for the lease): a read-only
 * open (the whole log scanned, chain not verified), so the caller reads it once and keeps it. 0, 0 when there is no log.
 */
export function logEndOfDataDir(dataDir: string): LogEnd {
  const logDir = join(dataDir, 'log')
  if (!nodeIo.exists(logDir)) return { lastLsn: 0, lastEpoch: 0 }
  const log = openReadOnly(logDir, { verifyChain: false })
  return { lastLsn: log.lastLsn, lastEpoch: log.lastEpoch }
}

/** `read` once, the first time it is asked for (a closed log's end does not move while this node holds its data dir). */
export function readOnce<T>(read: () => T): () => T {
  let value: T | null = null
  return () => (value ??= read())
}

/**
 * What a node's takes of the lease carry: its log's end (read by `logEnd`, only when the lease is free) against the
 * record's floor, and its last epoch, above which the lease is taken.
 */
export function takeoverGuardOf(options: { nodeId: string; acceptDataLoss?: boolean }, refusal: TakeoverRefusal, logEnd: () => LogEnd): TakeoverGuard {
  return { nodeId: options.nodeId, logEndLsn: () => logEnd().lastLsn, logEpoch: () => logEnd().lastEpoch, acceptDataLoss: options.acceptDataLoss === true, refusal }
}

/** takeoverGuardOf while the node has no gateway (start-up, a `leader` waiting for the lease): its data dir's log end, read once. */
export function dataDirTakeoverGuard(options: { dataDir: string; nodeId: string; acceptDataLoss?: boolean }, refusal: TakeoverRefusal): TakeoverGuard {
  return takeoverGuardOf(options, refusal, readOnce(() => logEndOfDataDir(options.dataDir)))
}
