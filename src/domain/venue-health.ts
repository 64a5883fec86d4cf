/**
 * Venue health (§3 health/, §4 venue_health_snapshots) as the kernel holds it: per venue, the level the runtime last
 * recorded (`venue.health_changed`) and the emergency override of a CRITICAL level (§14: expiry, reason, two
 * approvals, degrade). The I-100 gate's check 8 reads both (src/kernel/send.ts); the runtime's scoring that decides a
 * level lives in src/runtime/venue-health-score.ts. Pure: no clock (whether an override is in force is asked at a time).
 */

import type { HealthLevel } from './gate.ts'

/**
 * What an override lets through a CRITICAL venue (§14 縮退, degrade): `reduce_only` only reduce-only places and
 * amends of reduce-only orders (risk that can only shrink), `all` every place and amend. Cancels and flatten closes
 * never need one: check 8 does not hold them.
 */
export const OVERRIDE_SCOPES = ['reduce_only', 'all'] as const
export type OverrideScope = (typeof OVERRIDE_SCOPES)[number]

/**
 * An emergency override of one venue's CRITICAL level. Proposed by one admin with a reason and an expiry, it is in
 * force only once a second, distinct admin approved it, and only until `untilMs` (it lapses on its own: no record is
 * needed for it to stop, the gate compares the send's time). A revoke removes it, and so does the record of its lapse
 * (`venue.override_lapsed`, src/runtime/venue-override-lapses.ts).
 */
export interface VenueOverride {
  /** `<venue>#<n>`, n counting the venue's proposals from 1: the approval names it, so an admin approves what they saw. */
  overrideId: string
  reason: string
  scope: OverrideScope
  proposedBy: string
  proposedAtMs: number
  untilMs: number
  approvedBy: string | null
  approvedAtMs: number | null
}

export interface VenueHealthEntry {
  level: HealthLevel
  /** The runtime's score when it recorded the level (0–100, higher is healthier). */
  score: number
  /** Why the runtime recorded the level (its window's counts, the session's state). */
  detail: string
  sinceMs: number
  /** LSN of the `venue.health_changed` record that set the level (0: none yet; the venue is OK by default). */
  lsn: number
  /** Proposals recorded for this venue so far: the next override id's number is one more. */
  overridesProposed: number
  override: VenueOverride | null
}

export function emptyVenueHealth(): VenueHealthEntry {
  return { level: 'OK', score: 100, detail: 'no level recorded', sinceMs: 0, lsn: 0, overridesProposed: 0, override: null }
}

/** Whether `override` lets an order through check 8 at `nowMs`: approved, not expired, and its scope covers the order. */
export function overrideInForce(override: VenueOverride | null, at: { nowMs: number; reduceOnly: boolean }): boolean {
  if (override === null || override.approvedBy === null) return false
  if (at.nowMs >= override.untilMs) return false
  return override.scope === 'all' || at.reduceOnly
}

/** An override's state at `nowMs`, as routes and the explanation show it. */
export function overrideStatus(override: VenueOverride, nowMs: number): 'pending_approval' | 'in_force' | 'expired' {
  if (nowMs >= override.untilMs) return 'expired'
  return override.approvedBy === null ? 'pending_approval' : 'in_force'
}
