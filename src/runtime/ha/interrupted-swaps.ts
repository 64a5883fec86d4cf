/**
 * A data directory left mid-swap by a crash: a snapshot recovery (snapshot-recovery.ts) or the keeping of a diverged
 * log's shared part (diverged-prefix.ts) moves `log/` aside before the new one takes its place. Opened as it is,
 * `Wal.open` would create a new, empty `log/` and the gateway would start from nothing. So every gateway start, HA
 * or not (`egress serve` on a data dir an HA node left), first completes a swap that was committed, or drops a build
 * that was not. Throws if the swap cannot be finished: then no gateway starts.
 */

import { finishKeepingPrefix } from './diverged-prefix.ts'
import { finishSnapshotRecovery } from './snapshot-recovery.ts'

export function finishInterruptedSwaps(dataDir: string, log: (line: string) => void, when = 'before starting the gateway'): void {
  const recovery = finishSnapshotRecovery(dataDir)
  if (recovery !== 'none') log(`interrupted snapshot recovery ${recovery.replace('_', ' ')} ${when}`)
  const prefix = finishKeepingPrefix(dataDir)
  if (prefix !== 'none') log(`interrupted keeping of a diverged log's shared part ${prefix.replace('_', ' ')} ${when}`)
}
