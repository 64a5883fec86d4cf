/**
 * Offline rebuild: fold a log (or its part after a snapshot) into a kernel state without an engine or a writer — for
 * replay-verify, `egress snapshot` on a stopped data directory and the benchmarks. Optionally verifies the chain while
 * reading and stops at checkpoints (the LSNs of snapshots to compare with).
 */

import type { Frame } from '../../../wal/index.ts'
import { applyInPlace, initialState, type KernelState } from '../../kernel/index.ts'
import { domainEventOf } from '../records.ts'

export interface RebuildLog {
  readonly firstLsn: number
  readonly lastLsn: number
  read(fromLsn: number, options?: { toLsn?: number; verifyChain?: boolean }): Iterable<Frame>
}

export interface RebuildOptions {
  /** Start from this state at this LSN (a loaded snapshot) instead of an empty state at LSN 0. */
  from?: { state: KernelState; lsn: number }
  toLsn?: number
  verifyChain?: boolean
  /** Called after the record at each listed LSN has been applied. */
  checkpoints?: ReadonlyMap<number, (state: KernelState) => void>
  onProgress?: (lsn: number, records: number) => void
  progressEveryRecords?: number
}

export interface RebuildResult {
  state: KernelState
  records: number
  lastLsn: number
  elapsedMs: number
}

export function rebuildState(log: RebuildLog, options: RebuildOptions = {}): RebuildResult {
  const started = performance.now()
  const state = options.from?.state ?? initialState()
  const fromLsn = options.from === undefined ? log.firstLsn : options.from.lsn + 1
  const toLsn = options.toLsn ?? log.lastLsn
  const every = options.progressEveryRecords ?? 100_000
  let records = 0
  let lastLsn = options.from?.lsn ?? 0
  const checkpoints = options.checkpoints
  if (options.from !== undefined) checkpoints?.get(options.from.lsn)?.(state)
  for (const frame of log.read(fromLsn, { toLsn, verifyChain: options.verifyChain ?? false })) {
    const event = domainEventOf(frame)
    if (event !== null) applyInPlace(state, event, { lsn: frame.lsn })
    records++
    lastLsn = frame.lsn
    if (checkpoints !== undefined) checkpoints.get(frame.lsn)?.(state)
    if (options.onProgress !== undefined && records % every === 0) options.onProgress(frame.lsn, records)
  }
  return { state, records, lastLsn, elapsedMs: performance.now() - started }
}
