/**
 * The intake guards in their fixed order (§5) and the decision record every accept/reject carries (§7 DESIGN:
 * "why" must be answerable from the log alone).
 */

import type { ReasonCode } from './reasons.ts'

/** The fixed order of §5. Intake runs them in exactly this sequence and stops at the first failure. */
export const GUARD_NAMES = ['syntax', 'policy', 'mode', 'data_health', 'reservation', 'capability', 'lane'] as const

export type GuardName = (typeof GUARD_NAMES)[number]

export type GuardInputValue = string | number | boolean | null

export interface GuardRecord {
  guard: GuardName
  outcome: 'pass' | 'fail'
  reason?: ReasonCode
  /** What the guard looked at, as decimal strings / numbers, so the record explains itself. */
  inputs: Record<string, GuardInputValue>
}

export interface DecisionRecord {
  principalId: string
  roles: string[]
  configDigest: string
  buildCommit: string
  nowMs: number
  /** Every guard that ran, in order; guards after the first failure did not run and are not listed. */
  guards: GuardRecord[]
}
