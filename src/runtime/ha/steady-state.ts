/**
 * The states an HA node (node.ts) may rest in between role changes, checked at the end of every change:
 *
 * - leading: role `leader`, a started leader gateway (intake open), a lease held (renewed; losing it is a step-down);
 * - following: role `standby`, a standby gateway in shadow mode, and a replicator (one that stopped itself on a
 *   DIVERGED or RESYNC_REQUIRED answer has handed the node a re-sync, which runs next, so it still counts);
 * - `stopped`, or `failed` (a typed error in `died`: the process exits).
 *
 * Anything else — a standby whose gateway was never handed to the HTTP layer, a takeover that could not stop the
 * standby's gateway and sits `promoting` on the lease, a step-down stuck `stepping-down` — is up but neither leading
 * nor following: no request is served right, and while the lease is held no other node can lead. The node stops for
 * good instead (HaNode.fail): FOLLOW_FAILED for a standby that could not follow again, NODE_STUCK otherwise; `egress
 * serve` exits 1 for a supervisor to restart it.
 */

import type { Gateway } from '../gateway.ts'
import type { NodeRole } from './node-options.ts'

/** What the check needs to know of the node. */
export interface NodeState {
  role: NodeRole
  gateway: Gateway | null
  /** The node holds a lease (a takeover's, or the term it leads). */
  holdsLease: boolean
  /** The node has a replicator following the leader. */
  following: boolean
}

/** Why `state` is none of the steady states (see the file comment), or null when it is one. */
export function unsteadyStateOf(state: NodeState): string | null {
  const { role, gateway } = state
  switch (role) {
    case 'stopped':
    case 'failed':
      return null
    case 'leader':
      if (gateway === null) return 'leader with no gateway'
      if (gateway.role !== 'leader' || !gateway.ready) return 'leader whose gateway is not a started leader gateway'
      if (!state.holdsLease) return 'leader holding no lease'
      return null
    case 'standby':
      if (gateway === null) return 'standby with no gateway'
      if (gateway.role !== 'standby' || gateway.engine.shadow === null) return 'standby whose gateway is not a standby in shadow mode'
      if (!state.following) return 'standby with a gateway but no replicator following the leader'
      return null
    default:
      return `${role}${state.holdsLease ? ', holding the lease,' : ''} ${gateway === null ? 'with no gateway' : `with a ${gateway.role} gateway`}`
  }
}

/** A role change left the node neither leading nor following, other than as FOLLOW_FAILED (see the file comment). */
export class NodeStuckError extends Error {
  override readonly name = 'NodeStuckError'
  readonly code = 'NODE_STUCK'

  constructor(change: string, state: string, cause: unknown) {
    const why = cause === null ? '' : `: ${cause instanceof Error ? cause.message : String(cause)}`
    super(`NODE_STUCK: the ${change} left the node ${state}, neither leading nor following${why}`, cause === null ? undefined : { cause })
  }
}
