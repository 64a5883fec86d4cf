import type { Frame } from '../../wal/index.ts'
import { applyInPlace, type KernelState } from '../kernel/index.ts'
import { kernelReplayEventOf } from './records.ts'

/** Folds frames into `state` in log order; audit records are skipped. */
export function replayFrames(state: KernelState, frames: Iterable<Frame>, options: { onProgress?: (lsn: number) => void }): void {
  // applyInPlace reads meta.lsn and keeps nothing of it: one object serves every record of the replay.
  const meta = { lsn: 0 }
  for (const frame of frames) {
    // The log checked these frames' CRC and chain on open; this program validated them before writing them. The
    // events go to applyInPlace only, so the members it never reads are not parsed (src/kernel/apply-unread.ts).
    const event = kernelReplayEventOf(frame)
    meta.lsn = frame.lsn
    if (event !== null) applyInPlace(state, event, meta)
    if (options.onProgress !== undefined && frame.lsn % 100_000 === 0) options.onProgress(frame.lsn)
  }
}

