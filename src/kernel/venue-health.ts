/**
 * Venue health in the kernel (§3 health/, §15 check 8, §14 emergency override). The runtime scores each venue from
 * the calls it makes (src/runtime/venue-health-score.ts) and asks the kernel to record a level when it changes; the
 * kernel keeps the recorded level per venue, and the I-100 gate decides on it (send.ts) — never on a live reading, so
 * a replay, a standby and `redecide` decide every send alike.
 *
 * The emergency override of a CRITICAL venue: one admin proposes it (a reason, an expiry, a scope), a second,
 * distinct admin (another `sub`, in any letter case) approves it, and it is in force from the approval until its
 * expiry. The expiry ends it with no record needed — the gate compares the send's time with untilMs, so no send
 * waits on a record — but the leader records it (`venue.override_lapsed`), so the log says when the gate held the
 * venue again; applied, it removes the override as a revoke does. Ops or an admin may revoke it earlier; a new
 * proposal replaces it.
 */

import { samePersonIds } from '../domain/accounts.ts'
import { assert } from '../domain/assert.ts'
import type { EventOf } from '../domain/events/index.ts'
import type { GateInput } from '../domain/gate.ts'
import type { Order } from '../domain/orders.ts'
import { emptyVenueHealth, overrideInForce, overrideStatus, type VenueHealthEntry, type VenueOverride } from '../domain/venue-health.ts'
import { DONE_REPLY, type Decision } from './commands.ts'
import type { VenueHealthCommand, VenueOverrideCommand, VenueOverrideLapseCommand } from './venue-health-commands.ts'
import { isOperator, mayChangeMode } from './permissions.ts'
import { attributed, attributionOf } from './attribution.ts'
import type { KernelState } from './state.ts'

/** An override's reason: what a person needs to read later, bounded like an operator's note. */
export const OVERRIDE_REASON_CHARS_MAX = 256

export function venueHealthOf(state: KernelState, venue: string): VenueHealthEntry {
  return state.venueHealth.get(venue) ?? emptyVenueHealth()
}

export function decideVenueHealth(state: KernelState, command: VenueHealthCommand): Decision {
  assert(Number.isSafeInteger(command.score) && command.score >= 0 && command.score <= 100, () => `a venue health score is 0–100, got ${command.score}`)
  if (!venueKnown(state, command.venue)) return { events: [], reply: { kind: 'refused', reason: 'VENUE_UNKNOWN', detail: command.venue } }
  const previous = venueHealthOf(state, command.venue).level
  if (previous === command.level) return { events: [], reply: DONE_REPLY }
  const { venue, level, score, detail } = command
  return { events: [{ type: 'venue.health_changed', atMs: command.nowMs, venue, level, previous, score, detail }], reply: DONE_REPLY }
}

export function decideVenueOverride(state: KernelState, command: VenueOverrideCommand): Decision {
  const allowed = command.op === 'revoke' ? isOperator(command.principal) : mayChangeMode(command.principal)
  if (!allowed) return refused('PERMISSION_DENIED', command.op === 'revoke' ? 'revoking an override needs ops or admin' : `an override's ${command.op} needs admin`)
  if (!venueKnown(state, command.venue)) return refused('VENUE_UNKNOWN', command.venue)
  const entry = venueHealthOf(state, command.venue)
  const at = { atMs: command.nowMs, venue: command.venue, principalId: command.principal.id }
  const attribution = attributionOf(state, command)
  switch (command.op) {
    case 'propose': {
      const reason = command.reason.trim()
      if (reason === '' || reason.length > OVERRIDE_REASON_CHARS_MAX) return refused('SYNTAX_INVALID', `an override's reason is 1–${OVERRIDE_REASON_CHARS_MAX} characters`)
      if (!Number.isSafeInteger(command.durationMs) || command.durationMs < 1) return refused('SYNTAX_INVALID', `an override's duration is a positive number of ms, got ${command.durationMs}`)
      const overrideId = `${command.venue}#${entry.overridesProposed + 1}`
      return { events: [attributed({ type: 'venue.override_proposed', ...at, overrideId, note: reason, scope: command.scope, untilMs: command.nowMs + command.durationMs }, attribution)], reply: DONE_REPLY }
    }
    case 'approve': {
      const pending = entry.override
      if (pending === null || pending.overrideId !== command.overrideId || overrideStatus(pending, command.nowMs) !== 'pending_approval') {
        return refused('OVERRIDE_NOT_PENDING', `${command.overrideId} does not await approval on ${command.venue}`)
      }
      // The same person under another spelling of the name is no second admin (samePersonIds).
      if (samePersonIds(pending.proposedBy, command.principal.id)) return refused('OVERRIDE_SELF_APPROVAL', `${command.principal.id} proposed ${pending.overrideId}`)
      return { events: [attributed({ type: 'venue.override_approved', ...at, overrideId: pending.overrideId }, attribution)], reply: DONE_REPLY }
    }
    case 'revoke': {
      const current = entry.override
      if (current === null || overrideStatus(current, command.nowMs) === 'expired') return refused('OVERRIDE_NOT_FOUND', `${command.venue} has no override pending or in force`)
      return { events: [attributed({ type: 'venue.override_revoked', ...at, overrideId: current.overrideId, note: command.note }, attribution)], reply: DONE_REPLY }
    }
  }
}

/**
 * Records the lapse of `command.overrideId` once it has expired by the command's time. Idempotent: a second runtime
 * notice (after a crash, by a new leader) finds the override gone and records nothing, as does one for an override
 * revoked or replaced since, or one not expired yet by nowMs.
 */
export function decideVenueOverrideLapse(state: KernelState, command: VenueOverrideLapseCommand): Decision {
  const current = state.venueHealth.get(command.venue)?.override ?? null
  if (current === null || current.overrideId !== command.overrideId || overrideStatus(current, command.nowMs) !== 'expired') return { events: [], reply: DONE_REPLY }
  const event = { type: 'venue.override_lapsed', atMs: command.nowMs, venue: command.venue, overrideId: current.overrideId, untilMs: current.untilMs, approved: current.approvedBy !== null } as const
  return { events: [event], reply: DONE_REPLY }
}

type VenueHealthEvent = EventOf<'venue.health_changed' | 'venue.override_proposed' | 'venue.override_approved' | 'venue.override_revoked' | 'venue.override_lapsed'>

export function applyVenueHealth(state: KernelState, event: VenueHealthEvent, lsn: number): void {
  const entry = venueHealthOf(state, event.venue)
  state.venueHealth.set(event.venue, entry)
  switch (event.type) {
    case 'venue.health_changed':
      Object.assign(entry, { level: event.level, score: event.score, detail: event.detail, sinceMs: event.atMs, lsn })
      return
    case 'venue.override_proposed':
      entry.overridesProposed += 1
      entry.override = {
        overrideId: event.overrideId, reason: event.note, scope: event.scope, proposedBy: event.principalId, proposedAtMs: event.atMs,
        untilMs: event.untilMs, approvedBy: null, approvedAtMs: null,
      }
      return
    case 'venue.override_approved':
      assert(entry.override?.overrideId === event.overrideId, () => `approval of ${event.overrideId}, which ${event.venue} does not hold`)
      entry.override.approvedBy = event.principalId
      entry.override.approvedAtMs = event.atMs
      return
    case 'venue.override_revoked':
      entry.override = null
      return
    case 'venue.override_lapsed':
      assert(entry.override?.overrideId === event.overrideId, () => `lapse of ${event.overrideId}, which ${event.venue} does not hold`)
      entry.override = null
      return
  }
}

/**
 * Check 8's facts for a send of `order` at `nowMs`: the venue's recorded level, whether an override in force covers the
 * order, and, when the level is not OK, a detail naming the record that set it (an order's explanation shows it). A
 * flatten close is never held (it only reduces risk, like a cancel). An OK venue's detail is the gate's usual text.
 */
/** Shared (frozen): every send to a healthy venue reads these. */
const HEALTH_OK: Pick<GateInput, 'health' | 'healthOverride'> = Object.freeze({ health: 'OK', healthOverride: false })

export function healthGateFacts(state: KernelState, order: Order, nowMs: number): Pick<GateInput, 'health' | 'healthOverride' | 'healthExempt' | 'healthDetail'> {
  const entry = state.venueHealth.get(order.venue)
  if (entry === undefined || entry.level === 'OK') return HEALTH_OK
  const healthOverride = overrideInForce(entry.override, { nowMs, reduceOnly: order.reduceOnly })
  const source = `venue ${order.venue} ${entry.level} since venue.health_changed at LSN ${entry.lsn}, score ${entry.score}: ${entry.detail}`
  const override = entry.override === null ? 'none' : overrideText(entry.override, nowMs)
  const exempt = order.flattenId !== null
  const detail = `health=${entry.level} (${source}), override=${healthOverride} (${override})${exempt ? '; a flatten close is never held by venue health' : ''}`
  return { health: entry.level, healthOverride, ...(exempt ? { healthExempt: true } : {}), healthDetail: detail }
}

function overrideText(override: VenueOverride, nowMs: number): string {
  const approval = override.approvedBy === null ? 'not approved' : `approved by ${override.approvedBy}`
  return `${override.overrideId} ${overrideStatus(override, nowMs)}, proposed by ${override.proposedBy}, ${approval}, scope ${override.scope}, until ${override.untilMs}`
}

function venueKnown(state: KernelState, venue: string): boolean {
  for (const instrument of state.instruments.values()) if (instrument.venue === venue) return true
  return false
}

function refused(reason: 'PERMISSION_DENIED' | 'VENUE_UNKNOWN' | 'SYNTAX_INVALID' | 'OVERRIDE_NOT_PENDING' | 'OVERRIDE_SELF_APPROVAL' | 'OVERRIDE_NOT_FOUND', detail: string): Decision {
  return { events: [], reply: { kind: 'refused', reason, detail } }
}
