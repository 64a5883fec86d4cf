/**
 * What a single node's start learns from its own anchors file. Records appended to a stopped gateway's log need no
 * key: each frame's hash follows from the head before it, so a frame computed from the head extends the chain, and
 * the next start replayed it, its self-check passed it, and `egress audit verify` called the log CLEAN ("N records
 * after the last seal"), anchors or not (an anchor vouches for what comes before it). The anchors file says where a
 * run ended: the anchor written at clean shutdown is of the last seal, the log's last record. So at start, before this
 * run appends anything:
 *
 * - the file's last line is a shutdown anchor and the log goes past its seal record: records were appended while no
 *   gateway ran (ANCHOR_MISMATCH, the tamper response);
 * - the file's last anchor names a held LSN whose head the log no longer has: rewritten (ANCHOR_MISMATCH).
 *
 * Then it appends a start line (`at: "start"`, the head as this run found it, fsynced) so that a run which crashes
 * before its first anchor is not taken for one that never ran. An anchor beyond the log's end is not judged here: the
 * start has refused it already, before the audit is set up (LOG_BEHIND_ANCHOR, runtime/anchors-behind.ts; not under
 * durability `none`, whose log may lose its tail with the machine), and `egress audit verify` reports it
 * (ANCHOR_BEYOND_END). HA nodes skip this (a standby appends what it copies, with no run of its own): setup.ts.
 */

import { closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readSync, statSync, writeSync } from 'node:fs'
import { dirname } from 'node:path'
import * as v from 'valibot'
import { makeDirDurable, nodeIo, toHex, type Frame } from '../../wal/index.ts'
import { ANCHOR_SCHEMA } from './anchors.ts'
import type { AnchorsWriter } from './anchors-writer.ts'
import type { AuditProblem } from './codes.ts'
import { lengthWithoutTornLine, TAIL_SCAN_BYTES } from './anchor-writer.ts'
import { fsyncDirectory } from './files.ts'
import { AUDIT_SEAL, decodeSealRecord } from './records.ts'

/**
 * An anchor, as verify reads one (sealRecordLsn an LSN or absent: a line with another value is no anchor here either;
 * read as any number, a shutdown line's 0 or 1.5, which verify refuses as ANCHORS_INVALID, had the log's own records
 * "appended while no gateway ran": review), and who wrote it.
 */
const LAST_LINE_SCHEMA = v.looseObject({ ...ANCHOR_SCHEMA.entries, at: v.optional(v.string()) })
type LastLine = v.InferOutput<typeof LAST_LINE_SCHEMA>

export interface StartLog {
  readonly firstLsn: number
  readonly lastLsn: number
  readonly chainHead: Uint8Array
  read(fromLsn: number, options?: { toLsn?: number }): Iterable<Frame>
}

/**
 * Checks the log against the anchors file's last line, then records this start in it: a finding or null, and the
 * error that kept the start line from being written (an operator alert like any failed anchor, never a failed start).
 */
export function checkAnchorsAtStart(path: string, log: StartLog, writer?: AnchorsWriter): { finding: AuditProblem | null; writeError: unknown } {
  const last = lastLine(path)
  const finding = last === null ? null : disagreement(last, log, path)
  return { finding, writeError: noteStart(path, log, writer) }
}

/**
 * A single node's start that writes no anchors (no seal key: live without audit.signingKeyFile; audit.anchorEveryMs
 * 0) still notes itself in an anchors file an earlier run left: without the line, the next run that anchors read the
 * earlier run's shutdown anchor as the file's last line, found this run's records past its seal and took them for
 * records appended while no gateway ran. Nothing is checked (this run keeps no anchors) and no file is made. The
 * error that kept the line from being written, or null.
 */
export function noteStartInAnchorsFile(path: string, log: StartLog, writer?: AnchorsWriter): unknown {
  return existsSync(path) ? noteStart(path, log, writer) : null
}

/**
 * Appends the start line (the head as this run found it, and who writes: anchors-writer.ts); the error that kept it
 * from being written, or null.
 */
function noteStart(path: string, log: StartLog, writer: AnchorsWriter | undefined): unknown {
  try {
    if (log.lastLsn >= 1) appendLineDurably(path, `${JSON.stringify({ lsn: log.lastLsn, chainHead: toHex(log.chainHead), at: 'start', ...writer })}\n`)
  } catch (error) {
    return error
  }
  return null
}

function disagreement(last: LastLine, log: StartLog, path: string): AuditProblem | null {
  const at = (lsn: number, detail: string): AuditProblem => ({ code: 'ANCHOR_MISMATCH', file: path, offsetBytes: 0, lsn, detail })
  if (last.at === 'shutdown' && last.sealRecordLsn !== undefined && log.lastLsn > last.sealRecordLsn) {
    return at(last.sealRecordLsn + 1, `the anchors file's last line is the clean shutdown's, whose seal (LSN ${last.sealRecordLsn}) ended the log; the log now ends at LSN ${log.lastLsn}: records ${last.sealRecordLsn + 1}..${log.lastLsn} were appended while no gateway ran`)
  }
  // The shutdown's seal record ends the log: it must be that seal (review: replaced by any record chained on, the start
  // found nothing, as the head it checks is the sealed LSN's, one before).
  if (last.at === 'shutdown' && last.sealRecordLsn !== undefined && last.seal !== undefined && log.lastLsn === last.sealRecordLsn && !holdsSeal(log, last.sealRecordLsn, last.seal)) {
    return at(last.sealRecordLsn, `the anchors file's last line is the clean shutdown's, whose seal record is LSN ${last.sealRecordLsn}; the log holds another record there`)
  }
  if (last.lsn < log.firstLsn || last.lsn > log.lastLsn) return null
  let head: string | null = null
  for (const frame of log.read(last.lsn, { toLsn: last.lsn })) head = toHex(frame.hash)
  return head === last.chainHead ? null : at(last.lsn, `the anchors file's last anchor says the head at LSN ${last.lsn} is ${last.chainHead}; the log's is ${head ?? 'missing'}`)
}

/** Whether the record at `lsn` is the seal record holding `jws`. */
function holdsSeal(log: StartLog, lsn: number, jws: string): boolean {
  if (lsn < log.firstLsn) return true
  for (const frame of log.read(lsn, { toLsn: lsn })) {
    if (frame.type !== AUDIT_SEAL.type) return false
    const decoded = decodeSealRecord(frame.version, frame.payload)
    return decoded.ok && decoded.value.jws === jws
  }
  return false
}

/** The file's last line as an anchor; null when there is no file or its last line is not one (a torn append). */
function lastLine(path: string): LastLine | null {
  let fd: number
  try {
    if (!statSync(path).isFile()) return null
    fd = openSync(path, 'r')
  } catch {
    return null
  }
  try {
    const size = statSync(path).size
    const bytes = new Uint8Array(Math.min(size, TAIL_SCAN_BYTES))
    readSync(fd, bytes, 0, bytes.byteLength, size - bytes.byteLength)
    const lines = new TextDecoder().decode(bytes).split('\n').filter((line) => line.trim() !== '')
    const parsed = v.safeParse(LAST_LINE_SCHEMA, parseOrNull(lines.at(-1)))
    return parsed.success ? parsed.output : null
  } finally {
    closeSync(fd)
  }
}

function parseOrNull(text: string | undefined): unknown {
  try {
    return text === undefined ? null : JSON.parse(text)
  } catch {
    return null
  }
}

/**
 * At start, before the run appends anything: synchronous, fsynced (the directory too for a new file), after cutting
 * a torn last line off as the anchor writer does. A failure is the caller's to report.
 */
function appendLineDurably(path: string, line: string): void {
  const created = !existsSync(path)
  if (created) makeDirDurable(nodeIo, dirname(path), { mkdir: (dir) => void mkdirSync(dir, { recursive: true, mode: 0o700 }) })
  const fd = openSync(path, 'a+', 0o600)
  try {
    const size = fstatSync(fd).size
    const tail = new Uint8Array(Math.min(size, TAIL_SCAN_BYTES))
    readSync(fd, tail, 0, tail.byteLength, size - tail.byteLength)
    const whole = lengthWithoutTornLine(tail, size)
    if (whole !== null) ftruncateSync(fd, whole)
    const bytes = new TextEncoder().encode(line)
    // A short write (a full disk) leaves part of the line: the anchor writer's first append cuts it off.
    const written = writeSync(fd, bytes)
    if (written !== bytes.byteLength) throw new Error(`${path}: ${written} of the start line's ${bytes.byteLength} bytes written (is the disk full?)`)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  if (created) fsyncDirectory(dirname(path))
}
