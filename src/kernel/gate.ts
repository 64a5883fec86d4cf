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
 * close nor a cancel. Cancels reduce risk, so only the checks that keep a non-leader or an incompatible binary from talking to the venue
 * apply to them (ha_leader, mode_live_explicit in live, schema_compatible); a tampered audit chain or CRITICAL health
 * must not stop a cancel.
 */

import type { GateCheckName, GateCheckResult, GateInput, GateVerdict } from '../domain/gate.ts'

/** The checks that only live mode enforces (paper records them, informative). */
export const LIVE_ONLY: ReadonlySet<GateCheckName> = new Set<GateCheckName>(['mode_live_explicit', 'durability_live'])
const CANCEL_CHECKS: ReadonlySet<GateCheckName> = new Set<GateCheckName>(['ha_leader', 'mode_live_explicit', 'schema_compatible'])

export function evaluateGate(input: GateInput): GateVerdict {
  const results: [GateCheckName, boolean, string][] = [
    ['ha_leader', input.haLeader, input.haLeader ? 'this node is the HA leader' : 'this node is not the HA leader'],
    ['mode_live_explicit', input.mode === 'live' && input.liveExplicit, `mode=${input.mode}, liveExplicit=${input.liveExplicit}`],
    ['policy_allow', input.policyAllows, input.policyAllows ? 'policy allows within its validity' : 'policy missing, expired or not allowing'],
    ['guards_pass', input.guardsPassed, guardsDetail(input)],
    ['reservation_held', input.reservationHeld, input.reservationHeld ? 'reservation held' : 'reservation not held'],
    ['durability_live', input.durabilityMode === 'fsync', `log durability is ${input.durabilityMode}; live needs fsync`],
    ['schema_compatible', input.schemaCompatible, input.schemaCompatible ? 'schemas compatible' : 'schema incompatibility detected'],
    [
      'health_not_critical',
      input.health !== 'CRITICAL' || input.healthOverride || input.healthExempt === true,
      input.healthDetail ?? `health=${input.health}, override=${input.healthOverride}`,
    ],
    ['audit_verified', input.auditVerified, input.auditVerified ? 'audit chain and seal verified' : 'audit chain or seal not verified'],
  ]
  const checks: GateCheckResult[] = results.map(([check, ok, detail]) => {
    // An amend changes what is at risk at the venue, so it faces every check a place does.
    const applies = input.action !== 'cancel' || CANCEL_CHECKS.has(check)
    return { check, applies, pass: applies ? ok : true, detail }
  })
  const pass = checks.every((item) => item.pass)
  const sendAllowed =
    input.mode === 'live' ? pass : input.mode === 'paper' ? checks.every((item) => item.pass || LIVE_ONLY.has(item.check)) : false
  return { action: input.action, mode: input.mode, pass, sendAllowed, checks }
}

function guardsDetail(input: GateInput): string {
  if (input.guardsPassed) return 'every intake guard passed'
  return input.guardsFailure === undefined ? 'an intake guard did not pass' : `a guard refused the send: ${input.guardsFailure}`
}
