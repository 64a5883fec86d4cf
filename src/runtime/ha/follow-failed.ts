/**
 * A role change (a takeover whose leader start failed, a step-down, a re-sync) that left the node a standby with no
 * gateway: it could not follow the leader again. The node stops for good (HaNode.fail) rather than stay up neither
 * following nor leading; `egress serve` exits 1 for a supervisor to restart it once the cause is fixed.
 */
export class FollowFailedError extends Error {
  override readonly name = 'FollowFailedError'
  readonly code = 'FOLLOW_FAILED'

  constructor(cause: unknown) {
    super(`FOLLOW_FAILED: the node could not follow the leader again: ${cause instanceof Error ? cause.message : String(cause)}`, { cause })
  }
}
