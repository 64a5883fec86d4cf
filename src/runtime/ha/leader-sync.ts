/**
 * A leader's synchronous replication for one leadership term: a SyncReplication over the gateway's log whose state
 * changes are logged and, under `degrade_async`, recorded in the log as alert records (records.ts) — the durable
 * mark that from that LSN on, 202s did not wait for the standby, and from the next one on they do again.
 *
 * In either synchronous policy a venue place or amend call also waits for the standby to hold its send record
 * (Engine.placeSendGate), like a 202 does: otherwise a leader killed right after sending, before its standby had the
 * record, would leave a new leader that believes the order unsent and sends it again — a duplicate at the venue. The
 * wait has its own table (never cut short by the 202s' waitersMax) and is bounded by the sync timeout. Under
 * fail_closed a call the standby did not confirm (gone, or silent for the timeout) is held: the executor records a
 * send retry due after the sync timeout and the call is decided and gated again then. Under degrade_async it goes
 * out (the degraded state is on record). The gate is installed before the executor starts (bootstrap's resends).
 */

import type { Engine } from '../engine.ts'
import type { Gateway } from '../gateway.ts'
import { syncTransitionRecord } from './records.ts'
import { standbyName, SyncReplication, type SyncPolicy, type SyncReplicationOptions } from './sync.ts'

export interface LeaderSyncOptions {
  policy: SyncPolicy
  timeoutMs: number
  waitersMax: number
  log: (line: string) => void
  /** False once this gateway no longer leads (a deposed leader records nothing). */
  isCurrent: () => boolean
  /** The in-sync set carried in the lease, and how a changed one is written there (sync.ts; absent: no lease). */
  inSync?: SyncReplicationOptions['inSync']
  /**
   * fail_closed: told `true` while the standby is not in sync (from the start: a new term has none), `false` once it
   * is. The executor then picks no place or amend (Executor.holdPlaceSends 'standby'): the gate would hold each at
   * once, recorded as a retry, again after every sync timeout — a few records per held order per timeout, for as long
   * as the standby stayed away.
   */
  holdSends?: (held: boolean) => void
}

/**
 * The holdSends of a term leading `gateway` (ha/leading.ts newSync): the executor's 'standby' hold, set while the
 * standby is not in sync; none without a gateway.
 */
export function executorSendHold(gateway: Pick<Gateway, 'executor'> | null): (held: boolean) => void {
  return (held) => (held ? gateway?.executor.holdPlaceSends('standby') : gateway?.executor.releasePlaceSends('standby'))
}

export function leaderSync(engine: Engine, options: LeaderSyncOptions): SyncReplication {
  const { policy, log } = options
  const sync = new SyncReplication({
    policy,
    epoch: engine.wal.epoch,
    timeoutMs: options.timeoutMs,
    waitersMax: options.waitersMax,
    leaderLastLsn: () => engine.wal.lastLsn,
    nowMs: Date.now,
    ...(options.inSync === undefined ? {} : { inSync: options.inSync }),
    onWentBack: ({ nodeId, lsn, previousLsn }) => {
      log(
        `synchronous replication (${policy}): DATA LOSS ON A STANDBY: ${standbyName(nodeId)} acknowledged LSN ${lsn} after LSN ${previousLsn} this term — ` +
          `it lost records it had acknowledged as durable (restarted on an older copy of its data directory?); ` +
          (policy === 'off' ? 'no in-sync set is kept under off: nothing waits for it' : 'it is out of the in-sync set and counts again only once caught up and written back into the lease record'),
      )
    },
    onTransition: (transition) => {
      log(`synchronous replication (${policy}) ${transition.state}: ${transition.reason}`)
      if (policy === 'fail_closed' && options.isCurrent()) options.holdSends?.(transition.state !== 'sync')
      if (policy !== 'degrade_async' || !options.isCurrent()) return
      engine.appendRecords([syncTransitionRecord({ ...transition, policy })]).catch((error: unknown) => {
        log(`recording the replication ${transition.state === 'down' ? 'degraded' : 'restored'} alert: ${error instanceof Error ? error.message : String(error)}`)
      })
    },
  })
  if (policy === 'fail_closed') options.holdSends?.(sync.state !== 'sync')
  if (policy !== 'off') {
    // A venue place call waits until the standby holds its send record (see Engine.placeSendGate, README HA).
    engine.placeSendGate = async (lsn) => {
      const verdict = await sync.untilReplicated(lsn)
      if (verdict === 'closed') throw new Error(`not sent: this node stopped leading before the standby confirmed the send record at LSN ${lsn}`)
      if (verdict === 'send') return { send: true }
      return { send: false, reason: `HA_STANDBY_UNCONFIRMED: the standby did not confirm the send record at LSN ${lsn} (durable to ${sync.standbyDurableLsn}, ${sync.state})`, retryAfterMs: options.timeoutMs }
    }
  }
  return sync
}
