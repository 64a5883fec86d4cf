/**
 * The venue health commands (decided in venue-health.ts): a level the runtime's scoring reached, an emergency override
 * of a CRITICAL level and its lapse.
 */

import type { Principal } from '../domain/accounts.ts'
import type { HealthLevel } from '../domain/gate.ts'
import type { OverrideScope } from '../domain/venue-health.ts'
import type { DecidingBuild } from './commands.ts'

/**
 * The runtime's venue health scoring (src/runtime/venue-health-monitor.ts) reached `level` for `venue`: recorded as
 * `venue.health_changed` when it differs from the level the kernel holds, so check 8 of the I-100 gate decides on the
 * log, never on a live reading.
 */
export interface VenueHealthCommand {
  kind: 'venue_health'
  nowMs: number
  venue: string
  level: HealthLevel
  score: number
  detail: string
}

/**
 * An emergency override of a venue's CRITICAL level (§14): `propose` (an admin, with a reason, an expiry and a scope),
 * `approve` (a second, distinct admin, naming the proposal), `revoke` (ops or admin, ending it before its expiry).
 */
export type VenueOverrideCommand =
  | ({ kind: 'venue_override'; op: 'propose'; nowMs: number; principal: Principal; venue: string; reason: string; durationMs: number; scope: OverrideScope } & DecidingBuild)
  | ({ kind: 'venue_override'; op: 'approve'; nowMs: number; principal: Principal; venue: string; overrideId: string } & DecidingBuild)
  | ({ kind: 'venue_override'; op: 'revoke'; nowMs: number; principal: Principal; venue: string; note: string } & DecidingBuild)

/**
 * The runtime saw `venue`'s override `overrideId` reach its expiry (src/runtime/venue-override-lapses.ts): recorded as
 * `venue.override_lapsed` if the kernel still holds it and it has expired at nowMs; otherwise nothing (recorded already,
 * revoked or replaced meanwhile, or not expired yet by the command's time).
 */
export interface VenueOverrideLapseCommand {
  kind: 'venue_override_lapse'
  nowMs: number
  venue: string
  overrideId: string
}

/** A venue override as a caller asks for it: the command without its kind and time (Gateway.venueOverride adds them). */
export type VenueOverrideRequest = VenueOverrideCommand extends infer T ? (T extends unknown ? Omit<T, 'kind' | 'nowMs'> : never) : never
