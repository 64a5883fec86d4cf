/**
 * Settings that are valid but that an operator most likely did not mean, said at serve's start as warning lines (never
 * refused: each has a use, and one environment may serve nodes of several kinds):
 * - an HS256 secret where HS256 tokens are refused (hs256-unused.ts);
 * - one snapshot kept with compaction `delete`: the log below it is gone, so if that one file rots there is nothing to
 *   start from (a start refuses COMPACTED_NO_SNAPSHOT), where `keep` ≥ 2 or `archive` leaves a way back.
 */

import { hs256SecretUnused } from './hs256-unused.ts'
import type { Config } from './schema.ts'

/** The warnings for `config`, each one line, in a fixed order; none: []. */
export function configWarnings(config: Pick<Config, 'mode' | 'auth' | 'snapshots'>): string[] {
  const warnings: string[] = []
  const hs256 = hs256SecretUnused(config)
  if (hs256 !== null) warnings.push(hs256)
  const snapshots = config.snapshots
  if (snapshots !== undefined && snapshots.compaction === 'delete' && snapshots.keep === 1) {
    warnings.push('snapshots.keep is 1 with snapshots.compaction "delete": the log below that one snapshot is deleted, so if its file is damaged no start has anything to start from (COMPACTED_NO_SNAPSHOT); keep 2 or more, or compaction "archive"')
  }
  return warnings
}
