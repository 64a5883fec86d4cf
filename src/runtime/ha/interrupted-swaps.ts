/**
 * A data directory left mid-swap by a crash: a snapshot recovery (snapshot-recovery.ts) or the keeping of a diverged
 * log's shared part (diverged-prefix.ts) moves `log/` aside before the new one takes its place. Opened as it is,
 * `Wal.open` would create a new, empty `log/` and the gateway would start from nothing. So every gateway start, HA
 * or not (`egress serve` on a data dir an HA node left), first completes a swap that was committed, or drops a build
 * that was not. Throws if the swap cannot be finished: then no gateway starts.
 *
 * The offline tools do the same or refuse (src/cli): those that write the data dir anyway (`egress snapshot`,
 * `egress compact`) finish the swap first, as a start would; those that promise to change nothing (`replay-verify`,
 * `audit`, `compact --dry-run`) refuse a committed, unfinished swap with INTERRUPTED_SWAP — its `log/` is the old log
 * (records about to be set aside), the new one, or missing, and none of those is the data dir's log. A build that was
 * never committed does not stop them: `log/` and `snapshots/` are then untouched and whole, and only the build is
 * dropped at the next start.
 */

import { nodeIo, type WalIo } from '../../../wal/index.ts'
import { finishKeepingPrefix, keepingPrefixCommitted } from './diverged-prefix.ts'
import { finishSnapshotRecovery, snapshotRecoveryCommitted } from './snapshot-recovery.ts'

/** `io` carries the file-system calls (default node:fs); a failed fsync throws SyncFailedError (durable-fs.ts). */
export function finishInterruptedSwaps(dataDir: string, log: (line: string) => void, when = 'before starting the gateway', io: WalIo = nodeIo): void {
  const recovery = finishSnapshotRecovery(dataDir, io)
  if (recovery !== 'none') log(`interrupted snapshot recovery ${recovery.replace('_', ' ')} ${when}`)
  const prefix = finishKeepingPrefix(dataDir, io)
  if (prefix !== 'none') log(`interrupted keeping of a diverged log's shared part ${prefix.replace('_', ' ')} ${when}`)
}

export type InterruptedSwap = 'snapshot_recovery' | 'diverged_prefix'

const DESCRIBED: Record<InterruptedSwap, string> = {
  snapshot_recovery: 'a snapshot recovery (snapshot-recovery.commit)',
  diverged_prefix: "the keeping of a diverged log's shared part (diverged-prefix.commit)",
}

/** A tool that changes nothing was given a data dir with a committed, unfinished swap: its `log/` is not the log. */
export class InterruptedSwapError extends Error {
  override readonly name = 'InterruptedSwapError'
  readonly code = 'INTERRUPTED_SWAP'

  constructor(
    readonly dataDir: string,
    readonly swaps: InterruptedSwap[],
    tool: string,
  ) {
    super(
      `INTERRUPTED_SWAP: ${dataDir} was left mid-swap by an HA node: ${swaps.map((swap) => DESCRIBED[swap]).join(' and ')} was committed and not ` +
        `finished, so its log/ may be the old log, the new one, or missing. ${tool} changes nothing, so it does not finish it: run ` +
        `"egress serve" on this data dir (or "egress snapshot ${dataDir}", which finishes it offline) and run ${tool} again`,
    )
  }
}

/** The swaps committed and not finished in `dataDir` (none: `log/` and `snapshots/` are the data dir's). */
export function interruptedSwapsIn(dataDir: string, io: WalIo = nodeIo): InterruptedSwap[] {
  const swaps: InterruptedSwap[] = []
  if (snapshotRecoveryCommitted(dataDir, io)) swaps.push('snapshot_recovery')
  if (keepingPrefixCommitted(dataDir, io)) swaps.push('diverged_prefix')
  return swaps
}

/** For a tool that changes nothing (`tool` names it): throws InterruptedSwapError if `dataDir` is mid-swap. */
export function refuseInterruptedSwap(dataDir: string, tool: string, io: WalIo = nodeIo): void {
  const swaps = interruptedSwapsIn(dataDir, io)
  if (swaps.length > 0) throw new InterruptedSwapError(dataDir, swaps, tool)
}
