/**
 * The reports an HA node keeps (a divergence, a snapshot recovery, its shadow decisions) as `/health` → `ha` shows
 * them: the same values under snake_case keys, like every other JSON body of the HTTP API. The runtime keeps its own
 * camelCase names; only this boundary renames.
 *
 * Each JSON type is its report's type with every key, at every depth, in snake_case (SnakeKeyed), so a field added to
 * a report fails tsc here until its mapping is written, and then in src/http/openapi/ha-status-schema.ts until it is
 * documented.
 */

import type { DivergenceReport } from './divergence.ts'
import type { SnapshotRecoveryStatus } from './resync.ts'
import type { ShadowStats } from './shadow.ts'

/** `lastMismatches` → `last_mismatches`, at the type level (digits stay where they are). */
type SnakeCase<Name extends string> = Name extends `${infer Head}${infer Tail}`
  ? `${Head extends Lowercase<Head> ? Head : `_${Lowercase<Head>}`}${SnakeCase<Tail>}`
  : Name

/** `T` with every object key, at every depth (arrays' items too), in snake_case; values keep their types. */
export type SnakeKeyed<T> = T extends readonly (infer Item)[]
  ? SnakeKeyed<Item>[]
  : T extends object
    ? { [Key in keyof T as SnakeCase<Key & string>]: SnakeKeyed<T[Key]> }
    : T

/** true when every key of `T`, at every depth, is already snake_case (a compile-time check: `const x: … = true`). */
export type SnakeKeysOnly<T> = [T] extends [SnakeKeyed<T>] ? ([SnakeKeyed<T>] extends [T] ? true : false) : false

export type DivergenceJson = SnakeKeyed<DivergenceReport>
export type SnapshotRecoveryJson = SnakeKeyed<SnapshotRecoveryStatus>
export type ShadowJson = SnakeKeyed<ShadowStats>

/** `ha.last_divergence`. */
export function divergenceJson(report: DivergenceReport): DivergenceJson {
  return {
    outcome: report.outcome,
    common_lsn: report.commonLsn,
    discarded_from_lsn: report.discardedFromLsn,
    discarded_to_lsn: report.discardedToLsn,
    discarded_count: report.discardedCount,
    discarded_epochs: report.discardedEpochs,
    discarded_epoch_count: report.discardedEpochCount,
    discarded_examples: report.discardedExamples.map((frame) => ({ lsn: frame.lsn, epoch: frame.epoch })),
    moved_to: report.movedTo,
    kept_prefix_to_lsn: report.keptPrefixToLsn,
    linked_segments: report.linkedSegments,
    linked_bytes: report.linkedBytes,
    copied_segments: report.copiedSegments,
    copied_bytes: report.copiedBytes,
    snapshots_kept: report.snapshotsKept,
    build_ms: report.buildMs,
    fallback: report.fallback,
    error: report.error,
  }
}

/** `ha.last_snapshot_recovery`: recovered (what the node started again from) or failed (why). */
export function snapshotRecoveryJson(status: SnapshotRecoveryStatus): SnapshotRecoveryJson {
  if (status.state === 'failed') {
    return { state: status.state, at_ms: status.atMs, leader_first_lsn: status.leaderFirstLsn, code: status.code, error: status.error }
  }
  return {
    state: status.state,
    at_ms: status.atMs,
    leader_first_lsn: status.leaderFirstLsn,
    snapshot_lsn: status.snapshotLsn,
    snapshot_digest: status.snapshotDigest,
    previous_last_lsn: status.previousLastLsn,
    moved_to: status.movedTo,
    last_lsn: status.lastLsn,
  }
}

/** `ha.shadow`: the standby's shadow decisions, counts and the last mismatches. */
export function shadowJson(stats: ShadowStats): ShadowJson {
  return {
    decisions: stats.decisions,
    matches: stats.matches,
    mismatches: stats.mismatches,
    events_without_command: stats.eventsWithoutCommand,
    last_mismatches: stats.lastMismatches.map((mismatch) => ({ lsn: mismatch.lsn, kind: mismatch.kind, difference: mismatch.difference })),
  }
}
