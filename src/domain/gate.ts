/**
 * Types of the I-100 safety gate (§15): the nine checks, the facts the runtime supplies, and the recorded verdict.
 * The function that evaluates them is src/kernel/gate.ts — one function, every send.
 */

import type { Mode } from './modes.ts'

export const GATE_CHECKS = [
  'ha_leader',
  'mode_live_explicit',
  'policy_allow',
  'guards_pass',
  'reservation_held',
  'durability_live',
  'schema_compatible',
  'health_not_critical',
  'audit_verified',
] as const

export type GateCheckName = (typeof GATE_CHECKS)[number]

export const HEALTH_LEVELS = ['OK', 'DEGRADED', 'CRITICAL'] as const
export type HealthLevel = (typeof HEALTH_LEVELS)[number]

export const GATE_ACTIONS = ['place', 'cancel', 'amend'] as const
export type GateAction = (typeof GATE_ACTIONS)[number]

/** Facts only the runtime knows; it fills these in for every send. */
export interface GateFacts {
  haLeader: boolean
  /** Config says mode=live explicitly (not by default), the live credential is present and the environment marker is set. */
  liveExplicit: boolean
  /** The log's durability mode; only `fsync` allows live. */
  durabilityMode: string
  /** The log holds no record newer than this binary understands, and the writer's schema is the reader's. */
  schemaCompatible: boolean
  /** The audit hash chain and latest seal verified. */
  auditVerified: boolean
}

/** The whole input of the gate: runtime facts plus what the kernel derives from its state. */
export interface GateInput extends GateFacts {
  action: GateAction
  mode: Mode
  policyAllows: boolean
  /** Check 3's detail when the kernel says more than its usual text (a flatten close, which the window and list do not hold). */
  policyDetail?: string
  guardsPassed: boolean
  /** When a guard re-run at the send refused it (§15 check 4: data health, the price band): its reason code, for the detail. */
  guardsFailure?: string
  reservationHeld: boolean
  /**
   * Check 8: the order's venue's health as the log recorded it (`venue.health_changed`, src/kernel/venue-health.ts) —
   * never a live reading, so a replay decides alike. Command records of builds before it carry a constant OK in their
   * facts; the kernel's own reading (OK for a log without health records) replaces it.
   */
  health: HealthLevel
  /** An emergency override in force (two admins, a reason, an expiry, a scope: §14) covers this order at this venue. */
  healthOverride: boolean
  /** A flatten close: never held by venue health (it only reduces risk). */
  healthExempt?: boolean
  /** Check 8's detail when the level is not OK: the level, the record that set it, the override. */
  healthDetail?: string
}

export interface GateCheckResult {
  check: GateCheckName
  /** False when the check does not apply to this action (e.g. reservation for a cancel); such a check passes. */
  applies: boolean
  pass: boolean
  detail: string
}

export interface GateVerdict {
  action: GateAction
  mode: Mode
  /** All nine checks passed: a live send may go. */
  pass: boolean
  /** Whether the send may proceed in this mode (live: pass; paper: all but the live-only checks; shadow: never). */
  sendAllowed: boolean
  checks: GateCheckResult[]
}
