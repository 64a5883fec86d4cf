/**
 * An HA node's stop, as the requests its standby side makes to the leader see it. Each node run has one stop signal
 * (RoleChanges.stopSignal), aborted with NodeStoppingError when stop() begins, and every request to the leader carries
 * it: the replication stream and its acknowledgements (replicator.ts), the snapshot fetch and the catch-up pull of a
 * snapshot recovery (snapshot-recovery.ts), the search for the LSN shared after a divergence (divergence.ts).
 *
 * Without it a role change waiting on a leader that accepted a request and never answered held stop() until the
 * request's own timeout (a minute for a snapshot fetch with serve's defaults), and stop()'s bound (role-changes.ts)
 * was all that ended it. Now such a request ends as stop() begins, with NodeStoppingError thrown as it is (never
 * wrapped as the leader's failure), and the change it served is abandoned the way one not yet changing the data dir
 * is (resync.ts): a snapshot install half built in `log.recovering/` is rolled back, nothing is reported as failed
 * (the node ends `stopped`, neither FOLLOW_FAILED nor NODE_STUCK), and no retry or backoff follows.
 */

import { LeaderGoneError } from './leader-gone.ts'

/** A request to the leader was aborted because the node is stopping (stop() began); not a failure of the leader. */
export class NodeStoppingError extends Error {
  override readonly name = 'NodeStoppingError'
  readonly code = 'NODE_STOPPING'

  constructor() {
    super('NODE_STOPPING: the node is stopping; its requests to the leader in flight were aborted')
  }
}

/** The signal of one request to the leader: aborted by the node's stop (if given) or after `timeoutMs`, whichever first. */
export function requestSignal(timeoutMs: number, stopSignal: AbortSignal | undefined): AbortSignal {
  const timeout = AbortSignal.timeout(timeoutMs)
  return stopSignal === undefined ? timeout : AbortSignal.any([stopSignal, timeout])
}

/**
 * Throws NodeStoppingError if `stopSignal` has aborted: called where a request's failure is caught, so that a request
 * ended by the stop (whatever error the fetch or its body threw for it) is not taken for the leader's failure. A
 * re-sync's signal also ends when the leader is gone (leader-gone.ts): then its LeaderGoneError is thrown.
 */
export function throwIfStopping(stopSignal: AbortSignal | undefined): void {
  if (stopSignal?.aborted !== true) return
  const reason: unknown = stopSignal.reason
  throw reason instanceof NodeStoppingError || reason instanceof LeaderGoneError ? reason : new NodeStoppingError()
}
