/**
 * The evidence a release must show (scripts/evidence.ts fails when one of these entries is missing or failed). Kept
 * apart from the summariser, which runs on import, so specs can read the list.
 */

/**
 * What seed 004 §12 asks the evidence to show end to end: its E2E invariants (total quantity conserved, Lane0 first,
 * leader-only live, Unknown converges, audit integrity) and its golden trace scenarios.
 */
export type E2eEvidence = 'conservation' | 'lane0-priority' | 'leader-only-live' | 'unknown-converges' | 'audit-integrity' | 'golden-traces'

export interface RequiredEvidence {
  /** The entry's id: its file is artifacts/assurance/<id>.json. */
  id: string
  /** The spec that writes it. */
  spec: string
  /** Which of §12's E2E items the entry shows (specs/scripts/evidence-required.test.ts holds each one covered). */
  covers?: readonly E2eEvidence[]
}

/**
 * Evidence a release must show. `spec` ties each to the spec that writes it: a requirement whose spec is not in the
 * checkout is reported as not applicable rather than missing (areas still being built add theirs when they land).
 */
export const REQUIRED: readonly RequiredEvidence[] = [
  { id: 'snapshot.state-codec-roundtrip', spec: 'specs/runtime/snapshot/state-codec.test.ts' },
  { id: 'snapshot.crash-during-write', spec: 'specs/runtime/snapshot/store.test.ts' },
  { id: 'snapshot.corrupted-ignored', spec: 'specs/runtime/snapshot/store.test.ts' },
  { id: 'snapshot.foreign-or-old-schema-refused', spec: 'specs/runtime/snapshot/store.test.ts' },
  { id: 'snapshot.restart-equals-genesis', spec: 'specs/runtime/snapshot/restart.test.ts' },
  { id: 'snapshot.compaction-restart-verify', spec: 'specs/cli/snapshot.test.ts' },
  { id: 'replay-verify.exit-codes', spec: 'specs/cli/snapshot.test.ts' },
  { id: 'replay-verify.query-model', spec: 'specs/runtime/snapshot/query-model-verify.test.ts' },
  { id: 'snapshot.crash-kill-9', spec: 'specs/runtime/snapshot/crash.test.ts' },
  { id: 'snapshot.other-format-version-refused', spec: 'specs/runtime/snapshot/versions.test.ts' },
  // The simulation's invariants after every step of every seed: no double send, monotonic fills, reservations and the
  // ledger agreeing with the venue (nothing created or lost), Lane0 bounded and first, every Unknown converged.
  { id: 'simulation', spec: 'specs/simulation/simulation.test.ts', covers: ['conservation', 'lane0-priority', 'unknown-converges'] },
  // Only the leader sends: a leader killed under load leaves no duplicate at the venue, one paused past its lease sends
  // nothing once woken.
  { id: 'ha.kill9-failover', spec: 'specs/runtime/ha/failover.test.ts', covers: ['leader-only-live', 'unknown-converges'] },
  { id: 'ha.sigstop-deposed-leader', spec: 'specs/runtime/ha/failover.test.ts', covers: ['leader-only-live'] },
  // The audit chain: an edit is found where it was (independent audit), and a running gateway answers one with its
  // kill switch, a tamper record and a forensics bundle (§9).
  { id: 'audit.edit-caught', spec: 'specs/audit/verify.test.ts', covers: ['audit-integrity'] },
  { id: 'audit.tamper-response', spec: 'specs/runtime/audit-duty.test.ts', covers: ['audit-integrity'] },
  { id: 'golden.traces', spec: 'specs/golden/golden.test.ts', covers: ['golden-traces'] },
]
