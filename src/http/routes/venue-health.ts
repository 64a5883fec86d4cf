/**
 * Venue health for operators (§3 health/, §14 emergency override): `GET /v1/venue_health` (ops, admin, auditor) reads
 * each venue's recorded level, the record that set it, its override and the live scoring behind it; the override is
 * proposed (admin), approved by a second admin, or revoked (ops, admin) under `/v1/admin/venues/:venue/override`.
 * Each is a recorded decision (src/kernel/venue-health.ts); the answer comes once it is durable. /health and /metrics
 * show the levels per venue (no order or account labels).
 */

import { Hono, type Context } from 'hono'
import * as v from 'valibot'
import { venueHealthDefaults } from '../../config/index.ts'
import type { HealthLevel } from '../../domain/gate.ts'
import { OVERRIDE_SCOPES, overrideInForce, overrideStatus, type VenueOverride } from '../../domain/venue-health.ts'
import { OVERRIDE_REASON_CHARS_MAX, venueHealthOf, type VenueOverrideRequest } from '../../kernel/index.ts'
import { canChangeMode, canHalt, canReadEvery, principalOf, requireRole, type AuthEnv } from '../auth/index.ts'
import { readJson } from '../body.ts'
import { ApiError, parseOrThrow, reasonError } from '../errors.ts'
import { kernelPrincipal } from '../principal.ts'
import { NO_QUERY, queryOf } from '../query.ts'
import type { Services } from '../services.ts'
import { pathId, requireReady, runCommand } from './support.ts'

const REASON = v.pipe(
  v.string('expected a string'),
  v.trim(),
  v.minLength(1, 'expected a reason of at least 1 character'),
  v.maxLength(OVERRIDE_REASON_CHARS_MAX, `expected at most ${OVERRIDE_REASON_CHARS_MAX} characters`),
)

export const OVERRIDE_PROPOSE_BODY_SCHEMA = v.strictObject({
  reason: REASON,
  /** Checked against config venueHealth.overrideMsMax after parsing. */
  duration_ms: v.pipe(v.number('expected an integer number of ms'), v.safeInteger('expected an integer number of ms'), v.minValue(1_000, 'expected at least 1000 ms')),
  scope: v.exactOptional(v.picklist(OVERRIDE_SCOPES, `expected one of ${OVERRIDE_SCOPES.join(', ')}`), 'reduce_only'),
})

export const OVERRIDE_APPROVE_BODY_SCHEMA = v.strictObject({ override_id: v.pipe(v.string('expected a string'), v.minLength(1, 'expected an override id'), v.maxLength(200, 'expected at most 200 characters')) })

export const OVERRIDE_REVOKE_BODY_SCHEMA = v.strictObject({ note: v.exactOptional(v.pipe(v.string('expected a string'), v.maxLength(256, 'expected at most 256 characters')), '') })

export function venueHealthRoutes(services: Services): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>()
  registerVenueHealthMetrics(services)
  app.get('/v1/venue_health', requireRole('ops', 'admin', 'auditor'), (c) => {
    if (!canReadEvery(principalOf(c))) throw new ApiError('FORBIDDEN', 'venue health needs the ops, admin or auditor role')
    queryOf(c, NO_QUERY)
    return c.json({ venues: venueHealthJson(services) })
  })
  const base = '/v1/admin/venues/:venue/override'
  app.post(base, requireRole('admin'), async (c) => {
    if (!canChangeMode(principalOf(c))) throw new ApiError('FORBIDDEN', 'proposing an override needs the admin role')
    const venue = pathId(c, 'venue')
    queryOf(c, NO_QUERY)
    const body = parseOrThrow(OVERRIDE_PROPOSE_BODY_SCHEMA, await readJson(c, { bodyBytesMax: services.limits.bodyBytesMax }))
    const overrideMsMax = services.gateway.options.venueHealth?.overrideMsMax ?? venueHealthDefaults().overrideMsMax
    if (body.duration_ms > overrideMsMax) {
      throw new ApiError('VALIDATION_FAILED', `duration_ms must be at most venueHealth.overrideMsMax (${overrideMsMax}), got ${body.duration_ms}`, {
        details: { issues: [{ path: 'duration_ms', message: `expected at most ${overrideMsMax}` }] },
      })
    }
    return overrideCommand(c, services, { op: 'propose', principal: kernelPrincipal(principalOf(c)), venue, reason: body.reason, durationMs: body.duration_ms, scope: body.scope })
  })
  app.post(`${base}/approve`, requireRole('admin'), async (c) => {
    if (!canChangeMode(principalOf(c))) throw new ApiError('FORBIDDEN', 'approving an override needs the admin role')
    const venue = pathId(c, 'venue')
    queryOf(c, NO_QUERY)
    const body = parseOrThrow(OVERRIDE_APPROVE_BODY_SCHEMA, await readJson(c, { bodyBytesMax: services.limits.bodyBytesMax }))
    return overrideCommand(c, services, { op: 'approve', principal: kernelPrincipal(principalOf(c)), venue, overrideId: body.override_id })
  })
  app.post(`${base}/revoke`, requireRole('ops', 'admin'), async (c) => {
    if (!canHalt(principalOf(c))) throw new ApiError('FORBIDDEN', 'revoking an override needs the ops or admin role')
    const venue = pathId(c, 'venue')
    queryOf(c, NO_QUERY)
    const body = parseOrThrow(OVERRIDE_REVOKE_BODY_SCHEMA, await readJson(c, { bodyBytesMax: services.limits.bodyBytesMax, emptyAsObject: true }))
    return overrideCommand(c, services, { op: 'revoke', principal: kernelPrincipal(principalOf(c)), venue, note: body.note })
  })
  return app
}

async function overrideCommand(c: Context<AuthEnv>, services: Services, request: VenueOverrideRequest): Promise<Response> {
  requireReady(services)
  const result = await runCommand(c, () => services.gateway.venueOverride(request))
  if (result.reply.kind === 'refused') throw reasonError(result.reply.reason, { details: { detail: result.reply.detail } })
  // The override this decision left (at its LSN): a later request may have changed it since.
  const override = venueHealthOf(services.gateway.engine.state, request.venue).override
  return c.json({ venue: request.venue, override: override === null ? null : overrideJson(override, services.gateway.clock.nowMs()), lsn: result.lsn })
}

/**
 * Every venue the gateway has an adapter for, an instrument on (the log's configuration) or a record about, by name. A
 * standby has no adapter (nothing is sent from it): from the adapters alone it listed no venue until a level had been
 * recorded, where its leader listed each at OK.
 */
function venuesOf(services: Services): string[] {
  const { options, engine } = services.gateway
  const names = new Set<string>(options.venues.map((item) => item.adapter.venue))
  for (const instrument of engine.state.instruments.values()) names.add(instrument.venue)
  for (const venue of engine.state.venueHealth.keys()) names.add(venue)
  return [...names].sort()
}

function overrideJson(override: VenueOverride, nowMs: number): Record<string, unknown> {
  return {
    override_id: override.overrideId,
    status: overrideStatus(override, nowMs),
    reason: override.reason,
    scope: override.scope,
    proposed_by: override.proposedBy,
    proposed_at_ms: override.proposedAtMs,
    approved_by: override.approvedBy,
    approved_at_ms: override.approvedAtMs,
    until_ms: override.untilMs,
  }
}

/** `GET /v1/venue_health`'s venues: the recorded level (what check 8 decides on) and the live scoring behind it. */
export function venueHealthJson(services: Services): Record<string, unknown>[] {
  const { gateway } = services
  const nowMs = gateway.clock.nowMs()
  return venuesOf(services).map((venue) => {
    const entry = venueHealthOf(gateway.engine.state, venue)
    const scoring = gateway.venueHealth?.latest(venue) ?? null
    return {
      venue,
      level: entry.level,
      score: entry.score,
      detail: entry.detail,
      since_ms: entry.sinceMs,
      lsn: entry.lsn === 0 ? null : entry.lsn,
      override: entry.override === null ? null : overrideJson(entry.override, nowMs),
      scoring: scoring === null ? null : { level: scoring.level, score: scoring.score, ...scoring.counts, ...(scoring.queries === undefined ? {} : { queries: scoring.queries }), detail: scoring.detail },
    }
  })
}

/** /health's `venues`: each venue's recorded level. */
export function venueLevels(services: Services): Record<string, HealthLevel> {
  return Object.fromEntries(venuesOf(services).map((venue) => [venue, venueHealthOf(services.gateway.engine.state, venue).level]))
}

const LEVEL_VALUE: Record<HealthLevel, number> = { OK: 0, DEGRADED: 1, CRITICAL: 2 }

/** egress_venue_health_level{venue} (0 OK, 1 DEGRADED, 2 CRITICAL), egress_venue_health_score{venue}, egress_venue_override_in_force{venue}. */
function registerVenueHealthMetrics(services: Services): void {
  const registry = services.metrics.registry
  registry.once('venue-health', () => {
    const level = registry.gauge({ name: 'egress_venue_health_level', help: "A venue's recorded health level (I-100 check 8): 0 OK, 1 DEGRADED, 2 CRITICAL.", labelNames: ['venue'] })
    const score = registry.gauge({ name: 'egress_venue_health_score', help: "A venue's score when its level was recorded (0-100, higher is healthier).", labelNames: ['venue'] })
    const override = registry.gauge({ name: 'egress_venue_override_in_force', help: '1 while an approved emergency override of the venue is in force (scope all or reduce_only), else 0.', labelNames: ['venue'] })
    registry.beforeRender(() => {
      const { gateway } = services
      const nowMs = gateway.clock.nowMs()
      const venues = venuesOf(services)
      const entries = venues.map((venue) => ({ venue, entry: venueHealthOf(gateway.engine.state, venue) }))
      level.replaceAll(entries.map(({ venue, entry }) => ({ value: LEVEL_VALUE[entry.level], labels: { venue } })))
      score.replaceAll(entries.map(({ venue, entry }) => ({ value: entry.score, labels: { venue } })))
      override.replaceAll(entries.map(({ venue, entry }) => ({ value: overrideInForce(entry.override, { nowMs, reduceOnly: true }) ? 1 : 0, labels: { venue } })))
    })
  })
}
