/**
 * The evidence a release must show (scripts/evidence.ts fails when one of these entries is missing or failed). Kept
 * apart from the summariser, which runs on import, so specs can read the list.
 */

export interface RequiredEvidence {
  /** The entry's id: its file is artifacts/assurance/<id>.json. */
  id: string
  /** The spec that writes it. */
  spec: string
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
  { id: 'simulation', spec: 'specs/simulation/simulation.test.ts' },
]
