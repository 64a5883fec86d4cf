/**
 * Settings that are valid but that an operator most likely did not mean, said at serve's start as warning lines (never
 * refused: each has a use, and one environment may serve nodes of several kinds):
 * - an HS256 secret where HS256 tokens are refused (hs256-unused.ts);
 * - one snapshot kept with compaction `delete`: the log below it is gone, so if that one file rots there is nothing to
 *   start from (a start refuses COMPACTED_NO_SNAPSHOT), where `keep` ≥ 2 or `archive` leaves a way back;
 * - a bound of 1 on the new orders queued (kernel.accountQueuedMax, lane1DepthMax, lane2DepthMax): an OCO list queues
 *   its two legs together, so every list it bounds is refused 429 OVERLOADED, retryable, and no retry ever passes.
 */

import { hs256SecretUnused } from './hs256-unused.ts'
import type { Config } from './schema.ts'

/** The warnings for `config`, each one line, in a fixed order; none: []. */
export function configWarnings(config: Pick<Config, 'mode' | 'auth' | 'snapshots' | 'kernel'>): string[] {
  const warnings: string[] = []
  const hs256 = hs256SecretUnused(config)
  if (hs256 !== null) warnings.push(hs256)
  const snapshots = config.snapshots
  if (snapshots !== undefined && snapshots.compaction === 'delete' && snapshots.keep === 1) {
    warnings.push('snapshots.keep is 1 with snapshots.compaction "delete": the log below that one snapshot is deleted, so if its file is damaged no start has anything to start from (COMPACTED_NO_SNAPSHOT); keep 2 or more, or compaction "archive"')
  }
  // Lane1 takes reduce-only orders, Lane2 the rest (intake/place.ts), an account's count both.
  const lists = { accountQueuedMax: 'every OCO list', lane1DepthMax: 'every OCO list of reduce-only legs', lane2DepthMax: 'every OCO list of legs that are not reduce-only' } as const
  for (const [bound, which] of Object.entries(lists) as [keyof typeof lists, string][]) {
    if (config.kernel?.[bound] === 1) {
      warnings.push(`kernel.${bound} is 1: an OCO list queues its two legs together, so ${which} is refused 429 OVERLOADED (retryable) and no retry passes; 2 or more lets lists through`)
    }
  }
  return warnings
}
