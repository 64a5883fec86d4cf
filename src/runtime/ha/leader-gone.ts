/**
 * A standby's re-sync, as the leader it pulls from dies. A re-sync runs as a role change (role-changes.ts), and a
 * takeover is skipped while one runs: a standby re-syncing from the leader's snapshot when the leader died waited for
 * the snapshot fetch or the install's catch-up pull to time out (the snapshot-recovery timeout, 60 s by default)
 * before it could take over, the pair leaderless all that time.
 *
 * Now the node's tick, finding the lease free while a re-sync runs (`leaseFree`, lease-dir.ts), ends the re-sync's
 * requests to the leader at once (`ResyncAbort.leaderGone`), as the node's stop does (stop-signal.ts): the re-sync is
 * abandoned with LeaderGoneError — an install cut short in its catch-up pull rolled back, nothing reported as failed,
 * no backoff — and the node follows again from the log it had, for the next tick to take over.
 *
 * The takeover never happens with a half-installed log: an install is all or nothing (snapshot-recovery.ts), its
 * requests to the leader all come before its commit, and the gateway a takeover stops is always one started from a
 * whole log (follow() finishes or rolls back any swap first). A standby whose re-sync was abandoned leads with the
 * log it had — behind the leader's, as any lagging standby's is; what that may lose is what the synchronous
 * replication policy (sync.ts) bounds: under `fail_closed` the leader acknowledged no write the standby did not hold.
 */

/** A re-sync's request to the leader was aborted because the leader's lease is free (the leader is gone). */
export class LeaderGoneError extends Error {
  override readonly name = 'LeaderGoneError'
  readonly code = 'LEADER_GONE'

  constructor() {
    super("LEADER_GONE: the leader's lease is free; the re-sync's requests to it were aborted so that this standby may take over")
  }
}

/** The running re-sync's abort (one per node): its requests to the leader end on the node's stop or on leaderGone(). */
export class ResyncAbort {
  private current: AbortController | null = null

  /** The signal of a re-sync beginning now: aborted with the node's stop (`stopSignal`'s reason) or by leaderGone(). */
  begin(stopSignal: AbortSignal): AbortSignal {
    this.current = new AbortController()
    return AbortSignal.any([stopSignal, this.current.signal])
  }

  /** The re-sync has ended. */
  end(): void {
    this.current = null
  }

  /** Aborts the running re-sync's requests with LeaderGoneError; false when none runs (or it was aborted already). */
  leaderGone(): boolean {
    if (this.current === null || this.current.signal.aborted) return false
    this.current.abort(new LeaderGoneError())
    return true
  }
}
