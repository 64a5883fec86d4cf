/**
 * The decision record of an intake decision (place or amend): who asked, under which config and build, when, and
 * every guard run with its inputs and outcome (§9: principal, commit, config digest).
 */

import type { Principal } from '../../domain/accounts.ts'
import type { DecisionRecord, GuardRecord } from '../../domain/guards.ts'

export interface DecidedCommand {
  principal: Principal
  configDigest: string
  buildCommit: string
  nowMs: number
}

export function decisionRecord(command: DecidedCommand, guards: GuardRecord[]): DecisionRecord {
  return {
    principalId: command.principal.id,
    roles: recordedRoles(command.principal.roles),
    configDigest: command.configDigest,
    buildCommit: command.buildCommit,
    nowMs: command.nowMs,
    guards,
  }
}

/**
 * The roles as the record holds them: a frozen array (the HTTP layer's principals) is shared, as nothing can change
 * it; any other is copied, so a later change to the principal cannot reach the record.
 */
function recordedRoles(roles: Principal['roles']): Principal['roles'] {
  return Object.isFrozen(roles) ? roles : [...roles]
}
