/**
 * A role change stops a gateway and goes on with another log on the same data dir (a step-down follows, a takeover
 * leads, a re-sync starts over). The old log's close can fail — the fsync of its trim, the truncate — and the log then
 * dies of it (Wal.close: fatalError, `died`) while the stop itself resolves. By the project's rule a failed fsync (or
 * close) of the log is fatal (DESIGN §3): what reached the disk is unknown, so the node must not go on on that disk.
 */

import { LeaseError } from '../../../wal/index.ts'

/**
 * Throws the error the stopped gateway's log died of, unless it is a lost lease (a deposed leader's log refusing a
 * write: the step-down's own cause, nothing wrong with the disk). A failed fsync comes out as SyncFailedError's cause
 * chain, which a role change (HaNode.exclusive) stops the node for.
 */
export function throwIfOldLogFailed(gateway: { engine: { wal: { fatalError: Error | null } } }): void {
  const failure = gateway.engine.wal.fatalError
  if (failure !== null && !(failure instanceof LeaseError)) throw failure
}
