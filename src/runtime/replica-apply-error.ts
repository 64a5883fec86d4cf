/**
 * A standby could not apply frames its replica log had made durable (a record type its build does not know, a bug):
 * its projections stop at the batch before, while the log could go on being copied. The standby stops following
 * rather than serve reads from state that no longer moves (Gateway.replicaApplyFailed; an HA node fails on it).
 */
export class ReplicaApplyError extends Error {
  override readonly name = 'ReplicaApplyError'
  readonly code = 'REPLICA_APPLY_FAILED'

  constructor(
    readonly firstLsn: number,
    readonly lastLsn: number,
    cause: unknown,
  ) {
    super(`REPLICA_APPLY_FAILED: the standby could not apply replicated LSNs ${firstLsn}..${lastLsn}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause })
  }
}
