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
 *   Idempotency-Key answers 202 once the standby has it).
 * - `degrade_async`: writes are acknowledged without waiting, and each transition is recorded in the log
 *   (ha.replication_degraded / ha.replication_restored, see records.ts) so the gap in the guarantee is on record.
 * - `off`: never waits; acknowledgements are only tracked (health shows the standby's durable LSN).
 */

export type SyncPolicy = 'off' | 'fail_closed' | 'degrade_async'
export type SyncState = 'sync' | 'down'
/** How a write's wait ended: the standby holds it, it was not waited for (async, degraded), or the wait timed out. */
export type SyncOutcome = 'replicated' | 'not_waited' | 'timeout'

export const SYNC_POLICIES: readonly SyncPolicy[] = ['off', 'fail_closed', 'degrade_async']

export interface SyncTransition {
  state: SyncState
  atMs: number
  reason: string
  standbyDurableLsn: number
  leaderLastLsn: number
}

export interface SyncReplicationOptions {
  policy: SyncPolicy
  /** Longest a write waits for the standby; also how long the standby may stay silent before it counts as gone. */
  timeoutMs: number
  /** Writes waiting at once; beyond it a write is not waited for but answered as timed out (bounded memory). */
  waitersMax: number
  leaderLastLsn: () => number
  nowMs: () => number
  /** Called on every state change (degrade_async appends the alert record from here). */
  onTransition: (transition: SyncTransition) => void
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
  private readonly waiters = new Set<Waiter>()
  /** While down: the LSN the standby must acknowledge to count as caught up (set at its first acknowledgement). */
  private catchUpLsn: number | null = null
  private closed = false

  constructor(options: SyncReplicationOptions) {
    if (!Number.isInteger(options.timeoutMs) || options.timeoutMs < 1) throw new RangeError(`sync timeoutMs must be a positive integer, got ${options.timeoutMs}`)
    if (!Number.isInteger(options.waitersMax) || options.waitersMax < 1) throw new RangeError(`sync waitersMax must be a positive integer, got ${options.waitersMax}`)
    this.options = options
  }

  get policy(): SyncPolicy {
    return this.options.policy
  }

  leaderLastLsn(): number {
    return this.options.leaderLastLsn()
  }

  get waiting(): number {
    return this.waiters.size
  }

  /** The standby holds everything up to `lsn` durably. */
  acknowledge(lsn: number): void {
    this.lastAckAtMs = this.options.nowMs()
    if (lsn > this.standbyDurableLsn) this.standbyDurableLsn = lsn
    for (const waiter of this.waiters) {
      if (waiter.lsn <= this.standbyDurableLsn) {
        this.waiters.delete(waiter)
        waiter.done('replicated')
      }
    }
    if (this.state === 'down') {
      this.catchUpLsn ??= this.options.leaderLastLsn()
      if (this.standbyDurableLsn >= this.catchUpLsn) this.transition('sync', `the standby acknowledged LSN ${this.standbyDurableLsn} and is caught up`)
    }
  }

  /** Periodic and before every write: a standby silent for longer than timeoutMs is gone. */
  check(): void {
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
    if (lsn <= this.standbyDurableLsn) return Promise.resolve('replicated')
    if (this.options.policy === 'off') return Promise.resolve('not_waited')
    this.check()
    if (this.state === 'down') return Promise.resolve(this.options.policy === 'degrade_async' ? 'not_waited' : 'timeout')
    if (this.waiters.size >= this.options.waitersMax) return Promise.resolve('timeout')
    return new Promise<SyncOutcome>((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter)
        this.timeouts++
        this.transition('down', `LSN ${lsn} not acknowledged by the standby within ${this.options.timeoutMs} ms`)
        resolve(this.options.policy === 'degrade_async' ? 'not_waited' : 'timeout')
      }, this.options.timeoutMs)
      const waiter: Waiter = {
        lsn,
        done: (outcome) => {
          clearTimeout(timer)
          resolve(outcome)
        },
      }
      this.waiters.add(waiter)
    })
  }

  /**
   * Before a venue place or amend call (Engine.placeSendGate): waits like a write's answer does — until the standby
   * holds `lsn`, at most `timeoutMs`, not at all while the standby is known gone or under `off` — and says whether the
   * call may go ahead: false only once this replication is closed (the node stopped leading). The wait is bounded on
   * purpose: the executor hands calls to venues in decision order, so a send held indefinitely would also hold every
   * cancel behind it while the standby is away.
   */
  async untilReplicated(lsn: number): Promise<boolean> {
    if (this.closed) return false
    await this.wait(lsn)
    return !this.closed
  }

  /** Ends every wait (the node stops leading): nothing waiting is confirmed. */
  close(): void {
    this.closed = true
    for (const waiter of [...this.waiters]) {
      this.waiters.delete(waiter)
      waiter.done('timeout')
    }
  }

  status(): Record<string, unknown> {
    return {
      policy: this.options.policy,
      state: this.state,
      timeout_ms: this.options.timeoutMs,
      standby_durable_lsn: this.standbyDurableLsn,
      last_ack_age_ms: this.lastAckAtMs === null ? null : this.options.nowMs() - this.lastAckAtMs,
      waiting: this.waiters.size,
      timeouts: this.timeouts,
    }
  }

  private transition(state: SyncState, reason: string): void {
    if (this.state === state) return
    this.state = state
    this.catchUpLsn = null
    if (state === 'down') {
      // Whoever is still waiting will not be confirmed in time either (their own timers would say so, later).
      const outcome: SyncOutcome = this.options.policy === 'degrade_async' ? 'not_waited' : 'timeout'
      for (const waiter of [...this.waiters]) {
        this.waiters.delete(waiter)
        waiter.done(outcome)
      }
    }
    this.options.onTransition({ state, atMs: this.options.nowMs(), reason, standbyDurableLsn: this.standbyDurableLsn, leaderLastLsn: this.options.leaderLastLsn() })
  }
}
