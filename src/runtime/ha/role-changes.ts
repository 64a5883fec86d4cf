/**
 * The role changes of an HA node (node.ts) — its start-up, a takeover, a step-down, a re-sync — run one at a time, and
 * stop() waits for the one in progress before it tears the node down: a re-sync still running after stop() resolved
 * would swap the data dir's log under a process that believes it has stopped (and a supervisor may already have
 * started the next one on that directory).
 *
 * A change waiting on the leader does not hold stop() up: closing the changes aborts the node's stop signal
 * (stop-signal.ts), which every request to the leader carries, so such a change ends as stop() begins. The wait is
 * bounded all the same (`roleChangeWaitMsMax`, the backstop): a change stuck elsewhere (a gateway start or stop that
 * never ends) must not hang the shutdown for good. Past the bound stop() tears down what it can and rejects with
 * StopTimeoutError; the process should then exit, which ends the change where it stands — every data-dir swap is
 * crash-safe, finished or rolled back from what is on disk at the next start (interrupted-swaps.ts).
 */

import type { HaNodeOptions } from './node-options.ts'
import { SNAPSHOT_RECOVERY_DEFAULTS } from './resync.ts'
import { NodeStoppingError } from './stop-signal.ts'

/**
 * stop() waited `waitMsMax` and a role change (or the teardown after it, teardown.ts, which made no progress for that
 * long or reached its ceiling) was still running: the caller should exit (see the file comment).
 */
export class StopTimeoutError extends Error {
  override readonly name = 'StopTimeoutError'
  readonly code = 'STOP_TIMEOUT'

  /** `stalled`: cut for making no progress for `waitMsMax` (the teardown, teardown.ts), not for running that long. */
  constructor(
    readonly change: string,
    readonly waitMsMax: number,
    stalled = false,
  ) {
    const why = stalled ? `made no progress for ${waitMsMax} ms` : `was still running ${waitMsMax} ms after stop() began waiting for it`
    super(`STOP_TIMEOUT: the node's ${change} ${why}; exit, and the next start finishes or rolls back whatever it left in the data dir`)
  }
}

/**
 * How long stop() waits for a role change at most, from the node's own limits: the longest a change could wait on the
 * leader (a re-sync fetches its snapshot and then pulls up to it, each within the snapshot-recovery timeout) were its
 * requests not aborted by the stop, one backoff, and two lease TTLs of slack for the local work of stopping one
 * gateway and starting another. The backstop only: requests to the leader end as stop() begins (stop-signal.ts).
 */
export function roleChangeWaitMsMax(options: Pick<HaNodeOptions, 'snapshotRecovery' | 'replication' | 'leaseTtlMs'>): number {
  const snapshotTimeoutMs = (options.snapshotRecovery ?? SNAPSHOT_RECOVERY_DEFAULTS).timeoutMs
  return 2 * snapshotTimeoutMs + options.replication.backoffMsMax + 2 * options.leaseTtlMs
}

interface Change {
  name: string
  settled: Promise<void>
}

/**
 * One role change at a time, none once the node stops (`close`); stop() waits for the one in progress (`settled`).
 * A change's waits (`pause`) end early when the node stops, and so do its requests to the leader (`stopSignal`).
 */
export class RoleChanges {
  private current: Change | null = null
  private closed = false
  /** Resolves on close(): a pause (a re-sync's backoff, a wait for the lease) ends early. */
  private readonly closing = Promise.withResolvers<void>()
  /** The node run's stop signal (stop-signal.ts), aborted on close(). */
  private readonly stopping = new AbortController()

  /** Carried by every request to the leader: aborted, with NodeStoppingError, when the node begins to stop. */
  get stopSignal(): AbortSignal {
    return this.stopping.signal
  }

  /**
   * Runs `change` now, unless one is in progress or the changes are closed: then it resolves at once having done
   * nothing. Otherwise it settles as `change` does (rejecting with its error).
   */
  run(name: string, change: () => Promise<void>): Promise<void> {
    if (this.current !== null || this.closed) return Promise.resolve()
    const { promise: settled, resolve } = Promise.withResolvers<void>()
    const entry: Change = { name, settled }
    // Registered before `change` runs: a stop() it calls on its way (synchronously) already waits for it.
    this.current = entry
    let done: Promise<void>
    try {
      done = change()
    } catch (error) {
      done = Promise.reject(error)
    }
    const finish = (): void => {
      if (this.current === entry) this.current = null
      resolve()
    }
    // Attached before the caller's: by the time the caller goes on, the change is no longer current.
    done.then(finish, finish)
    return done
  }

  /** Like run, but waits for the change in progress (if any) to settle first instead of skipping. */
  async whenFree(name: string, change: () => Promise<void>): Promise<void> {
    while (this.current !== null) await this.current.settled
    return this.run(name, change)
  }

  /** No change starts from here on (the node is stopping), and requests to the leader in flight are aborted. */
  close(): void {
    this.closed = true
    this.closing.resolve()
    if (!this.stopping.signal.aborted) this.stopping.abort(new NodeStoppingError())
  }

  /** Sleeps `ms`, or less if the changes are closed meanwhile (the node is stopping). */
  async pause(ms: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | null = null
    await Promise.race([new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))), this.closing.promise])
    if (timer !== null) clearTimeout(timer)
  }

  /** Waits for the change in progress to settle, up to `waitMsMax`; resolves with its name if it still runs, else null. */
  async settled(waitMsMax: number): Promise<string | null> {
    // Real time (performance.now): on the wall clock, one stepped back while stop() waited stretched the bound by the step.
    const deadlineMs = performance.now() + waitMsMax
    for (let change = this.current; change !== null; change = this.current) {
      const leftMs = deadlineMs - performance.now()
      if (leftMs <= 0) return change.name
      let timer: ReturnType<typeof setTimeout> | null = null
      const expired = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, leftMs)
      })
      await Promise.race([change.settled, expired])
      if (timer !== null) clearTimeout(timer)
    }
    return null
  }
}
