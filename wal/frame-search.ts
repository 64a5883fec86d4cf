/**
 * Looking for a valid frame after damage, with its work bounded. A frame that fails its checks says nothing about where
 * the next frame starts, so the search tries every byte offset after it; where the length field is plausible it must
 * CRC up to a whole frame (1 MiB). Bytes that read as a plausible length at most offsets (a repeated `00 00 0f 00`
 * does) made that quadratic: 8 MB of them cost a minute of CRC, a 64 MiB segment minutes, a 1 GiB one hours — on the
 * open (scan.ts, lost-write.ts, tail-diagnosis.ts) and on the audit's verify (src/audit/log-scan.ts), which runs on a
 * serving gateway's event loop. So:
 *
 * - cheaper first, an offset is CRC-checked only if its header could be this log's next frames': the frames of a
 *   segment are written in LSN order, back to back, each at least FRAME_HEADER_BYTES, so a frame of this log that
 *   starts `distanceBytes` past the bad frame (which should have held LSN afterLsn + 1) holds an LSN above afterLsn and
 *   at most afterLsn + 1 + distanceBytes / FRAME_HEADER_BYTES (`lsnCanLieAt`). A CRC-valid frame outside that is not
 *   one this log wrote there (nothing acknowledged can be in it), so it is skipped as garbage is;
 * - then a budget of CRC bytes (FrameSearchBudget): the base plus twice the bytes searched, which covers every honest
 *   search (each valid frame after the damage is CRC-checked about once by the search and once by what follows it)
 *   and bounds a crafted one to well under a second on a 1 GiB segment. When it is spent the search gives up
 *   (SEARCH_GAVE_UP) and each caller takes the conservative answer: the open refuses (FRAME_CORRUPT, never a cut),
 *   the audit reports FRAME_CORRUPT, a count of frames beyond a tear stops there.
 */

import { FRAME_HEADER_BYTES, FRAME_PREFIX_BYTES } from './frame.ts'
import { crcHolds, frameBody, frameBytesAt, lsnAt } from './frame-check.ts'

/** The CRC work every search may do whatever the bytes searched: 64 frames of the largest size (a few ms). */
export const FRAME_SEARCH_BASE_CRC_BYTES = 64 * 1024 * 1024

/** What a search answers when its budget was spent before it found a frame or reached the end. */
export const SEARCH_GAVE_UP = 'gave-up'

/** Counts the CRC bytes frame searches computed, in this process (a spec's probe: the work is bounded). */
export const frameSearchWork = { crcBytes: 0 }

/** The CRC bytes one judgement of damage may compute: shared by its searches, in order (see the file comment). */
export class FrameSearchBudget {
  private leftBytes: number
  readonly totalBytes: number

  /** `searchedBytes`: the bytes after the damage the searches walk. */
  constructor(searchedBytes: number) {
    this.totalBytes = FRAME_SEARCH_BASE_CRC_BYTES + 2 * searchedBytes
    this.leftBytes = this.totalBytes
  }

  /** Takes `crcBytes` of work from the budget; false (nothing taken) when that would overspend it. */
  spend(crcBytes: number): boolean {
    if (crcBytes > this.leftBytes) return false
    this.leftBytes -= crcBytes
    frameSearchWork.crcBytes += crcBytes
    return true
  }

  /** For a message: what was spent, in MiB. */
  describe(): string {
    return `${Math.round(this.totalBytes / (1024 * 1024))} MiB of CRC work`
  }
}

/** Could this log have written a frame with `lsn` `distanceBytes` past the bad frame that should hold afterLsn + 1? */
export function lsnCanLieAt(lsn: number, afterLsn: number, distanceBytes: number): boolean {
  return lsn > afterLsn && (lsn - afterLsn - 1) * FRAME_HEADER_BYTES <= distanceBytes
}

/** Where a search stands: the last good LSN before the damage, and the budget it spends. */
export interface FrameSearch {
  afterLsn: number
  budget: FrameSearchBudget
}

/**
 * The first CRC-valid frame this log could have written (`lsnCanLieAt`) starting at or after `from` in `bytes`, whose
 * offset 0 is the bad frame's start; null when there is none, SEARCH_GAVE_UP when the budget ran out first.
 */
export function findValidFrameAfter(bytes: Uint8Array, from: number, search: FrameSearch): { offsetBytes: number; lsn: number } | null | typeof SEARCH_GAVE_UP {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const lastStart = bytes.byteLength - FRAME_HEADER_BYTES
  for (let offset = from; offset <= lastStart; offset++) {
    const frameBytes = frameBytesAt(view, offset, bytes.byteLength)
    if (frameBytes < 0) continue
    const lsn = lsnAt(view, offset)
    if (!lsnCanLieAt(lsn, search.afterLsn, offset)) continue
    if (!search.budget.spend(frameBytes - FRAME_PREFIX_BYTES)) return SEARCH_GAVE_UP
    if (crcHolds(view, offset, frameBody(bytes, offset, frameBytes))) return { offsetBytes: offset, lsn }
  }
  return null
}
