/**
 * The I-100 complete safety gate (§15): ONE function, nine checks, every send. It is pure — the runtime supplies the
 * facts only it knows (HA role, log durability, schema compatibility, health, audit verification, live readiness)
 * and the kernel supplies what its state knows (mode, policy, guards, reservation). The verdict is recorded in the
 * send (or blocked-send) event whatever the mode, so paper and shadow runs show what live would have done.
 *
 * - live: a send goes only if all nine checks pass.
 * - paper: the two live-only checks (mode_live_explicit, durability_live) are informative; the rest must pass.
 * - shadow: nothing is ever sent; the verdict is still computed and recorded.
 * Amends face every check, like places; check 8 (venue health, src/kernel/venue-health.ts) holds neither a flatten
 * close nor a cancel, and check 3 asks of a flatten close only that its account has a policy (allowing live in live). Cancels reduce risk, so only the checks that keep a non-leader or an incompatible binary from talking to the venue
 * apply to them (ha_leader, mode_live_explicit in live, schema_compatible); a tampered audit chain or CRITICAL health
 * must not stop a cancel.
 */

import type { GateCheckName, GateCheckResult, GateInput, GateVerdict, HealthLevel } from '../domain/gate.ts'

/** The checks that only live mode enforces (paper records them, informative). */
export const LIVE_ONLY: ReadonlySet<GateCheckName> = new Set<GateCheckName>(['mode_live_explicit', 'durability_live'])
const CANCEL_CHECKS: ReadonlySet<GateCheckName> = new Set<GateCheckName>(['ha_leader', 'mode_live_explicit', 'schema_compatible'])

export function evaluateGate(input: GateInput): GateVerdict {
  // Each check's line built straight into the verdict: a tuple per check, a callback per pass over them and their
  // fixed texts were most of what a send allocated.
  const healthOk = input.health !== 'CRITICAL' || input.healthOverride || input.healthExempt === true
  const checks: GateCheckResult[] = [
    checkLine(input, 'ha_leader', input.haLeader, input.haLeader ? 'this node is the HA leader' : 'this node is not the HA leader'),
    checkLine(input, 'mode_live_explicit', input.mode === 'live' && input.liveExplicit, modeDetail(input.mode, input.liveExplicit)),
    checkLine(input, 'policy_allow', input.policyAllows, input.policyDetail ?? (input.policyAllows ? 'policy allows within its validity' : 'policy missing, expired or not allowing')),
    checkLine(input, 'guards_pass', input.guardsPassed, guardsDetail(input)),
    checkLine(input, 'reservation_held', input.reservationHeld, input.reservationHeld ? 'reservation held' : 'reservation not held'),
    checkLine(input, 'durability_live', input.durabilityMode === 'fsync', durabilityDetail(input.durabilityMode)),
    checkLine(input, 'schema_compatible', input.schemaCompatible, input.schemaCompatible ? 'schemas compatible' : 'schema incompatibility detected'),
    checkLine(input, 'health_not_critical', healthOk, input.healthDetail ?? healthDetail(input.health, input.healthOverride)),
    checkLine(input, 'audit_verified', input.auditVerified, input.auditVerified ? 'audit chain and seal verified' : 'audit chain or seal not verified'),
  ]
  let pass = true
  let passInPaper = true
  for (const item of checks) {
    if (item.pass) continue
    pass = false
    if (!LIVE_ONLY.has(item.check)) passInPaper = false
  }
  const sendAllowed = input.mode === 'live' ? pass : input.mode === 'paper' ? passInPaper : false
  return { action: input.action, mode: input.mode, pass, sendAllowed, checks }
}

function checkLine(input: GateInput, check: GateCheckName, ok: boolean, detail: string): GateCheckResult {
  // An amend changes what is at risk at the venue, so it faces every check a place does.
  const applies = input.action !== 'cancel' || CANCEL_CHECKS.has(check)
  return { check, applies, pass: applies ? ok : true, detail }
}

/**
 * The details that name a fact's value, one text per value: a gateway sends with the same few (its mode, its log's
 * durability, a venue's health), so each is built once. Bounded all the same: past TEXTS_KEPT_MAX values, built per call.
 */
const TEXTS_KEPT_MAX = 64
const durabilityTexts = new Map<string, string>()
const modeTexts = new Map<string, readonly [string, string]>()

function modeDetail(mode: string, liveExplicit: boolean): string {
  let pair = modeTexts.get(mode)
  if (pair === undefined) {
    pair = [`mode=${mode}, liveExplicit=false`, `mode=${mode}, liveExplicit=true`]
    if (modeTexts.size < TEXTS_KEPT_MAX) modeTexts.set(mode, pair)
  }
  return pair[liveExplicit ? 1 : 0]
}

function durabilityDetail(durabilityMode: string): string {
  let text = durabilityTexts.get(durabilityMode)
  if (text === undefined) {
    text = `log durability is ${durabilityMode}; live needs fsync`
    if (durabilityTexts.size < TEXTS_KEPT_MAX) durabilityTexts.set(durabilityMode, text)
  }
  return text
}

const HEALTH_TEXTS: Readonly<Record<HealthLevel, readonly [string, string]>> = {
  OK: ['health=OK, override=false', 'health=OK, override=true'],
  DEGRADED: ['health=DEGRADED, override=false', 'health=DEGRADED, override=true'],
  CRITICAL: ['health=CRITICAL, override=false', 'health=CRITICAL, override=true'],
}

function healthDetail(health: HealthLevel, override: boolean): string {
  return HEALTH_TEXTS[health]?.[override ? 1 : 0] ?? `health=${health}, override=${override}`
}

function guardsDetail(input: GateInput): string {
  if (input.guardsPassed) return 'every intake guard passed'
  return input.guardsFailure === undefined ? 'an intake guard did not pass' : `a guard refused the send: ${input.guardsFailure}`
}
