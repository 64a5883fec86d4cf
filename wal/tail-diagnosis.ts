/**
 * Diagnosing a log whose open is refused because of a hole in its tail, read-only (the operator's side of
 * `egress repair-tail`; the cut itself is tail-repair.ts).
 *
 * A power loss can leave a zero-filled page inside the part of the last segment written after the last fsync, with
 * pages written later intact after it: a bad stretch followed by CRC-valid frames. The open cuts that itself only
 * when it can be the one batch in flight (lost-write.ts: within batchBytesMax of the end or inside one append, a lost
 * sector explaining it); any other such stretch it refuses (FRAME_CORRUPT, scan.ts) on purpose: the frames past the
 * hole may have been acknowledged, and the log must never drop them on its own. This module says exactly what a cut at the hole
 * would discard, so an operator can decide — and recognises only that shape:
 *
 * - the refusal is FRAME_CORRUPT in the LAST segment (in a sealed segment nothing was ever unsynced);
 * - the bad stretch, from the first bad frame to the next CRC-valid frame, holds a whole zero-filled, page-aligned
 *   4 KiB page (what a lost page write leaves; a bit flip or an edit never zeroes a page — the audit's rule too,
 *   src/audit/log-scan.ts);
 * - cut there, the log opens and its whole chain verifies (checked on a view of the files that ends at the cut).
 *
 * Anything else — a chain break, a damaged header, an LSN gap, damage in a sealed segment — is WalRepairError and
 * needs a human. Nothing here writes a file or takes a lock.
 */

import { join } from 'node:path'
import { toHex } from './chain.ts'
import { WalCorruptionError, WalRepairError } from './errors.ts'
import { crcHolds, frameBody, frameBytesAt, lsnAt } from './frame-check.ts'
import { FrameSearchBudget, SEARCH_GAVE_UP, findValidFrameAfter, type FrameSearch } from './frame-search.ts'
import { nodeIo, readFully, type WalIo } from './io.ts'
import { openReadOnly, type ReadOnlyLog } from './read-only.ts'
import { APPEND_INCOMPLETE, type RecoveryReport } from './recover.ts'
import { parseSegmentName, segmentName } from './segment.ts'

/** The page a lost write leaves zero-filled (the audit's PAGE_BYTES). */
export const HOLE_PAGE_BYTES = 4096

/** CRC-valid frames found past the hole: what a cut would discard besides the damaged bytes. */
export interface FramesBeyond {
  frameCount: number
  /** Lowest and highest LSN among them (they need not be dense: frames may have been lost in the hole). */
  firstLsn: number
  lastLsn: number
}

export interface TailHole {
  /** The last segment: its path, its file name and its size. */
  file: string
  segment: string
  segmentBytes: number
  /** Where a cut goes: the end of the last good frame, the start of the first bad one. */
  cutOffsetBytes: number
  /** The last LSN the log keeps after the cut; the cut removes LSNs from lastGoodLsn + 1 on. */
  lastGoodLsn: number
  /** The first CRC-valid frame after the bad stretch starts here: the stretch is [cutOffsetBytes, damagedEndBytes). */
  damagedEndBytes: number
  /** The zero-filled run inside the bad stretch (it holds at least one whole page-aligned page): [from, to). */
  zeroFromBytes: number
  zeroToBytes: number
  beyond: FramesBeyond
  /** Bytes a cut removes: from the cut to the end of the segment (preallocated zeros included). */
  discardedBytes: number
  /** Why the log's open refused it (the WalCorruptionError's message). */
  refusal: string
  /** The chain head at lastGoodLsn, as the log verified up to the cut (hex). */
  chainHeadAfterCut: string
}

export type TailDiagnosis =
  | { kind: 'opens'; firstLsn: number; lastLsn: number; chainHead: string; tornTail: RecoveryReport['tornTail']; preallocatedBytes: number }
  | { kind: 'hole'; hole: TailHole }

/**
 * Opens `logDir` read-only with every frame checked. A log that opens is `opens` (with the torn tail or preallocated
 * zeros an open would trim); a hole in the last segment's tail is `hole`; any other damage throws WalRepairError.
 */
export function diagnoseTail(logDir: string, options: { io?: WalIo } = {}): TailDiagnosis {
  const io = options.io ?? nodeIo
  let refusal: WalCorruptionError
  try {
    const log = openReadOnly(logDir, { io, verifyChain: true })
    const { tornTail, preallocatedBytes } = log.report
    return { kind: 'opens', firstLsn: log.firstLsn, lastLsn: log.lastLsn, chainHead: toHex(log.chainHead), tornTail, preallocatedBytes }
  } catch (error) {
    if (!(error instanceof WalCorruptionError)) throw error
    refusal = error
  }
  return { kind: 'hole', hole: holeOf(logDir, refusal, io) }
}

function holeOf(logDir: string, refusal: WalCorruptionError, io: WalIo): TailHole {
  const last = lastSegmentName(logDir, io)
  const file = last === null ? null : join(logDir, last)
  if (refusal.code !== 'FRAME_CORRUPT') {
    throw new WalRepairError('NOT_A_TORN_TAIL', `${refusal.message} — not a hole in the log's tail; this needs a human, not a cut`)
  }
  if (last === null || refusal.location.file !== file) {
    throw new WalRepairError('NOT_IN_LAST_SEGMENT', `${refusal.message} — a sealed segment was never unsynced, so this is damage, not a lost write; this needs a human, not a cut`)
  }
  const bytes = readWhole(io, file)
  const cut = refusal.location.offsetBytes
  const search: FrameSearch = { afterLsn: refusal.location.lsn - 1, budget: new FrameSearchBudget(bytes.byteLength - cut) }
  const next = findValidFrameAfter(bytes.subarray(cut), 1, search)
  if (next === SEARCH_GAVE_UP) throw gaveUp(refusal, search)
  if (next === null) throw new WalRepairError('NOT_A_TORN_TAIL', `${refusal.message} — but no valid frame follows any more (did the file change?)`)
  const damagedEndBytes = cut + next.offsetBytes
  const zero = zeroRunHoldingPage(bytes, cut, damagedEndBytes)
  if (zero === null) {
    throw new WalRepairError('NO_ZERO_PAGE', `${refusal.message} — the bad bytes ${cut}..${damagedEndBytes} hold no zero-filled ${HOLE_PAGE_BYTES}-byte page: a bit flip or an edit, not a lost write; this needs a human, not a cut`)
  }
  const appendStart = appendStartBefore(logDir, file, cut, io)
  const lastGoodLsn = appendStart === null ? refusal.location.lsn - 1 : appendStart.lsn - 1
  const cutBytes = appendStart === null ? cut : appendStart.offsetBytes
  const afterCut = openCutAt(logDir, file, cutBytes, io)
  if (afterCut.lastLsn !== lastGoodLsn || afterCut.report.tornTail !== null) {
    throw new WalRepairError('NOT_A_TORN_TAIL', `cut at offset ${cutBytes} of ${file}, the log would end at LSN ${afterCut.lastLsn}, not ${lastGoodLsn}`)
  }
  return {
    file,
    segment: last,
    segmentBytes: bytes.byteLength,
    cutOffsetBytes: cutBytes,
    lastGoodLsn,
    damagedEndBytes,
    zeroFromBytes: zero.fromBytes,
    zeroToBytes: zero.toBytes,
    beyond: framesFrom(bytes, { cut, from: damagedEndBytes, search, refusal }),
    discardedBytes: bytes.byteLength - cutBytes,
    refusal: refusal.message,
    chainHeadAfterCut: toHex(afterCut.chainHead),
  }
}

function lastSegmentName(logDir: string, io: WalIo): string | null {
  const firstLsns = io.readdir(logDir).map(parseSegmentName).filter((lsn): lsn is number => lsn !== null)
  return firstLsns.length === 0 ? null : segmentName(Math.max(...firstLsns))
}

export function readWhole(io: WalIo, path: string): Uint8Array {
  const fd = io.openRead(path)
  try {
    return readFully(io, fd, 0, io.sizeBytes(fd))
  } finally {
    io.close(fd)
  }
}

/**
 * The maximal run of zero bytes in [from, to) around the first page-aligned all-zero page there, or null if there is
 * none (file offsets equal buffer offsets: the whole segment was read from offset 0).
 */
function zeroRunHoldingPage(bytes: Uint8Array, from: number, to: number): { fromBytes: number; toBytes: number } | null {
  for (let page = Math.ceil(from / HOLE_PAGE_BYTES) * HOLE_PAGE_BYTES; page + HOLE_PAGE_BYTES <= to; page += HOLE_PAGE_BYTES) {
    if (!zeroBetween(bytes, page, page + HOLE_PAGE_BYTES)) continue
    let start = page
    while (start > from && bytes[start - 1] === 0) start--
    let end = page + HOLE_PAGE_BYTES
    while (end < to && bytes[end] === 0) end++
    return { fromBytes: start, toBytes: end }
  }
  return null
}

function zeroBetween(bytes: Uint8Array, from: number, to: number): boolean {
  for (let index = from; index < to; index++) if (bytes[index] !== 0) return false
  return true
}

function gaveUp(refusal: WalCorruptionError, search: FrameSearch): WalRepairError {
  return new WalRepairError('NOT_A_TORN_TAIL', `${refusal.message} — the search for the valid frames after it gave up after ${search.budget.describe()} (crafted bytes?); this needs a human, not a cut`)
}

/**
 * Every CRC-valid frame from `from` (where one starts) to the end, skipping damaged stretches between them (searched
 * from the bad frame at `cut`, frame-search.ts: a search that gives up leaves the count unknown, so nothing is cut).
 */
function framesFrom(bytes: Uint8Array, at: { cut: number; from: number; search: FrameSearch; refusal: WalCorruptionError }): FramesBeyond {
  const { cut, from, search, refusal } = at
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const beyond: FramesBeyond = { frameCount: 0, firstLsn: Number.MAX_SAFE_INTEGER, lastLsn: 0 }
  let offset = from
  while (offset < bytes.byteLength) {
    const frameBytes = frameBytesAt(view, offset, bytes.byteLength)
    if (frameBytes > 0 && crcHolds(view, offset, frameBody(bytes, offset, frameBytes))) {
      const lsn = lsnAt(view, offset)
      beyond.frameCount++
      beyond.firstLsn = Math.min(beyond.firstLsn, lsn)
      beyond.lastLsn = Math.max(beyond.lastLsn, lsn)
      offset += frameBytes
      continue
    }
    const later = findValidFrameAfter(bytes.subarray(cut), offset - cut + 1, search)
    if (later === SEARCH_GAVE_UP) throw gaveUp(refusal, search)
    if (later === null) break
    offset = cut + later.offsetBytes
  }
  return beyond
}

/**
 * The log opened read-only as it would be after a cut of `file` at `cutBytes`: the files are read as they are, but
 * that segment's size is taken as `cutBytes`, so the open scans and verifies exactly what a cut keeps.
 */
/**
 * Where the append holding the last whole frame before `cutBytes` began, when that frame is not its append's last
 * (frame.ts): a cut at `cutBytes` would leave the append's first frames, which an open then cuts too. Null when the cut
 * falls between appends.
 */
function appendStartBefore(logDir: string, file: string, cutBytes: number, io: WalIo): { offsetBytes: number; lsn: number } | null {
  const torn = openCutAt(logDir, file, cutBytes, io).report.tornTail
  return torn !== null && torn.file === file && torn.reason === APPEND_INCOMPLETE ? { offsetBytes: torn.offsetBytes, lsn: torn.lsn } : null
}

export function openCutAt(logDir: string, file: string, cutBytes: number, io: WalIo): ReadOnlyLog {
  const paths = new Map<number, string>()
  const cutIo: WalIo = {
    ...io,
    openRead: (path) => {
      const fd = io.openRead(path)
      paths.set(fd, path)
      return fd
    },
    close: (fd) => {
      paths.delete(fd)
      io.close(fd)
    },
    sizeBytes: (fd) => (paths.get(fd) === file ? Math.min(cutBytes, io.sizeBytes(fd)) : io.sizeBytes(fd)),
  }
  return openReadOnly(logDir, { io: cutIo, verifyChain: true })
}
