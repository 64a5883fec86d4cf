/**
 * A log's prefix as a log of its own: a new directory holding exactly the frames of a source log up to and including
 * `throughLsn`. For a standby whose log forked from its leader's after that LSN (src/runtime/ha/diverged-prefix.ts):
 * it keeps what it shares with the leader on disk instead of fetching all of it again over the network.
 *
 * - Sealed segments wholly at or below throughLsn are hard-linked, both directories sharing their inodes. That is
 *   safe because nothing ever writes into a sealed segment: the writer appends only to the last segment and trims it
 *   to its last frame before the roll that seals it (segment-writer.ts); recovery truncates a torn tail or trims
 *   preallocated zeros in the last segment only (recover.ts, scan.ts: anything else wrong in a sealed one refuses to
 *   open); compaction unlinks whole files or renames them into an archive (compaction.ts). No segment linked here is
 *   the last of either log: in the new log the copy below comes after them, in the source the segment holding
 *   throughLsn does. Removing a name in one directory leaves the other's. Where the filesystem refuses the link
 *   (another device, no hard links) the segment is copied instead.
 * - The segment holding throughLsn is copied, never linked, and cut at the end of throughLsn's frame: the new log
 *   appends to it (and a writable open may trim it), which on a shared inode would change the source's file — the
 *   frames after throughLsn, kept as evidence, would be overwritten.
 * - Pair checks around the copy: the source segment is scanned as recovery scans it (CRC, dense LSNs, epochs, the
 *   chain from its header) to find where throughLsn's frame ends, and the copy is scanned again after it is written
 *   and synced; it must end exactly at throughLsn with the same chain hash. Every linked segment's header is checked
 *   (magic, CRC, the first LSN its name says).
 * - Every file is fsynced, then the directory. The caller renames the directory into place (it is built beside it).
 *
 * A log directory holds nothing else a prefix needs: `LOCK` is created by whoever opens the new log (dir-lock.ts), the
 * lease lives in its own directory (lease.ts), a compacted log's anchor is its first segment's header (linked as is),
 * and temp files (a roll that crashed) are left out. The new log's last epoch is that of frame throughLsn.
 */

import { join } from 'node:path'
import { toHex } from './chain.ts'
import { WalPrefixError } from './errors.ts'
import { nodeIo, type WalIo } from './io.ts'
import { ReadBuffer } from './read-buffer.ts'
import { readHeader } from './recover.ts'
import { initialPosition, scanSegment } from './scan.ts'
import { SEGMENT_HEADER_BYTES, parseSegmentName, segmentName, type SegmentHeader } from './segment.ts'

export interface LogPrefixReport {
  throughLsn: number
  /** The chain hash at throughLsn (hex): the new log's head. */
  chainHead: string
  /** The epoch of frame throughLsn: the new log's last epoch. */
  lastEpoch: number
  /** The new log's first LSN (above 1 for a compacted source). */
  firstLsn: number
  /** Segment files hard-linked from the source, in LSN order, and their bytes. */
  linkedSegments: string[]
  linkedBytes: number
  /** Segment files copied: the one holding throughLsn (cut there, last), after any sealed one that could not be linked. */
  copiedSegments: string[]
  copiedBytes: number
}

export interface LogPrefixOptions {
  /** The file-system calls (specs inject failures); default node:fs. */
  io: WalIo
}

/** Errors of `link` that mean "this filesystem cannot share the file here": the segment is copied instead. */
const LINK_REFUSED = new Set(['EXDEV', 'EPERM', 'EMLINK', 'ENOTSUP', 'EOPNOTSUPP'])
const COPY_CHUNK_BYTES = 4 * 1024 * 1024

/**
 * Builds in `targetDir` (absent or empty) a log holding `sourceDir`'s frames up to and including `throughLsn`, see the
 * file comment. `sourceDir` must not be open for writing meanwhile. Throws WalPrefixError when the source does not
 * hold throughLsn or the target is not empty, WalCorruptionError when the source or the copy fails a check, and the
 * file system's error when a call fails; the source is never changed, whatever is left in `targetDir` is the caller's
 * to remove.
 */
export function copyLogPrefix(sourceDir: string, targetDir: string, throughLsn: number, options: Partial<LogPrefixOptions> = {}): LogPrefixReport {
  const io = options.io ?? nodeIo
  const firstLsns = io
    .readdir(sourceDir)
    .map((name) => parseSegmentName(name))
    .filter((lsn): lsn is number => lsn !== null)
    .sort((a, b) => a - b)
  const holderIndex = firstLsns.findLastIndex((firstLsn) => firstLsn <= throughLsn)
  const holderFirstLsn = firstLsns[holderIndex]
  if (!Number.isSafeInteger(throughLsn) || throughLsn < 1 || holderFirstLsn === undefined) {
    throw new WalPrefixError('PREFIX_NOT_HELD', `${sourceDir} holds no LSN ${throughLsn} (its segments start at ${firstLsns[0] ?? 'none'})`)
  }
  io.mkdirp(targetDir)
  if (io.readdir(targetDir).length > 0) throw new WalPrefixError('TARGET_NOT_EMPTY', `${targetDir} is not empty; a prefix is built only in an empty directory`)
  const report: LogPrefixReport = {
    throughLsn, chainHead: '', lastEpoch: 0, firstLsn: firstLsns[0] as number, linkedSegments: [], linkedBytes: 0, copiedSegments: [], copiedBytes: 0,
  }
  for (const firstLsn of firstLsns.slice(0, holderIndex)) {
    const name = segmentName(firstLsn)
    const sizeBytes = withFile(io, join(sourceDir, name), (fd) => {
      readHeader(io, fd, join(sourceDir, name), firstLsn)
      return io.sizeBytes(fd)
    })
    if (linkOrCopyFile(io, join(sourceDir, name), join(targetDir, name)) === 'linked') {
      report.linkedSegments.push(name)
      report.linkedBytes += sizeBytes
    } else {
      report.copiedSegments.push(name)
      report.copiedBytes += sizeBytes
    }
    withFile(io, join(targetDir, name), (fd) => io.fsync(fd))
  }
  const cut = copyCutSegment(io, { sourceDir, targetDir, firstLsn: holderFirstLsn, throughLsn, isLast: holderIndex === firstLsns.length - 1 })
  report.copiedSegments.push(segmentName(holderFirstLsn))
  report.copiedBytes += cut.bytes
  report.chainHead = cut.chainHead
  report.lastEpoch = cut.lastEpoch
  io.fsyncDirectory(targetDir)
  return report
}

/**
 * Hard-links `from` as `to`, or copies it (fsynced) where the filesystem refuses the link. Only for files never written
 * again once complete (sealed segments, snapshot files). Returns which it did.
 */
export function linkOrCopyFile(io: WalIo, from: string, to: string): 'linked' | 'copied' {
  try {
    io.link(from, to)
    return 'linked'
  } catch (error) {
    if (!LINK_REFUSED.has(String((error as NodeJS.ErrnoException).code))) throw error
  }
  const sizeBytes = withFile(io, from, (fd) => io.sizeBytes(fd))
  copyBytes(io, from, to, sizeBytes)
  return 'copied'
}

interface CutSegment {
  sourceDir: string
  targetDir: string
  firstLsn: number
  throughLsn: number
  /** Is it the source's last segment (where a torn tail after the frames is no damage)? */
  isLast: boolean
}

/** Copies the segment holding throughLsn up to the end of its frame, checking the source before and the copy after. */
function copyCutSegment(io: WalIo, cut: CutSegment): { bytes: number; chainHead: string; lastEpoch: number } {
  const name = segmentName(cut.firstLsn)
  const source = join(cut.sourceDir, name)
  const target = join(cut.targetDir, name)
  const found: { end: { endBytes: number; hash: string; epoch: number } | null } = { end: null }
  const scanned = withFile(io, source, (fd) => {
    const header = readHeader(io, fd, source, cut.firstLsn)
    const position = initialPosition(cut.firstLsn, header.previousHash)
    scanSegment({ io, fd, sizeBytes: io.sizeBytes(fd), buffer: new ReadBuffer() }, {
      file: source, startOffsetBytes: SEGMENT_HEADER_BYTES, position, verifyChain: true, isLast: cut.isLast,
      observe: (frame, offsetBytes) => {
        if (frame.lsn === cut.throughLsn) found.end = { endBytes: offsetBytes + frame.frameBytes, hash: toHex(frame.hash), epoch: frame.epoch }
      },
    })
    return { header, lastLsn: position.lastLsn }
  })
  const end = found.end
  if (end === null) throw new WalPrefixError('PREFIX_NOT_HELD', `${source} ends at LSN ${scanned.lastLsn}, before LSN ${cut.throughLsn}`)
  copyBytes(io, source, target, end.endBytes)
  checkCopy(io, target, { ...cut, header: scanned.header, endBytes: end.endBytes, chainHead: end.hash })
  return { bytes: end.endBytes, chainHead: end.hash, lastEpoch: end.epoch }
}

/** The copy read back: whole frames only, the chain from its header, ending at throughLsn with the source's hash. */
function checkCopy(io: WalIo, target: string, expected: CutSegment & { header: SegmentHeader; endBytes: number; chainHead: string }): void {
  withFile(io, target, (fd) => {
    const sizeBytes = io.sizeBytes(fd)
    const header = readHeader(io, fd, target, expected.firstLsn)
    const position = initialPosition(expected.firstLsn, header.previousHash)
    // isLast false: a sealed segment's rules, so any byte after the last whole frame is refused.
    scanSegment({ io, fd, sizeBytes, buffer: new ReadBuffer() }, { file: target, startOffsetBytes: SEGMENT_HEADER_BYTES, position, verifyChain: true, isLast: false })
    const problem =
      sizeBytes !== expected.endBytes ? `is ${sizeBytes} bytes, expected ${expected.endBytes}`
      : toHex(header.previousHash) !== toHex(expected.header.previousHash) ? 'has another header than its source'
      : position.lastLsn !== expected.throughLsn ? `ends at LSN ${position.lastLsn}, expected ${expected.throughLsn}`
      : toHex(position.lastHash) !== expected.chainHead ? `ends with chain hash ${toHex(position.lastHash)}, the source has ${expected.chainHead}`
      : null
    if (problem !== null) throw new WalPrefixError('COPY_MISMATCH', `the copy ${target} ${problem}`)
  })
}

/** Writes the first `lengthBytes` of `from` into a new file `to`, in bounded chunks, and fsyncs it. */
function copyBytes(io: WalIo, from: string, to: string, lengthBytes: number): void {
  const buffer = new ReadBuffer()
  withFile(io, from, (fdFrom) => {
    const fdTo = io.openAppend(to)
    try {
      io.truncate(fdTo, 0)
      for (let position = 0; position < lengthBytes; ) {
        const chunk = buffer.fill(io, fdFrom, position, Math.min(COPY_CHUNK_BYTES, lengthBytes - position))
        if (chunk.byteLength === 0) throw new Error(`${from} ended at byte ${position} while copying ${lengthBytes} bytes`)
        io.write(fdTo, chunk, position)
        position += chunk.byteLength
      }
      io.fsync(fdTo)
    } finally {
      io.close(fdTo)
    }
  })
}

function withFile<T>(io: WalIo, path: string, use: (fd: number) => T): T {
  const fd = io.openRead(path)
  try {
    return use(fd)
  } finally {
    io.close(fd)
  }
}
