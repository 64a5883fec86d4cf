/**
 * What a standby's log lacked of the old leader's when it took the lease: the old leader's last LSN as its last
 * envelope said (a lower bound: it may have written more after), against this log's last LSN once the replicator
 * stopped. Under asynchronous replication the records between them can be acknowledged orders, and they are in no
 * log the pair will go on with: the old leader's copy is set aside if it ever comes back (its divergence report), and
 * is lost with its disk if it does not. So the takeover says so, in the log and in /health (`ha.last_takeover_lag`),
 * rather than leave it to a node that may never return. Under synchronous replication the records behind were never
 * acknowledged (every 202 and every venue call waits for the standby), so a count above 0 there costs no answer.
 */

import type { ReplicatorStatus } from './replicator.ts'

export interface TakeoverLag {
  epoch: number
  /** This log's last LSN when the takeover began (everything the replicator appended included). */
  logLastLsn: number
  /** The old leader's last LSN as its last envelope said; null: this standby never heard from a leader. */
  leaderLastLsn: number | null
  /** Records the old leader held beyond this log (at least); null when unknown (leaderLastLsn null). */
  recordsBehind: number | null
}

/** The lag of a takeover at `epoch` by a log ending at `logLastLsn`, from its stopped replicator's last status. */
export function takeoverLagOf(epoch: number, logLastLsn: number, heard: ReplicatorStatus | undefined): TakeoverLag {
  const leaderLastLsn = heard === undefined || heard.lastContactMs === 0 ? null : heard.leaderLastLsn
  return { epoch, logLastLsn, leaderLastLsn, recordsBehind: leaderLastLsn === null ? null : Math.max(0, leaderLastLsn - logLastLsn) }
}

/** The log line a takeover writes about its lag. */
export function takeoverLagLine(lag: TakeoverLag): string {
  const taken = `lease epoch ${lag.epoch} taken with this log at LSN ${lag.logLastLsn}`
  if (lag.leaderLastLsn === null) return `${taken}; no leader was heard from, so what it may have held beyond is unknown`
  if (lag.recordsBehind === 0) return `${taken}; the old leader's log ended there too (as of its last envelope)`
  return (
    `${taken}: ${lag.recordsBehind} records the old leader's log held (to LSN ${lag.leaderLastLsn}, as of its last envelope) are not in it; ` +
    'under asynchronous replication they may include acknowledged orders, now lost unless that node comes back (its divergence report then lists them)'
  )
}
