/**
 * Synchronous replication, the leader's side: which LSN the standby holds durably (it acknowledges over
 * `POST /replication/ack` after every envelope it has appended, heartbeats included), and the waits of writes that
 * must not be acknowledged before the standby has them.
 *
 * States: `sync` (a standby acknowledged within `timeoutMs` and had caught up) or `down` (none yet, it fell silent,
 * or a write waited `timeoutMs` in vain). A node starts `down`: a new leader has no standby until the old leader
 * comes back. `down` → `sync` once the standby acknowledges everything the log held when it first reappeared.
 *
 * Policies when `down`:
 * - `fail_closed`: new orders are refused before anything is written (STANDBY_UNAVAILABLE); a write that was already
 *   written when its wait timed out is answered REPLICATION_UNCONFIRMED (it is in this log; a retry with the same
 *   Idempotency-Key answers 202 once the standby has it). A venue place/amend call whose send record the standby
 *   does not confirm (gone, or not within timeoutMs) is held, never sent: it becomes a send retry (untilReplicated).
 * - `degrade_async`: writes are acknowledged without waiting, and each transition is recorded in the log
 *   (ha.replication_degraded / ha.replication_restored, see records.ts) so the gap in the guarantee is on record;
 *   venue calls likewise go out without the standby's confirmation while degraded.
 * - `off`: never waits; acknowledgements are only tracked (health shows the standby's durable LSN).
 *
 * Several standbys (`fail_closed`, `degrade_async`): the in-sync set (in-sync.ts). A write waits for every member, a
 * node's acknowledgements count once the lease record names it (written there first), and `standbyDurableLsn` is the
 * LSN every member holds — the floor the lease carries. `sync` means the lease names a member and every member wanted
 * in the set is live and caught up; a member that falls out leaves the set while another covers, and is kept as the
 * last one (then `down`); so does a node whose acknowledgement goes back below its last one (it lost records it had
 * acknowledged: onWentBack). Under `degrade_async` a wait that timed out is `down` all the same (the answer went out
 * unconfirmed by a member the lease still names: the window is on record). Under `off` no set is kept and
 * `standbyDurableLsn` is the highest acknowledgement.
 */

import { UNNAMED_STANDBY, type LeaseInSyncMember } from '../../../wal/index.ts'
import { InSyncSet, type InSyncMemberJson } from './in-sync.ts'

export type SyncPolicy = 'off' | 'fail_closed' | 'degrade_async'
export type SyncState = 'sync' | 'down'
/** How a write's wait ended: the standby holds it, it was not waited for (async, degraded), or the wait timed out. */
export type SyncOutcome = 'replicated' | 'not_waited' | 'timeout'

/** May a venue place/amend call go out (see SyncReplication.untilReplicated)? */
export type SendVerdict = 'send' | 'hold' | 'closed'

export const SYNC_POLICIES: readonly SyncPolicy[] = ['off', 'fail_closed', 'degrade_async']

/** A leader's synchronous replication as /health shows it (`ha.sync`). */
export type SyncStatus = {
  policy: SyncPolicy
  state: SyncState
  timeout_ms: number
  standby_durable_lsn: number
  /** Since the standby's last acknowledgement (wall clock); null before the first. */
  last_ack_age_ms: number | null
  /** 202s waiting for the standby. */
  waiting: number
  /** Venue place/amend calls waiting for the standby. */
  sends_waiting: number
  timeouts: number
  /** The in-sync set (in-sync.ts): every member, joining or leaving; null under `off` (no set kept). */
  in_sync: InSyncMemberJson[] | null
}

export interface SyncTransition {
  state: SyncState
  atMs: number
  reason: string
  standbyDurableLsn: number
  leaderLastLsn: number
}

export interface SyncReplicationOptions {
  policy: SyncPolicy
  /** This leadership term's epoch: only acknowledgements naming it are counted (see acknowledge). */
  epoch: number
  /** Longest a write waits for the standby; also how long the standby may stay silent before it counts as gone. */
  timeoutMs: number
  /** Writes waiting at once; beyond it a write is not waited for but answered as timed out (bounded memory). */
  waitersMax: number
  leaderLastLsn: () => number
  nowMs: () => number
  /** Called on every state change (degrade_async appends the alert record from here). */
  onTransition: (transition: SyncTransition) => void
  /**
   * The in-sync set as the lease record holds it when the term starts (carried over from the last holder), and how a
   * changed set is written there (the lease's next renewal, after which `inSyncWritten` is called). Absent: a set
   * starts empty and is durable as soon as it changes (no lease: a spec's lone leader).
   */
  inSync?: { carried: readonly LeaseInSyncMember[]; publish: (members: LeaseInSyncMember[]) => void }
  /**
   * A node acknowledged less than it had this term (restarted on an older copy of its data directory): it lost records
   * it had acknowledged as durable, and fell out of the in-sync set (in-sync.ts). Logged loudly by the caller.
   */
  onWentBack?: (wentBack: { nodeId: string; lsn: number; previousLsn: number }) => void
}

interface Waiter {
  lsn: number
  done: (outcome: SyncOutcome) => void
}

export class SyncReplication {
  state: SyncState = 'down'
  standbyDurableLsn = 0
  lastAckAtMs: number | null = null
  timeouts = 0
  private readonly options: SyncReplicationOptions
  /** 202s waiting (at most waitersMax). */
  private readonly waiters = new Set<Waiter>()
  /**
   * Venue place/amend calls waiting (untilReplicated): bounded by the calls in flight (the executor's bound; Lane0's
   * closes by the kernel's, per venue×symbol), not waitersMax.
   */
  private readonly gateWaiters = new Set<Waiter>()
  /** While down: the LSN the standby must acknowledge to count as caught up (set at its first acknowledgement). */
  private catchUpLsn: number | null = null
  private closed = false
  /** Told after every counted acknowledgement, closed or not (a planned stop's hand-off of the tail, tail-handoff.ts). */
  onAcknowledged: (() => void) | null = null
  /** Told whenever acknowledgeableLsn may have moved (the SSE streams' bound, src/http/sse/held-back.ts). */
  private readonly acknowledgeableListeners = new Set<() => void>()
  /** Every node's acknowledgements, and the in-sync set (none kept under `off`: its acknowledgements only count up). */
  private readonly members: InSyncSet
  private readonly keepsSet: boolean
  /** The log's end when this replication began: before the term's bootstrap wrote (the SSE streams hold back from it). */
  readonly termStartLsn: number

  constructor(options: SyncReplicationOptions) {
    if (!Number.isInteger(options.timeoutMs) || options.timeoutMs < 1) throw new RangeError(`sync timeoutMs must be a positive integer, got ${options.timeoutMs}`)
    if (!Number.isInteger(options.waitersMax) || options.waitersMax < 1) throw new RangeError(`sync waitersMax must be a positive integer, got ${options.waitersMax}`)
    this.options = options
    this.keepsSet = options.policy !== 'off'
    this.members = new InSyncSet(options.inSync?.carried ?? [], options.inSync?.publish ?? null)
    this.termStartLsn = options.leaderLastLsn()
  }

  get policy(): SyncPolicy {
    return this.options.policy
  }

  leaderLastLsn(): number {
    return this.options.leaderLastLsn()
  }

  /** 202s waiting for the standby. */
  get waiting(): number {
    return this.waiters.size
  }

  /** Venue calls waiting for the standby (the send gate). */
  get sendsWaiting(): number {
    return this.gateWaiters.size
  }

  /**
   * The standby holds everything up to `lsn` of the log of the leader of `epoch` durably. Counted only for this term's
   * epoch: an LSN of another term's log (an old leader's acknowledgement arriving late, or one meant for the next
   * leader reaching a deposed one) may name other records than this log holds there. Returns whether it counted.
   */
  acknowledge(lsn: number, epoch: number, nodeId: string = UNNAMED_STANDBY): boolean {
    if (epoch !== this.options.epoch) return false
    const nowMs = this.options.nowMs()
    const tracked = this.members.track(nodeId, lsn, nowMs, this.options.leaderLastLsn())
    if (tracked.kind === 'untracked') return false
    this.lastAckAtMs = nowMs
    this.onAcknowledged?.()
    if (tracked.kind === 'went_back') this.options.onWentBack?.({ nodeId, lsn, previousLsn: tracked.previousLsn })
    if (this.keepsSet) {
      const went = tracked.kind === 'went_back' ? ` after LSN ${tracked.previousLsn} (it lost records it had acknowledged: out of the in-sync set)` : ''
      this.settle(`${standbyName(nodeId)} acknowledged LSN ${lsn}${went}`)
      return true
    }
    if (lsn > this.standbyDurableLsn) this.standbyDurableLsn = lsn
    this.releaseUpTo(this.standbyDurableLsn)
    if (this.state === 'down') {
      this.catchUpLsn ??= this.options.leaderLastLsn()
      if (this.standbyDurableLsn >= this.catchUpLsn) this.transition('sync', `the standby acknowledged LSN ${this.standbyDurableLsn} and is caught up`)
    }
    this.acknowledgeableMoved()
    return true
  }

  /**
   * The highest LSN of this log the node may show as acknowledged (what the SSE streams show, src/http/sse/held-back.ts),
   * given the log's durable end `localLsn`: under fail_closed what the standby (every in-sync member) holds durably;
   * under degrade_async the same while in sync, and `localLsn` while degraded (the degradation is on record); under
   * off, `localLsn`.
   */
  acknowledgeableLsn(localLsn: number): number {
    if (this.options.policy === 'off' || (this.options.policy === 'degrade_async' && this.state === 'down')) return localLsn
    return Math.min(localLsn, this.standbyDurableLsn)
  }

  /** Calls `listener` whenever acknowledgeableLsn may have moved (an acknowledgement counted, a change of state). */
  onAcknowledgeableMoved(listener: () => void): () => void {
    this.acknowledgeableListeners.add(listener)
    return () => this.acknowledgeableListeners.delete(listener)
  }

  private acknowledgeableMoved(): void {
    for (const listener of this.acknowledgeableListeners) listener()
  }

  /** A lease record holding `members` is durable (a renewal after `inSync.publish`, or any later one). */
  inSyncWritten(members: readonly LeaseInSyncMember[]): void {
    if (!this.keepsSet || this.closed) return
    this.members.written(members)
    this.settle('the lease record names the in-sync set')
  }

  /**
   * After the set's inputs changed: joins and removals handed to the lease, answers released up to what every member
   * holds, and the state moved to match (`why` says what happened, for the transition's reason).
   */
  private settle(why: string): void {
    this.members.reconcile(this.standbyDurableLsn)
    const held = this.members.heldByAll()
    if (held !== null && held > this.standbyDurableLsn) this.standbyDurableLsn = held
    this.releaseUpTo(this.standbyDurableLsn)
    const inSync = this.members.inSync()
    if (inSync && this.state === 'down') this.transition('sync', `${why}: every in-sync standby is caught up (durable to LSN ${this.standbyDurableLsn})`)
    else if (!inSync && this.state === 'sync') this.transition('down', `${why}: no in-sync standby is left caught up`)
    this.acknowledgeableMoved()
  }

  private releaseUpTo(lsn: number): void {
    for (const waiters of [this.waiters, this.gateWaiters]) {
      for (const waiter of waiters) {
        if (waiter.lsn <= lsn) {
          waiters.delete(waiter)
          waiter.done('replicated')
        }
      }
    }
  }

  /** The term's epoch, which a counted acknowledgement names. */
  get epoch(): number {
    return this.options.epoch
  }

  /** Periodic and before every write: a standby silent for longer than timeoutMs is gone. */
  check(): void {
    if (this.keepsSet) {
      const fell = this.members.silent(this.options.nowMs(), this.options.timeoutMs)
      if (fell.length > 0) this.settle(`no acknowledgement from ${fell.map(standbyName).join(', ')} for over ${this.options.timeoutMs} ms`)
      return
    }
    if (this.state !== 'sync' || this.lastAckAtMs === null) return
    const silentMs = this.options.nowMs() - this.lastAckAtMs
    if (silentMs > this.options.timeoutMs) this.transition('down', `no acknowledgement from the standby for ${silentMs} ms`)
  }

  /** Before a new order is written: why it must be refused (fail_closed with the standby gone), or null. */
  refusal(): string | null {
    if (this.options.policy !== 'fail_closed') return null
    this.check()
    if (this.state === 'sync') return null
    return this.lastAckAtMs === null
      ? 'synchronous replication (fail_closed): no standby has connected to this leader yet'
      : `synchronous replication (fail_closed): the standby is not caught up (durable to LSN ${this.standbyDurableLsn}, leader at ${this.options.leaderLastLsn()})`
  }

  /** After a write is durable here: resolves once the standby holds `lsn`, or at once when not waiting, or on timeout. */
  wait(lsn: number): Promise<SyncOutcome> {
    return this.waitIn(this.waiters, lsn, this.options.waitersMax)
  }

  /**
   * Before a venue place or amend call (Engine.placeSendGate): may the call go out now that its send record is durable
   * here? Waits until the standby holds `lsn`, at most `timeoutMs` — in its own table, never refused by the 202s'
   * `waitersMax` (the executor's calls in flight bound these waits) — and answers:
   * - `send`: the standby holds the record; or the policy does not ask for it (`off`, or `degrade_async` while the
   *   standby is gone or after the wait timed out: the degraded state is on record, see records.ts, and a duplicate
   *   after a failover in that window is the risk degrade_async accepts for availability);
   * - `hold` (fail_closed only): the standby is gone or did not confirm in time. The call must not go out: a leader
   *   killed after calling would leave a standby that believes the order unsent and sends it again. The executor
   *   turns it into a retry the kernel records (order.send_retry) and tries again later;
   * - `closed`: this node stopped leading; nothing may be sent.
   * The wait is bounded: places and amends of one instrument leave in decision order, so a held one holds the ones
   * behind it (cancels bypass that queue).
   */
  async untilReplicated(lsn: number): Promise<SendVerdict> {
    if (this.closed) return 'closed'
    const outcome = await this.waitIn(this.gateWaiters, lsn, Number.POSITIVE_INFINITY)
    if (this.closed) return 'closed'
    return outcome === 'timeout' ? 'hold' : 'send'
  }

  private waitIn(waiters: Set<Waiter>, lsn: number, waitersMax: number): Promise<SyncOutcome> {
    if (lsn <= this.standbyDurableLsn) return Promise.resolve('replicated')
    if (this.options.policy === 'off') return Promise.resolve('not_waited')
    // This node stopped leading (close): a wait begun now ends as those under way at the close did, unconfirmed. Under
    // degrade_async it would have waited out the timeout and answered as a degraded send, with nothing on record.
    if (this.closed) return Promise.resolve('timeout')
    this.check()
    if (this.state === 'down') return Promise.resolve(this.options.policy === 'degrade_async' ? 'not_waited' : 'timeout')
    if (waiters.size >= waitersMax) return Promise.resolve('timeout')
    return new Promise<SyncOutcome>((resolve) => {
      const timer = setTimeout(() => {
        waiters.delete(waiter)
        this.timeouts++
        const why = `LSN ${lsn} not acknowledged by the standby within ${this.options.timeoutMs} ms`
        if (this.keepsSet) {
          const fell = this.members.lagging(lsn)
          this.settle(fell.length === 0 ? why : `LSN ${lsn} not acknowledged by ${fell.map(standbyName).join(', ')} within ${this.options.timeoutMs} ms`)
          // Under degrade_async this answer (or send) now goes out unconfirmed by a member still in the lease record
          // (the laggard leaves only once a record without it is durable): that is the degraded window, on record,
          // even when another member covers from here on. fail_closed answers it REPLICATION_UNCONFIRMED instead.
          if (this.options.policy === 'degrade_async') this.transition('down', why)
        } else {
          this.transition('down', why)
        }
        resolve(this.options.policy === 'degrade_async' ? 'not_waited' : 'timeout')
      }, this.options.timeoutMs)
      const waiter: Waiter = {
        lsn,
        done: (outcome) => {
          clearTimeout(timer)
          resolve(outcome)
        },
      }
      waiters.add(waiter)
    })
  }

  /** The standbys that acknowledged within `withinMs` (connected ones), each with the LSN it holds. */
  standbysWithin(withinMs: number): Map<string, number> {
    return this.members.acknowledgedWithin(this.options.nowMs(), withinMs)
  }

  /** The LSN standby `nodeId` acknowledged last this term (0: none). */
  ackedBy(nodeId: string): number {
    return this.members.ackedBy(nodeId)
  }

  /** Ends every wait (the node stops leading): nothing waiting is confirmed. */
  close(): void {
    this.closed = true
    this.endWaits('timeout')
  }

  status(): SyncStatus {
    return {
      policy: this.options.policy,
      state: this.state,
      timeout_ms: this.options.timeoutMs,
      standby_durable_lsn: this.standbyDurableLsn,
      last_ack_age_ms: this.lastAckAtMs === null ? null : this.options.nowMs() - this.lastAckAtMs,
      waiting: this.waiters.size,
      sends_waiting: this.gateWaiters.size,
      timeouts: this.timeouts,
      in_sync: this.keepsSet ? this.members.status() : null,
    }
  }

  private transition(state: SyncState, reason: string): void {
    if (this.state === state) return
    this.state = state
    this.catchUpLsn = null
    if (state === 'down') {
      // Whoever is still waiting will not be confirmed in time either (their own timers would say so, later).
      this.endWaits(this.options.policy === 'degrade_async' ? 'not_waited' : 'timeout')
    }
    this.options.onTransition({ state, atMs: this.options.nowMs(), reason, standbyDurableLsn: this.standbyDurableLsn, leaderLastLsn: this.options.leaderLastLsn() })
    this.acknowledgeableMoved()
  }

  private endWaits(outcome: SyncOutcome): void {
    for (const waiters of [this.waiters, this.gateWaiters]) {
      for (const waiter of [...waiters]) {
        waiters.delete(waiter)
        waiter.done(outcome)
      }
    }
  }
}

/** How a log line names a node of the set. */
export function standbyName(nodeId: string): string {
  return nodeId === UNNAMED_STANDBY ? 'the unnamed standby' : `standby ${nodeId}`
}
