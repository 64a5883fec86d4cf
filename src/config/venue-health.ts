/**
 * Config `venueHealth`: how the runtime scores each venue from the calls it makes (src/runtime/venue-health-score.ts)
 * and how long an emergency override may last. Every field has a default; the section has none of its own, so a config
 * without it keeps its digest (venueHealthConfigOf gives the defaults).
 */

import * as v from 'valibot'

function integerIn(min: number, max: number) {
  const message = `expected an integer between ${min} and ${max}`
  return v.pipe(v.number(message), v.integer(message), v.minValue(min, message), v.maxValue(max, message))
}

export const VENUE_HEALTH = v.strictObject({
  /** False: no level is scored (every venue stays OK: a start records OK over one a log holds); overrides and the read routes still work. */
  enabled: v.optional(v.boolean('expected true or false'), true),
  /** The sliding window: calls answered longer ago than this no longer count. */
  windowMs: v.optional(integerIn(1_000, 3_600_000), 60_000),
  /** Calls kept per venue in the window (the oldest go first): the memory bound. */
  samplesMax: v.optional(integerIn(10, 100_000), 1_000),
  /** Fewer calls than this in the window is no evidence: the venue scores OK (100), and a CRITICAL venue is probed again. */
  samplesMin: v.optional(integerIn(1, 100_000), 20),
  /** A call answered (sent → ack) slower than this counts as slow. */
  slowCallMs: v.optional(integerIn(1, 600_000), 2_000),
  /** A score at or below this is DEGRADED (shown, not blocking). */
  degradedScoreMax: v.optional(integerIn(0, 99), 75),
  /** A score at or below this is CRITICAL: the I-100 gate holds places and amends to the venue (check 8). */
  criticalScoreMax: v.optional(integerIn(0, 99), 40),
  /** How often every venue is scored again without a call (the window slides, a FIX session goes down). */
  evaluateEveryMs: v.optional(integerIn(100, 600_000), 1_000),
  /** The longest an emergency override may be proposed for. */
  overrideMsMax: v.optional(integerIn(1_000, 86_400_000), 3_600_000),
})

export type VenueHealthConfig = v.InferOutput<typeof VENUE_HEALTH>

/** Cross-field rules: the thresholds must leave DEGRADED room, and the evidence bound must fit the memory bound. */
export function venueHealthIssues(section: VenueHealthConfig | undefined): { path: string; message: string }[] {
  if (section === undefined) return []
  const issues: { path: string; message: string }[] = []
  if (section.criticalScoreMax >= section.degradedScoreMax) {
    issues.push({ path: 'venueHealth.criticalScoreMax', message: `expected below venueHealth.degradedScoreMax (${section.degradedScoreMax}), got ${section.criticalScoreMax}` })
  }
  if (section.samplesMin > section.samplesMax) {
    issues.push({ path: 'venueHealth.samplesMin', message: `expected at most venueHealth.samplesMax (${section.samplesMax}), got ${section.samplesMin}` })
  }
  return issues
}

export function venueHealthDefaults(): VenueHealthConfig {
  return v.parse(VENUE_HEALTH, {})
}
