/**
 * Read-only access to a log directory — for offline verification (audit verify, replay-verify) on a copy of a data
 * directory, possibly while a gateway is writing the original. Never modifies a file: a torn tail (a hole a lost write
 * left included) is reported, not truncated.
 */

import type { SegmentCatalog, SegmentInfo } from './catalog.ts'
import type { Frame } from './frame.ts'
import { nodeIo, type WalIo } from './io.ts'
import { defaultWalOptions } from './options.ts'
import { readFrames } from './reader.ts'
import { recoverLog, type RecoveryReport } from './recover.ts'

export interface ReadOnlyLog {
  readonly firstLsn: number
  readonly lastLsn: number
  readonly chainHead: Uint8Array
  readonly lastEpoch: number
  /** Its segments, oldest first (a torn tail's frames are in none). */
  readonly segments: readonly Readonly<SegmentInfo>[]
  readonly report: RecoveryReport
  read(fromLsn: number, options?: { toLsn?: number; verifyChain?: boolean }): Generator<Frame>
}

/** `onFrame` sees every frame the open scans; the frame's views are valid during the call only (copy to keep). */
export function openReadOnly(
  dir: string,
  options: { io?: WalIo; verifyChain?: boolean; onFrame?: (frame: Frame, file: string, offsetBytes: number) => void } = {},
): ReadOnlyLog {
  const io = options.io ?? nodeIo
  const recovered = recoverLog(dir, {
    io,
    writable: false,
    verifyChain: options.verifyChain ?? true,
    indexStrideFrames: 256,
    // As a writable open with the default options would cut it (a gateway's log is written with them).
    lostWriteWindowBytes: defaultWalOptions.batchBytesMax,
    ...(options.onFrame === undefined ? {} : { onFrame: options.onFrame }),
  })
  const catalog: SegmentCatalog = recovered.catalog
  return {
    firstLsn: catalog.firstLsn,
    lastLsn: recovered.position.lastLsn,
    chainHead: recovered.position.lastHash.slice(),
    lastEpoch: recovered.position.lastEpoch,
    segments: catalog.segments,
    report: recovered.report,
    read: (fromLsn, readOptions = {}) =>
      readFrames(catalog, { io, fromLsn, toLsn: readOptions.toLsn ?? recovered.position.lastLsn, verifyChain: readOptions.verifyChain ?? false }),
  }
}
