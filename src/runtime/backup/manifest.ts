/**
 * The backup's own record of where it ends: `BACKUP.json` in DIR, written (fsynced) once the copy is verified, before
 * it is published. A copy of DIR cut short (a `cp` interrupted, a tape restore that stopped at a segment) is a log
 * that ends early at a frame boundary, or with a torn tail: on its own, every check passes it — the chain holds up to
 * where it ends and the snapshot lies before that — so `egress replay-verify` said MATCH of a backup missing its
 * last records. The manifest gives the end to compare with: the log must reach `lastLsn` with `chainHead` there.
 *
 * A gateway started on DIR later appends past `lastLsn` (fine: the head there is still checked while the log holds
 * it) and never removes the file; a log that no longer reaches it is a problem whatever ran since — except an HA
 * node's that set the records there aside as diverged from its leader (ha/divergence.ts): the file goes aside with
 * them (`BACKUP.<suffix>.json`), as the leader's records fill those LSNs.
 */

import { closeSync, existsSync, fsyncSync, openSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import * as v from 'valibot'
import { openReadOnly, toHex, type Wal } from '../../../wal/index.ts'
import type { AuditProblemCode } from '../../audit/index.ts'
import { readFailureOf, readFileBounded } from '../../config/bounded-read.ts'

export const BACKUP_MANIFEST_FILE = 'BACKUP.json'
/** Bound on the file read back: a manifest is a few hundred bytes. */
const MANIFEST_BYTES_MAX = 64 * 1024

const LSN = v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(Number.MAX_SAFE_INTEGER))
const MANIFEST_SCHEMA = v.looseObject({
  format: v.literal(1),
  firstLsn: LSN,
  lastLsn: LSN,
  chainHead: v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/)),
})

export interface BackupManifest {
  format: 1
  source: string
  firstLsn: number
  lastLsn: number
  /** Hex chain head at lastLsn. */
  chainHead: string
  /** `sealed`: its seal was copied beside it (older backups' manifests have no such field). */
  snapshot: { lsn: number; digest: string; sealed: boolean } | null
}

/** Writes DIR/BACKUP.json and fsyncs it (the caller fsyncs DIR before publishing it). */
export function writeBackupManifest(dir: string, manifest: BackupManifest): void {
  const fd = openSync(join(dir, BACKUP_MANIFEST_FILE), 'wx', 0o644)
  try {
    const bytes = new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`)
    let written = 0
    while (written < bytes.byteLength) written += writeSync(fd, bytes, written)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

type ManifestRead = { manifest: v.InferOutput<typeof MANIFEST_SCHEMA> } | { invalid: string }

/** DIR's backup manifest as read and checked; null when there is none. */
function readManifest(dir: string): ManifestRead | null {
  const path = join(dir, BACKUP_MANIFEST_FILE)
  if (!existsSync(path)) return null
  // Bounded, and no pipe: a file of any size was read whole before its size was judged, and a FIFO under the name held
  // replay-verify and audit verify for good (an open waiting for a writer).
  let text: Uint8Array
  try {
    text = readFileBounded(path, MANIFEST_BYTES_MAX, { allowPipes: false })
  } catch (error) {
    return { invalid: readFailureOf(error) }
  }
  try {
    const result = v.safeParse(MANIFEST_SCHEMA, JSON.parse(new TextDecoder().decode(text)))
    if (result.success) return { manifest: result.output }
    return { invalid: `${result.issues[0]?.path?.map((item) => item.key).join('.') ?? 'its content'}: ${result.issues[0]?.message ?? 'invalid'}` }
  } catch (error) {
    return { invalid: error instanceof Error ? error.message : String(error) }
  }
}

/**
 * The LSN DIR's backup manifest names as the copy's end; null when there is none, or none that can be read (replay-verify
 * reports that one as BACKUP_MANIFEST_INVALID).
 */
export function backupManifestEnd(dir: string): number | null {
  const read = readManifest(dir)
  return read !== null && 'manifest' in read ? read.manifest.lastLsn : null
}

/** What is wrong with a log against its backup manifest: the code (audit's dictionary), the LSN and the text. */
export interface BackupManifestProblem {
  code: Extract<AuditProblemCode, 'BACKUP_TRUNCATED' | 'BACKUP_HEAD_MISMATCH' | 'BACKUP_MANIFEST_INVALID'>
  /** The manifest file. */
  file: string
  /** The backup's end (0 when the manifest cannot be read). */
  lsn: number
  detail: string
}

/**
 * The problem with DIR's log against its backup manifest as `CODE: text` (replay-verify's report), or null
 * (backupManifestCheck).
 */
export function backupManifestProblem(dir: string, logLastLsn: number): string | null {
  const problem = backupManifestCheck(dir, logLastLsn)
  return problem === null ? null : `${problem.code}: ${problem.detail}`
}

/**
 * The problem with DIR's log against its backup manifest, or null: none there, or the log reaches its end with the same
 * chain head. `logLastLsn`: where the verified log ends (replay-verify's or audit verify's report). Both commands
 * check a backup with it, and a single node's start (gateway-restore.ts), which passes its open log (`openLog`) to read
 * the head from; without one the log is opened read-only.
 */
export function backupManifestCheck(dir: string, logLastLsn: number, openLog?: Pick<Wal, 'firstLsn' | 'read'>): BackupManifestProblem | null {
  const path = join(dir, BACKUP_MANIFEST_FILE)
  const read = readManifest(dir)
  if (read === null) return null
  if ('invalid' in read) return { code: 'BACKUP_MANIFEST_INVALID', file: path, lsn: 0, detail: `${path} is not a backup manifest egress wrote (${read.invalid}): where the backup ends cannot be checked` }
  const parsed = read.manifest
  if (logLastLsn < parsed.lastLsn) {
    return {
      code: 'BACKUP_TRUNCATED', file: path, lsn: parsed.lastLsn,
      detail: `the log ends at LSN ${logLastLsn}, the backup (${path}) was taken through LSN ${parsed.lastLsn}: records ${logLastLsn + 1}..${parsed.lastLsn} are missing (a copy of the backup cut short?)`,
    }
  }
  let head: string | null = null
  try {
    const log = openLog ?? openReadOnly(join(dir, 'log'), { verifyChain: false })
    if (parsed.lastLsn < log.firstLsn) return null // compacted past the backup's end by a gateway run on it since
    for (const frame of log.read(parsed.lastLsn, { toLsn: parsed.lastLsn })) head = toHex(frame.hash)
  } catch {
    return null // a log that does not open: the verification has said why already
  }
  if (head === parsed.chainHead) return null
  return {
    code: 'BACKUP_HEAD_MISMATCH', file: path, lsn: parsed.lastLsn,
    detail: `the log's chain head at LSN ${parsed.lastLsn} is ${head ?? 'missing'}, the backup (${path}) recorded ${parsed.chainHead}: this is not the log the backup wrote`,
  }
}
