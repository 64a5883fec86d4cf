/**
 * A leader's synchronous replication for one leadership term: a SyncReplication over the gateway's log whose state
 * changes are logged and, under `degrade_async`, recorded in the log as alert records (records.ts) — the durable
 * mark that from that LSN on, 202s did not wait for the standby, and from the next one on they do again.
 *
 * In either synchronous policy a venue place or amend call also waits for the standby to hold its send record
 * (Engine.placeSendGate), like a 202 does: otherwise a leader killed right after sending, before its standby had the
 * record, would leave a new leader that believes the order unsent and sends it again — a duplicate at the venue. The
 * wait is bounded by the sync timeout (a standby known gone is not waited for; under fail_closed no new order is
 * accepted meanwhile), so cancels queued behind a send are never held for long.
 */

import type { Gateway } from '../gateway.ts'
import { syncTransitionRecord } from './records.ts'
import { SyncReplication, type SyncPolicy } from './sync.ts'

export interface LeaderSyncOptions {
  policy: SyncPolicy
  timeoutMs: number
  waitersMax: number
  log: (line: string) => void
  /** False once this gateway no longer leads (a deposed leader records nothing). */
  isCurrent: () => boolean
}

export function leaderSync(gateway: Gateway, options: LeaderSyncOptions): SyncReplication {
  const { policy, log } = options
  const sync = new SyncReplication({
    policy,
    timeoutMs: options.timeoutMs,
    waitersMax: options.waitersMax,
    leaderLastLsn: () => gateway.engine.wal.lastLsn,
    nowMs: Date.now,
    onTransition: (transition) => {
      log(`synchronous replication (${policy}) ${transition.state}: ${transition.reason}`)
      if (policy !== 'degrade_async' || !options.isCurrent()) return
      gateway.engine.appendRecords([syncTransitionRecord({ ...transition, policy })]).catch((error: unknown) => {
        log(`recording the replication ${transition.state === 'down' ? 'degraded' : 'restored'} alert: ${error instanceof Error ? error.message : String(error)}`)
      })
    },
  })
  if (policy !== 'off') {
    // A venue place call waits until the standby holds its send record (see Engine.placeSendGate, README HA).
    gateway.engine.placeSendGate = async (lsn) => {
      if (!(await sync.untilReplicated(lsn))) throw new Error(`not sent: this node stopped leading before the standby confirmed the send record at LSN ${lsn}`)
    }
  }
  return sync
}
