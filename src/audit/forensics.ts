/**
 * The forensics bundle written when tampering is detected: a new 0700 directory of 0600 files holding the raw bytes
 * of the log around the problem (whole frames before it, the damaged region after), the segment header, the seals
 * found, the config digest (and the config, secrets already hashed), a listing of the log directory, and a
 * manifest.json with the SHA-256 of every file, so the bundle can itself be checked after it is copied away.
 */

import { closeSync, fstatSync, mkdirSync, openSync, readdirSync, statSync } from 'node:fs'
import { basename, join, resolve } from 'node:path'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import type { AuditProblem } from './codes.ts'
import { makeDirDurable, nodeIo } from '../../wal/index.ts'
import { fsyncDirectory, makePrivateDir, PRIVATE_DIR_MODE, writePrivateFile } from './files.ts'
import { firstFrameIn, readAt, sealsInWindow, sealsWindowOf } from './forensics-window.ts'
import { SEGMENT_HEADER_BYTES, SEGMENT_NAME_PATTERN } from './layout.ts'
import { listSegments, scanLogIndependently } from './log-scan.ts'
import { isAuditRecordType } from './records.ts'
import { HeadHistory } from './head-history.ts'
import { SealChecker, type SealEntry } from './seal-check.ts'

/** Raw bytes kept on each side of the problem offset. */
export const FORENSICS_WINDOW_BYTES_DEFAULT = 1024 * 1024
export const FORENSICS_WINDOW_BYTES_MAX = 64 * 1024 * 1024
/**
 * Log bytes the bundle's seals are read from: the segments before the problem's, newest first, while within this (the
 * problem's own segment always). The seals come from audit's independent scan, which re-derives the chain with the
 * reference hash (~45 MB/s) on the event loop of a gateway that has just gone to CANCEL_ONLY or HALT: over the whole
 * log it held the loop for the whole scan (1.1 s per 200,000 records measured, a minute for ten million), while
 * cancels, /health and the lease renewal waited, and the finding record after it (review). As the live verification's
 * bound (LIVE_VERIFY_BYTES_MAX_DEFAULT); `egress audit verify` on a copy lists every seal.
 */
export const FORENSICS_SEALS_SCAN_BYTES_DEFAULT = 64 * 1024 * 1024

export interface ForensicsOptions {
  logDir: string
  problem: Pick<AuditProblem, 'code' | 'lsn' | 'file' | 'offsetBytes'> & { detail?: string }
  /** The bundle is created as a new directory inside this one. */
  outDir: string
  configDigest: string
  /** The effective config (with secrets already replaced by their hashes, as canonicalConfigJson does). */
  config?: unknown
  /**
   * Seals known to the caller; when absent they are collected from the log near the problem (up to the first
   * structural damage): from the segments that end at the problem's, within `sealsScanBytes`.
   */
  seals?: readonly SealEntry[]
  /** Default FORENSICS_SEALS_SCAN_BYTES_DEFAULT. */
  sealsScanBytes?: number
  windowBytes?: number
  nowMs: number
}

export interface ForensicsBundle {
  dir: string
  files: { name: string; bytes: number; sha256: string }[]
}

export const MANIFEST_FILE = 'manifest.json'

export async function writeForensicsBundle(options: ForensicsOptions): Promise<ForensicsBundle> {
  const windowBytes = Math.min(options.windowBytes ?? FORENSICS_WINDOW_BYTES_DEFAULT, FORENSICS_WINDOW_BYTES_MAX)
  const stamp = new Date(options.nowMs).toISOString().replace(/[:.]/g, '-')
  const dir = join(options.outDir, `forensics-${stamp}-lsn${options.problem.lsn}-${options.problem.code}`)
  // The default <dataDir>/forensics exists only once a bundle was written: created here (0700, durable in its parent).
  makeDirDurable(nodeIo, options.outDir, { mkdir: (path) => mkdirSync(path, { recursive: true, mode: PRIVATE_DIR_MODE }) })
  makePrivateDir(dir)
  const files: ForensicsBundle['files'] = []
  const put = (name: string, data: Uint8Array | string): void => {
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data
    writePrivateFile(join(dir, name), bytes)
    files.push({ name, bytes: bytes.byteLength, sha256: bytesToHex(sha256(bytes)) })
  }
  put('problem.json', json({ ...options.problem, logDir: options.logDir, detectedAtMs: options.nowMs }))
  for (const part of logSlice(options.problem.file, options.problem.offsetBytes, windowBytes)) put(part.name, part.bytes)
  put('log-listing.json', json(listing(options.logDir)))
  const near = { lsn: options.problem.lsn, bytesMax: options.sealsScanBytes ?? FORENSICS_SEALS_SCAN_BYTES_DEFAULT, file: options.problem.file, offsetBytes: options.problem.offsetBytes }
  put('seals.json', json(options.seals ?? (await collectSeals(options.logDir, near))))
  put('config.json', json({ configDigest: options.configDigest, config: options.config ?? null }))
  put(MANIFEST_FILE, json({ createdAtMs: options.nowMs, problem: options.problem, files }))
  fsyncDirectory(dir)
  fsyncDirectory(options.outDir)
  return { dir, files }
}

/**
 * The segment header plus [start, offset + window) of the problem file, where start is the first frame at or after
 * offset - window (found by its CRC in the bytes read: forensics-window.ts), or offset - window if none is.
 */
function logSlice(file: string, offsetBytes: number, windowBytes: number): { name: string; bytes: Uint8Array }[] {
  let fd: number
  try {
    fd = openSync(file, 'r')
  } catch {
    return [] // a missing segment: the listing and problem say what is known
  }
  try {
    // A finding about the log as a whole names its directory (LOG_MISSING, ANCHOR_*): no slice to take, and reading it
    // threw EISDIR, which lost the whole bundle (review).
    const stats = fstatSync(fd)
    if (!stats.isFile()) return []
    const size = stats.size
    const header = readAt(fd, 0, Math.min(SEGMENT_HEADER_BYTES, size))
    const isSegment = SEGMENT_NAME_PATTERN.test(basename(file))
    const floor = Math.max(isSegment ? SEGMENT_HEADER_BYTES : 0, offsetBytes - windowBytes)
    const end = Math.min(size, offsetBytes + windowBytes)
    const read = readAt(fd, floor, Math.max(0, end - floor))
    const skip = isSegment ? (firstFrameIn(read, 0, offsetBytes - floor + 1) ?? 0) : 0
    const name = `slice-${basename(file)}-${floor + skip}-${end}.bin`
    return [{ name: `segment-header-${basename(file)}.bin`, bytes: header }, { name, bytes: read.subarray(skip) }]
  } finally {
    closeSync(fd)
  }
}

function listing(logDir: string): { name: string; bytes: number; modifiedMs: number }[] {
  return readdirSync(logDir)
    .sort()
    .map((name) => {
      const stat = statSync(join(logDir, name))
      return { name, bytes: stat.size, modifiedMs: Math.trunc(stat.mtimeMs) }
    })
}

/**
 * Seals found in the log up to its first structural damage (signatures are not checked here). `near`: only in the
 * segments up to the one holding `lsn`, newest first within `bytesMax` (at least that one), the event loop let run
 * between segments; without it, the whole log.
 */
export async function collectSeals(logDir: string, near?: SealsNear): Promise<SealEntry[]> {
  const window = near === undefined ? null : ownSegmentWindow(logDir, near)
  if (window !== null) return sealsInWindow(window.file, window)
  const seals: SealEntry[] = []
  const heads = new HeadHistory(1)
  let checker: SealChecker | null = null
  await scanLogIndependently(logDir, {
    ...(near === undefined ? {} : { selectSegments: (listed) => segmentsNear(logDir, listed, near), afterSegment: () => new Promise<void>((resolve) => setImmediate(resolve)) }),
    onFrame: (frame) => {
      checker ??= new SealChecker({ keys: null, headsFromLsn: frame.lsn })
      if (!isAuditRecordType(frame.type)) return
      const before = checker.last
      checker.observe(frame, heads)
      if (checker.last !== null && checker.last !== before) seals.push(checker.last)
    },
  })
  return seals
}

/** Where the seals are read from: near the problem's LSN, within `bytesMax`; its file and offset when it names a segment. */
interface SealsNear {
  lsn: number
  bytesMax: number
  file?: string
  offsetBytes?: number
}

/**
 * The window of the segment holding `near.lsn` to read seals from, when that segment alone is larger than
 * `near.bytesMax` (forensics-window.ts); null when it is not (or cannot be read: the scan says why).
 */
function ownSegmentWindow(logDir: string, near: SealsNear): { file: string; start: number; end: number } | null {
  const listed = listSegments(logDir)
  const own = listed[ownSegmentIndex(listed, near.lsn)]
  if (own === undefined) return null
  const file = join(logDir, own.name)
  const offsetBytes = near.file !== undefined && near.offsetBytes !== undefined && resolve(near.file) === resolve(file) ? near.offsetBytes : null
  try {
    const window = sealsWindowOf(file, offsetBytes, near.bytesMax)
    return window === null ? null : { file, ...window }
  } catch {
    return null
  }
}

/** The index of the segment holding `lsn` (the last, past the log's end); -1 when there are none. */
function ownSegmentIndex(listed: readonly { firstLsn: number }[], lsn: number): number {
  const index = listed.findLastIndex((segment) => segment.firstLsn <= lsn)
  return index < 0 ? listed.length - 1 : index
}

/** The run of segments ending at the one holding `near.lsn` (the last, past the log's end), within `near.bytesMax`. */
function segmentsNear<S extends { name: string; firstLsn: number }>(logDir: string, listed: readonly S[], near: { lsn: number; bytesMax: number }): S[] {
  if (listed.length === 0) return []
  const end = ownSegmentIndex(listed, near.lsn)
  let start = end
  let bytes = sizeOf(join(logDir, (listed[end] as S).name))
  while (start > 0) {
    bytes += sizeOf(join(logDir, (listed[start - 1] as S).name))
    if (bytes > near.bytesMax) break
    start--
  }
  return listed.slice(start, end + 1)
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size
  } catch {
    return 0 // gone: the scan says so
  }
}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`
}
