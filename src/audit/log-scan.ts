/**
 * The independent reader: walks a log directory's segment files read-only, checks every segment header, every
 * frame's CRC, dense LSNs, non-decreasing epochs, and re-derives the whole hash chain with the @noble/hashes reference
 * implementation (never the writer's native hash). Stops at the first structural problem, because nothing after a
 * break in the chain can be trusted to be what was written.
 *
 * A torn tail is not a problem. In the last segment, a bad frame with no valid frame after it is an incomplete write.
 * A bad stretch followed by valid frames is also a tear when the stretch holds a whole zero-filled, page-aligned 4 KiB
 * page: that is what a copy taken while the gateway writes looks like (the copier read a page of the writer's
 * preallocated zeros just before the writer filled it, and later pages after). Both are reported with how much was
 * left unverified. Treating such a tail as the end of the log grants nothing an attacker could not get by truncating
 * the log, which only external anchors can reveal; an edit or bit flip never zeroes a whole page, so it stays
 * FRAME_CORRUPT.
 *
 * The log's writable open (wal/scan.ts) is stricter, on purpose: it cuts a hole followed by valid frames only when it
 * can be the batch in flight at a power cut (within one batch of the end, a lost sector explaining it:
 * wal/lost-write.ts), and refuses any other (FRAME_CORRUPT): frames past it may have been acknowledged. The audit checks
 * tamper evidence, not whether a gateway could start from the directory: a 'copy-race' tail is reported as such, and
 * says which of the two a gateway's open would do (`gatewayCuts`; to restore, copy a stopped gateway's directory).
 */

import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import {
  chainHashReference, defaultWalOptions, FrameSearchBudget, GENESIS_HASH, hashesEqual, lostWriteAt, SEARCH_GAVE_UP, toHex, WalSegmentUnreadableError,
  type FrameSearch,
} from '../../wal/index.ts'
import type { AuditProblem, AuditProblemCode } from './codes.ts'
import { allZero, frameDamage, holdsZeroPage, nextValidFrame } from './frame-damage.ts'
import {
  FRAME_APPEND_FLAG, FRAME_CONTENT_OFFSET, FRAME_HASH_OFFSET, FRAME_VERSION_BITS, FRAME_PAYLOAD_OFFSET, FRAME_PREFIX_BYTES, SEGMENT_HEADER_BYTES,
  SEGMENT_NAME_PATTERN, readSegmentHeader, readU64,
} from './layout.ts'

const PROGRESS_EVERY_FRAMES = 65_536

/** A frame passed to `onFrame`: one object reused for every frame, valid only during the callback. */
export interface ScannedFrame {
  lsn: number
  epoch: number
  type: number
  version: number
  /** Views into the segment buffer, valid during the callback. */
  payload: Uint8Array
  hash: Uint8Array
  file: string
  offsetBytes: number
  frameBytes: number
}

export interface TornTail {
  file: string
  offsetBytes: number
  /** The first LSN that is not in the verified log. */
  lsn: number
  bytes: number
  reason: string
  /**
   * 'torn-write': nothing valid after the tear. 'copy-race': valid frames after a zero page (a live copy).
   * 'append-incomplete': whole frames of an append whose last frame never reached the disk (wal/frame.ts), nothing
   * after them (a torn write or a copy race that also ends inside an append keeps its own kind, its reason says so).
   */
  kind: 'torn-write' | 'copy-race' | 'append-incomplete'
  /** CRC-valid frames found beyond the tear, not verified. */
  framesBeyond: number
  /** false: the count stopped when the search's CRC budget ran out (wal/frame-search.ts); framesBeyond is a lower bound. */
  framesBeyondComplete: boolean
  /**
   * A 'copy-race' a gateway's open would cut on its own, as a power cut's lost write of the batch in flight
   * (wal/lost-write.ts: within one batch of the end, a lost sector explaining it); false: it refuses to start
   * (FRAME_CORRUPT). Always true for a 'torn-write', which every open cuts.
   */
  gatewayCuts: boolean
}

export interface LogScanProgress {
  bytesDone: number
  bytesTotal: number
  records: number
  lsn: number
}

export interface LogScanHooks {
  /** Called for every frame that passed every structural check, in LSN order. */
  onFrame?: (frame: ScannedFrame) => void
  /**
   * Called once, before the first frame, with the chain base the scan starts from: LSN 0 and genesis for a log from its
   * start, else the LSN before the first segment's and the head its header carries (a compacted log's base, taken on
   * the header's word: whoever checks it against a signed head does so here).
   */
  onBase?: (lsn: number, head: Uint8Array) => void
  /** Awaited after each segment (a place to settle asynchronous checks, such as seal signatures). */
  afterSegment?: () => Promise<void>
  onProgress?: (progress: LogScanProgress) => void
  /**
   * The segments to scan, of those listed (in LSN order): a run of them, whose first is read from its header's chain
   * base as a compacted log's is. Default: all. The forensics bundle's seals read only those near the problem.
   */
  selectSegments?: (listed: readonly { name: string; firstLsn: number }[]) => { name: string; firstLsn: number }[]
}

export interface LogScanResult {
  segments: number
  records: number
  /** Bytes of valid frames and headers. */
  bytes: number
  firstLsn: number
  lastLsn: number
  /** The chain head at lastLsn, as the reference implementation computes it. */
  chainHead: Uint8Array
  tornTail: TornTail | null
  preallocatedBytes: number
  problem: AuditProblem | null
}

interface Cursor {
  lastLsn: number
  head: Uint8Array
  lastEpoch: number
  /** The append the last frame left open (its append flag set), or null. */
  open: OpenAppend | null
}

/** Where an append still open began, and what the scan counted of it (taken back if the log ends inside it). */
interface OpenAppend {
  file: string
  offsetBytes: number
  lsn: number
  head: Uint8Array
  lastEpoch: number
  records: number
  bytes: number
}

export function listSegments(dir: string): { name: string; firstLsn: number }[] {
  return readdirSync(dir)
    .map((name) => ({ name, match: SEGMENT_NAME_PATTERN.exec(name) }))
    .filter((entry): entry is { name: string; match: RegExpExecArray } => entry.match !== null)
    .map(({ name, match }) => ({ name, firstLsn: Number(match[1]) }))
    .sort((a, b) => a.firstLsn - b.firstLsn)
}

export async function scanLogIndependently(dir: string, hooks: LogScanHooks = {}): Promise<LogScanResult> {
  const listed = listSegments(dir)
  const segments = hooks.selectSegments === undefined ? listed : hooks.selectSegments(listed)
  const result: LogScanResult = {
    segments: segments.length, records: 0, bytes: 0, firstLsn: 0, lastLsn: 0, chainHead: GENESIS_HASH.slice(),
    tornTail: null, preallocatedBytes: 0, problem: null,
  }
  if (segments.length === 0) {
    result.problem = { code: 'LOG_MISSING', file: dir, offsetBytes: 0, lsn: 0, detail: 'no segment files (NNNN….seg) in this directory' }
    return result
  }
  const progress: LogScanProgress = { bytesDone: 0, bytesTotal: 0, records: 0, lsn: 0 }
  for (const segment of segments) progress.bytesTotal += segmentSizeBytes(join(dir, segment.name))
  let cursor: Cursor | null = null
  for (let index = 0; index < segments.length && result.problem === null; index++) {
    const segment = segments[index] as { name: string; firstLsn: number }
    const file = join(dir, segment.name)
    const bytes = readSegment(file)
    const started = startSegment(bytes, file, segment.firstLsn, cursor)
    if ('code' in started) {
      result.problem = started
      break
    }
    cursor = started
    if (index === 0) {
      result.firstLsn = segment.firstLsn
      hooks.onBase?.(cursor.lastLsn, cursor.head)
    }
    result.bytes += SEGMENT_HEADER_BYTES
    const isLast = index === segments.length - 1
    const frame: ScannedFrame = { lsn: 0, epoch: 0, type: 0, version: 0, payload: bytes, hash: bytes, file, offsetBytes: 0, frameBytes: 0 }
    scanFrames(bytes, { frame, file, cursor, isLast, result, hooks, progress })
    if (isLast && result.problem === null && cursor.open !== null) endInsideAppend(cursor, cursor.open, { file, sizeBytes: bytes.byteLength, result })
    progress.bytesDone += bytes.byteLength
    hooks.onProgress?.(progress)
    await hooks.afterSegment?.()
  }
  if (cursor !== null) {
    result.lastLsn = cursor.lastLsn
    result.chainHead = cursor.head.slice()
  }
  return result
}

/**
 * A segment file whole, or WalSegmentUnreadableError naming it (what the log's own open throws): node's message for a
 * failed read names no file (`EISDIR: illegal operation on a directory, read` for a directory under a segment's name).
 */
function readSegment(file: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(file))
  } catch (error) {
    throw new WalSegmentUnreadableError(file, error)
  }
}

function segmentSizeBytes(file: string): number {
  try {
    return statSync(file).size
  } catch (error) {
    throw new WalSegmentUnreadableError(file, error)
  }
}

/** Checks a segment header against the name and the chain so far; returns the cursor to scan it with. */
function startSegment(bytes: Uint8Array, file: string, nameLsn: number, previous: Cursor | null): Cursor | AuditProblem {
  const at = (code: AuditProblemCode, detail: string): AuditProblem => ({ code, file, offsetBytes: 0, lsn: nameLsn, detail })
  const header = readSegmentHeader(bytes)
  if (typeof header === 'string') return at('SEGMENT_HEADER_CORRUPT', header)
  if (header.firstLsn !== nameLsn) return at('SEGMENT_HEADER_CORRUPT', `header says first LSN ${header.firstLsn}, the name says ${nameLsn}`)
  if (previous === null) {
    // A log that starts at LSN 1 starts from genesis; after compaction the first header carries the chain base.
    if (nameLsn === 1 && !hashesEqual(header.previousHash, GENESIS_HASH)) {
      return at('CHAIN_BREAK', `the first segment starts at LSN 1 but chains from ${toHex(header.previousHash)}, not genesis`)
    }
    return { lastLsn: nameLsn - 1, head: header.previousHash.slice(), lastEpoch: 0, open: null }
  }
  if (nameLsn !== previous.lastLsn + 1) {
    return at('SEGMENT_MISSING', `the previous segment ends at LSN ${previous.lastLsn}; LSNs ${previous.lastLsn + 1}..${nameLsn - 1} are missing`)
  }
  if (!hashesEqual(header.previousHash, previous.head)) {
    return at('CHAIN_BREAK', `the header chains from ${toHex(header.previousHash)}, the log's head is ${toHex(previous.head)}`)
  }
  return previous
}

interface FrameScan {
  frame: ScannedFrame
  file: string
  cursor: Cursor
  isLast: boolean
  result: LogScanResult
  hooks: LogScanHooks
  progress: LogScanProgress
}

function scanFrames(bytes: Uint8Array, scan: FrameScan): void {
  const { file, cursor, result, hooks, progress } = scan
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let offset = SEGMENT_HEADER_BYTES
  while (offset < bytes.byteLength) {
    const badReason = frameDamage(bytes, view, offset)
    if (badReason !== null) {
      classifyDamage(bytes, offset, badReason, scan)
      return
    }
    const end = offset + view.getUint32(offset, true) + FRAME_PREFIX_BYTES
    const lsn = readU64(view, offset + 40)
    const epoch = view.getUint32(offset + 48, true)
    const at = (code: AuditProblemCode, detail: string, where = lsn): void => {
      result.problem = { code, file, offsetBytes: offset, lsn: where, detail }
    }
    if (lsn !== cursor.lastLsn + 1) return at('LSN_GAP', `expected LSN ${cursor.lastLsn + 1}, found a valid frame with LSN ${lsn}`, cursor.lastLsn + 1)
    if (epoch < cursor.lastEpoch) return at('EPOCH_REGRESSION', `frame epoch ${epoch} is lower than epoch ${cursor.lastEpoch} earlier in the log`)
    const stored = bytes.subarray(offset + FRAME_HASH_OFFSET, offset + FRAME_CONTENT_OFFSET)
    const computed = chainHashReference(cursor.head, bytes.subarray(offset + FRAME_CONTENT_OFFSET, end))
    if (!hashesEqual(computed, stored)) {
      return at('CHAIN_BREAK', `the stored hash ${toHex(stored)} does not follow from the previous head (recomputed ${toHex(computed)}): content edited after writing`)
    }
    const continues = (view.getUint16(offset + 54, true) & FRAME_APPEND_FLAG) !== 0
    if (continues && cursor.open === null) {
      cursor.open = { file, offsetBytes: offset, lsn, head: cursor.head, lastEpoch: cursor.lastEpoch, records: 0, bytes: 0 }
    }
    if (cursor.open !== null) {
      cursor.open.records++
      cursor.open.bytes += end - offset
      if (!continues) cursor.open = null
    }
    cursor.lastLsn = lsn
    cursor.head = computed
    cursor.lastEpoch = epoch
    result.records++
    result.bytes += end - offset
    if (hooks.onFrame !== undefined) {
      // One object reused for every frame (documented as valid only during the callback): no garbage per frame.
      const frame = scan.frame
      frame.lsn = lsn
      frame.epoch = epoch
      frame.type = view.getUint16(offset + 52, true)
      frame.version = view.getUint16(offset + 54, true) & FRAME_VERSION_BITS
      frame.payload = bytes.subarray(offset + FRAME_PAYLOAD_OFFSET, end)
      frame.hash = stored
      frame.offsetBytes = offset
      frame.frameBytes = end - offset
      hooks.onFrame(frame)
    }
    if (result.records % PROGRESS_EVERY_FRAMES === 0 && hooks.onProgress !== undefined) {
      hooks.onProgress({ ...progress, bytesDone: progress.bytesDone + end, records: result.records, lsn })
    }
    progress.records = result.records
    progress.lsn = lsn
    offset = end
  }
}

function classifyDamage(bytes: Uint8Array, offset: number, reason: string, scan: FrameScan): void {
  const { file, cursor, result } = scan
  const lsn = cursor.lastLsn + 1
  const search: FrameSearch = { afterLsn: cursor.lastLsn, budget: new FrameSearchBudget(bytes.byteLength - offset) }
  const next = nextValidFrame(bytes, offset, offset + 1, search)
  const located = { file, offsetBytes: offset, lsn }
  if (next === SEARCH_GAVE_UP) {
    const detail = `the frame fails its ${reason} check and the search for a valid frame after it gave up after ${search.budget.describe()} (crafted bytes?): not judged a torn tail`
    result.problem = { ...located, code: 'FRAME_CORRUPT', detail }
    return
  }
  if (!scan.isLast) {
    result.problem = next === null
      ? { ...located, code: 'SEGMENT_TRAILING_BYTES', detail: `a sealed (not last) segment ends with ${bytes.byteLength - offset} bytes that are not a frame (${reason})` }
      : { ...located, code: 'FRAME_CORRUPT', detail: `the frame fails its ${reason} check and a valid frame follows at offset ${next}` }
    return
  }
  if (allZero(bytes, offset, bytes.byteLength)) {
    result.preallocatedBytes = bytes.byteLength - offset
    return
  }
  if (next !== null && !holdsZeroPage(bytes, offset, next)) {
    result.problem = { ...located, code: 'FRAME_CORRUPT', detail: `the frame fails its ${reason} check and a valid frame follows at offset ${next}` }
    return
  }
  let framesBeyond = 0
  let at: number | null | typeof SEARCH_GAVE_UP = next
  for (; typeof at === 'number'; at = nextValidFrame(bytes, offset, at + 1, search)) framesBeyond++
  const position = { lastLsn: cursor.lastLsn, lastHash: cursor.head, lastEpoch: cursor.lastEpoch }
  // A budget of its own, as the gateway's open has (its search spends nothing on counting).
  const gatewayCuts = next === null || lostWriteAt(bytes.subarray(offset), offset, { position, windowBytes: defaultWalOptions.batchBytesMax, firstFrameAt: next - offset }) !== null
  result.tornTail = {
    ...located, bytes: bytes.byteLength - offset, reason, kind: next === null ? 'torn-write' : 'copy-race', framesBeyond, framesBeyondComplete: at !== SEARCH_GAVE_UP, gatewayCuts,
  }
}

/**
 * The last segment (`file`, `sizeBytes` long) ends inside an append: its last valid frame has the append flag, so the
 * rest of its append never reached the disk (wal/frame.ts). A gateway's open cuts the append's frames with the tail,
 * so they are taken back here — the verified log ends before them — and reported as (part of) the torn tail. They were
 * handed to `onFrame` already. An append begun in an earlier segment is APPEND_SPLIT, which the open refuses too.
 */
function endInsideAppend(cursor: Cursor, open: OpenAppend, last: { file: string; sizeBytes: number; result: LogScanResult }): void {
  const { file, sizeBytes, result } = last
  if (open.file !== file) {
    result.problem = { code: 'APPEND_SPLIT', file, offsetBytes: 0, lsn: cursor.lastLsn + 1, detail: `the log ends at LSN ${cursor.lastLsn} inside an append begun in ${open.file}; a writer rolls only between appends` }
    return
  }
  cursor.lastLsn = open.lsn - 1
  cursor.head = open.head
  cursor.lastEpoch = open.lastEpoch
  cursor.open = null
  result.records -= open.records
  result.bytes -= open.bytes
  result.preallocatedBytes = 0
  const torn = result.tornTail
  result.tornTail = torn === null
    ? {
      file, offsetBytes: open.offsetBytes, lsn: open.lsn, bytes: sizeBytes - open.offsetBytes, reason: APPEND_INCOMPLETE_REASON, kind: 'append-incomplete', framesBeyond: 0,
      framesBeyondComplete: true, gatewayCuts: true,
    }
    : { ...torn, offsetBytes: open.offsetBytes, lsn: open.lsn, bytes: sizeBytes - open.offsetBytes, reason: `${torn.reason}, ${APPEND_INCOMPLETE_REASON}` }
}

/** The reason given for a tail that is (or holds) an append whose last frame never reached the disk (as recover.ts). */
const APPEND_INCOMPLETE_REASON = 'its append incomplete'
