/**
 * `egress audit verify DIR`: the independent, read-only audit of a log (src/audit/verify.ts), for a copy of a data
 * directory with or without the gateway running. Exit 0 when clean, 65 (EX_DATAERR) on any problem, naming file,
 * offset and LSN. `egress audit anchor DIR` prints the latest seal as an anchor line for external storage.
 * A data directory an HA node left mid-swap is refused (INTERRUPTED_SWAP, src/runtime/ha/interrupted-swaps.ts): its
 * log/ is not the data dir's log. A log directory given as DIR is verified as it is (a log set aside, say).
 */

import { anchoredLsnOf, judgeAnchorLines, notJudgedReason } from '../audit/anchors-judged.ts'
import { existsSync, statSync } from 'node:fs'
import { join } from 'node:path'
import {
  ANCHORS_FILE_DEFAULT, AUDIT_DATA_DIR, PUBLIC_KEY_FILE, anchorOf, describeProblem, listSegments, loadKeyResolver, verifyLogDirectory,
  type LogScanProgress, type SealKeyResolver, type VerifyReport,
} from '../audit/index.ts'
import { ownAnchorsFiles, ownPublicKeyFile, readAnchorsFiles, type AnchorsRead } from './audit-inputs.ts'
import { backupManifestCheck } from '../runtime/backup/index.ts'
import { refuseInterruptedSwap } from '../runtime/ha/index.ts'
import { EXIT_DATA_ERROR, EXIT_OK, parseOptions, UsageError, type CliIo, type Command } from './command.ts'
import { refuseEmptyDir, requireLogIn } from './data-dir.ts'

const PROGRESS_INTERVAL_MS = 1_000

export const auditCommand: Command = {
  name: 'audit',
  summary: 'verify CRCs, the hash chain and seals of a data directory',
  help: `Usage: egress audit verify DIR [--public-key FILE | --jwks FILE | --no-signatures] [--anchors FILE | --no-anchors] [--json]
       egress audit anchor DIR [--public-key FILE | --jwks FILE] [--anchors FILE | --no-anchors]

verify   Checks DIR read-only: every frame's CRC, the whole hash chain (recomputed independently of the writer),
         every seal (signature, signed head, sequence) and anchors kept of the log. DIR is a log directory or a data
         directory holding one in log/. Use it on a copy; a copy taken while the gateway writes may end in a torn
         tail, which is reported and is not an error. Progress goes to stderr. A data directory an HA node left
         mid-swap is refused (INTERRUPTED_SWAP): run "egress serve" on it first, which finishes it.
         Of a data directory, unless told otherwise, it checks the anchors its gateway appended
         (DIR/audit/anchors.jsonl, and anchors.jsonl.1 rotated out before it) and, with no key given, uses its local
         seal key (DIR/audit/${PUBLIC_KEY_FILE}); the summary names what it used. Both sit beside
         the log: anchors and a key kept elsewhere hold against more. A backup ("egress backup") records where it
         ends in DIR/BACKUP.json: a log that ends before it (BACKUP_TRUNCATED: a copy of the backup cut short) or
         holds another chain head there (BACKUP_HEAD_MISMATCH) is a problem, as replay-verify finds it.
anchor   Verifies DIR as verify does (a problem exits 65 with the summary on stderr), then prints its latest seal as
         one JSON line { lsn, chainHead, seal, sealRecordLsn, sealedAtMs } to keep outside the gateway (append it to an
         anchors file). sealedAtMs is when that seal was signed, which may be long before this run.

Options:
  --public-key FILE   the seal public key (JWK, as written by egress keygen)
  --jwks FILE         a JWKS holding seal public keys (keys chosen by kid; for rotated keys)
  --no-signatures     verify only: check seals' heads and sequence but not their signatures (say so explicitly)
                      (one of the three is needed unless DIR is a data directory with its local seal key)
  --anchors FILE      anchors to check instead of the data directory's own: a JSON array or JSON lines of
                      { "lsn": N, "chainHead": "hex", "seal"?: JWS }
  --no-anchors        check no anchors, not even the data directory's own
  --json              print the full report as JSON instead of a summary (with "sources": the key and anchors files used)
  --help              show this help

Exit codes: 0 clean, 65 a problem was found (data error), 2 usage, 1 could not run (an unreadable key or anchors
file, a DIR that does not exist or holds no log: "not a data directory").`,
  run: runAudit,
}

async function runAudit(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseOptions(argv, {
    'public-key': { type: 'string' },
    jwks: { type: 'string' },
    'no-signatures': { type: 'boolean' },
    anchors: { type: 'string' },
    'no-anchors': { type: 'boolean' },
    json: { type: 'boolean' },
  })
  const [action, dirArgument, ...extra] = positionals
  if (action !== 'verify' && action !== 'anchor') throw new UsageError(`expected "verify DIR" or "anchor DIR", got ${JSON.stringify(action ?? '')}`)
  if (dirArgument === undefined) throw new UsageError(`audit ${action} needs a directory`)
  if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`)
  refuseEmptyDir(dirArgument)
  if (values.anchors !== undefined && values['no-anchors'] === true) throw new UsageError('give --anchors FILE or --no-anchors, not both')
  // An anchor vouches for a signed head: anchor checks signatures always. --no-signatures was passed over without a
  // word (a data directory's own key used), or refused with advice to give it, when the data directory had none.
  if (action === 'anchor' && values['no-signatures'] === true) {
    throw new UsageError('--no-signatures is for "audit verify": "audit anchor" checks the seals\' signatures (give --public-key FILE or --jwks FILE, or none for a data directory\'s own key)')
  }
  const { logDir, dataDir } = logDirectoryOf(dirArgument, `audit ${action}`)
  const ownPublicKey = dataDir === null ? null : ownPublicKeyFile(dataDir)
  const { keys, keyFound } = await keysFrom(values, { unsigned: values['no-signatures'] === true, ownPublicKey, anchor: action === 'anchor' })
  const anchors = anchorsFrom(values, dataDir)
  const snapshotsDir = dataDir === null ? null : join(dataDir, 'snapshots')
  const options = {
    ...(keys === null ? {} : { keys }),
    // A data directory's snapshots: their seals, and a compacted log's chain base against the oldest sealed one.
    ...(snapshotsDir === null ? {} : { snapshotsDir }),
    ...(anchors.read === null ? {} : { anchors: anchors.read.anchors, anchorsSource: anchors.read.files.join(', '), anchorsAllBeforeLog: anchors.read.own ? 'skipped' as const : 'problem' as const }),
    onProgress: progressPrinter(io),
  }
  const report = await verifyLogDirectory(logDir, options)
  checkBackupManifest(report, dataDir)
  const inputs: SummaryInputs = { anchors: anchors.read, anchorsNote: anchors.note, keyFound }
  if (action === 'anchor') {
    // What was found in the data directory goes to stderr: stdout is the anchor line alone.
    for (const line of inputLines(report, inputs)) io.err(line.trim())
    // A log with problems is a data error like verify's (65, with its summary), not a failure to run.
    if (!report.ok) {
      io.err(verifySummary(report))
      return EXIT_DATA_ERROR
    }
    io.out(JSON.stringify(anchorOf(report)))
    return EXIT_OK
  }
  const publicKeyFile = keyFound ?? values['public-key'] ?? null
  const sources = { publicKeyFile, anchorsFiles: anchors.read?.files ?? [], anchorsTornLastLines: anchors.read?.tornLastLines ?? [] }
  io.out(values.json === true ? JSON.stringify({ ...report, sources }, null, 2) : verifySummary(report, inputs))
  return report.ok ? EXIT_OK : EXIT_DATA_ERROR
}

/**
 * A backup (egress backup) records where it ends, DIR/BACKUP.json: a log that ends before it, or holds another chain
 * head there, is a problem as replay-verify finds it (the same check, runtime/backup/manifest.ts). A copy of a backup
 * cut short at a frame boundary was CLEAN here: its chain holds up to where it ends, with nothing to compare with.
 */
function checkBackupManifest(report: VerifyReport, dataDir: string | null): void {
  const problem = dataDir === null ? null : backupManifestCheck(dataDir, report.lastLsn)
  if (problem === null) return
  report.problems.push({ code: problem.code, file: problem.file, offsetBytes: 0, lsn: problem.lsn, detail: problem.detail })
  report.firstProblem ??= report.problems[0] ?? null
  report.ok = false
}

async function keysFrom(
  values: { 'public-key'?: string; jwks?: string },
  options: { unsigned: boolean; ownPublicKey: string | null; anchor: boolean },
): Promise<{ keys: SealKeyResolver | null; keyFound: string | null }> {
  const given = [values['public-key'], values.jwks].filter((value) => value !== undefined).length + (options.unsigned ? 1 : 0)
  // None given: the data directory's local seal key, when it has one (said in the output: it is on the log's disk).
  const keyFound = given === 0 ? options.ownPublicKey : null
  if (given > 1 || (given === 0 && keyFound === null)) {
    const choices = options.anchor ? '--public-key FILE or --jwks FILE' : '--public-key FILE, --jwks FILE or --no-signatures'
    throw new UsageError(`give exactly one of ${choices}${given === 0 ? ` (DIR holds no audit/${PUBLIC_KEY_FILE} to use instead)` : ''}`)
  }
  if (options.unsigned) return { keys: null, keyFound }
  const publicKeyPath = keyFound ?? values['public-key']
  // Read once here, so a pipe is fine (`--jwks <(curl …)`): refused since the gateway's key files refuse FIFOs.
  const keys = await loadKeyResolver({
    ...(publicKeyPath === undefined ? {} : { publicKeyPath }),
    ...(values.jwks === undefined ? {} : { jwksPath: values.jwks }),
    allowPipes: true,
  })
  return { keys, keyFound }
}

/** --anchors FILE; else, unless --no-anchors, the data directory's own anchors files; with a note when none is read. */
function anchorsFrom(values: { anchors?: string; 'no-anchors'?: boolean }, dataDir: string | null): { read: AnchorsRead | null; note: string | null } {
  if (values.anchors !== undefined) return { read: readAnchorsFiles([values.anchors], { own: false }), note: null }
  if (dataDir === null) return { read: null, note: null }
  if (values['no-anchors'] === true) return { read: null, note: 'not checked (--no-anchors)' }
  const files = ownAnchorsFiles(dataDir)
  if (files.length === 0) return { read: null, note: `none: no ${join(dataDir, AUDIT_DATA_DIR, ANCHORS_FILE_DEFAULT)} (give --anchors FILE to check some)` }
  return { read: readAnchorsFiles(files, { own: true }), note: null }
}

/**
 * A log directory, or a data directory whose log is in log/ (where the gateway keeps it) and not mid-swap. A directory
 * with neither (empty, absent, a log/ without segments) could not be verified: exit 1 with the message the other
 * offline commands give (requireLogIn). It was verified as an empty log, LOG_MISSING, exit 65 — a data error, as if
 * the log were damaged, for a DIR that was mistyped or never held one.
 */
function logDirectoryOf(dir: string, tool: string): { logDir: string; dataDir: string | null } {
  // A file given as DIR failed as node's "ENOTDIR: not a directory, scandir …": requireLogIn says what it is.
  const isDirectory = existsSync(dir) && statSync(dir).isDirectory()
  if (isDirectory && listSegments(dir).length > 0) return { logDir: dir, dataDir: null }
  if (isDirectory) refuseInterruptedSwap(dir, tool)
  requireLogIn(dir, 'nothing verified')
  return { logDir: join(dir, 'log'), dataDir: dir }
}

function progressPrinter(io: CliIo): (progress: LogScanProgress) => void {
  const started = performance.now()
  let printedAt = started
  return function printProgress(progress) {
    const now = performance.now()
    if (now - printedAt < PROGRESS_INTERVAL_MS) return
    printedAt = now
    const percent = progress.bytesTotal === 0 ? 100 : Math.floor((progress.bytesDone / progress.bytesTotal) * 100)
    const mbPerSec = progress.bytesDone / 1e6 / ((now - started) / 1000)
    io.err(`verify: ${String(percent).padStart(3)}%  ${progress.records.toLocaleString('en-US')} records  LSN ${progress.lsn}  ${mbPerSec.toFixed(0)} MB/s`)
  }
}

/** What the verification was checked against, beyond the log, for the summary to say. */
export interface SummaryInputs {
  /** Anchors read (--anchors FILE, or the data directory's own files); null when none were. */
  anchors?: AnchorsRead | null
  /** Why no anchors were read from a data directory (none there, --no-anchors). */
  anchorsNote?: string | null
  /** The data directory's local public key, used because no key was given. */
  keyFound?: string | null
}

/**
 * The human-readable report of `egress audit verify`. The anchors line names the files read and is there whenever
 * anchors were read, even none (an empty or wrong anchors file read as a CLEAN report that never mentioned anchors),
 * or a data directory had none to read.
 */
export function verifySummary(report: VerifyReport, inputs: SummaryInputs = {}): string {
  const seconds = report.elapsedMs / 1000
  const lines = [
    `${report.ok ? 'CLEAN' : 'PROBLEMS FOUND'}: ${report.dir}`,
    `  records   ${report.records.toLocaleString('en-US')} (LSN ${report.firstLsn}..${report.lastLsn}) in ${report.segments} segment(s), ` +
      `${(report.bytes / 1e6).toFixed(1)} MB in ${seconds.toFixed(2)} s (${(report.bytes / 1e6 / Math.max(seconds, 1e-6)).toFixed(0)} MB/s)`,
    `  chain     head ${report.chainHead} (recomputed with @noble/hashes)`,
    `  seals     ${report.seals.checked} checked, signatures ${report.seals.signaturesChecked ? 'verified' : 'NOT checked (--no-signatures)'}` +
      (report.seals.last === null ? '; the log has no seal' : `; the last signs LSN ${report.seals.last.claims.lsn} (record ${report.seals.last.recordLsn}, kid ${report.seals.last.kid ?? '-'})`) +
      `; ${report.seals.unsealedRecords} record(s) after the last seal`,
    ...snapshotLines(report),
    ...inputLines(report, inputs),
  ]
  const torn = report.tornTail
  if (torn !== null) {
    lines.push(`  torn tail at ${torn.file} offset ${torn.offsetBytes} (LSN ${torn.lsn}): ${torn.bytes} bytes, ${torn.kind}` +
      `${torn.framesBeyond > 0 ? `, ${torn.framesBeyondComplete ? '' : 'at least '}${torn.framesBeyond} frame(s) beyond not verified` : ''} — an incomplete write or a live copy, not an error`)
    // The log's own open cuts this shape only as the batch in flight at a power cut (src/audit/log-scan.ts says why).
    if (torn.kind === 'copy-race') {
      lines.push(torn.gatewayCuts
        ? `  note      a gateway would start from this copy without LSN ${torn.lsn} on (cut as a lost write of the batch in flight, LOG_TAIL_TRUNCATED): to restore, copy a stopped gateway's data dir`
        : '  note      a gateway would refuse to start from this copy (FRAME_CORRUPT at the zero page): to restore, copy a stopped gateway\'s data dir')
    }
  }
  const behind = startRefusalNote(report, inputs)
  if (behind !== null) lines.push(behind)
  for (const problem of report.problems) lines.push(`  ${describeProblem(problem)}`)
  return lines.join('\n')
}

/**
 * A data directory's own anchors beyond its log's end (ANCHOR_BEYOND_END) are what a single node's start refuses
 * (LOG_BEHIND_ANCHOR, src/runtime/anchors-behind.ts): said, with the highest LSN they name (a line's seal record's
 * when it gives one, as the start reads it), so the report and the refusal read alike. Each line is judged by who
 * wrote it, as replay-verify judges it (audit/anchors-judged.ts): a single node under durability fsync, or a line that
 * does not say (an older build's), none of them followed by an HA node's line. A line beyond the end written by an HA
 * node or under durability none (or before an HA run) is a note that it is no loss a start refuses.
 */
function startRefusalNote(report: VerifyReport, inputs: SummaryInputs): string | null {
  const read = inputs.anchors ?? null
  if (read === null || !read.own || !report.problems.some((problem) => problem.code === 'ANCHOR_BEYOND_END')) return null
  const { judged, notJudged } = judgeAnchorLines(read.anchors)
  if (judged !== null && anchoredLsnOf(judged) > report.lastLsn) {
    return `  note      a gateway refuses to start from this data directory (LOG_BEHIND_ANCHOR): its anchors name LSN ${anchoredLsnOf(judged)}, the log ends at ${report.lastLsn}; ` +
      'durable records are missing: restore the log from its archive or a standby\'s copy'
  }
  if (notJudged === null || anchoredLsnOf(notJudged.line) <= report.lastLsn) return null
  return `  note      its anchors name LSN ${anchoredLsnOf(notJudged.line)}, the log ends at ${report.lastLsn}; that line was ${notJudgedReason(notJudged.why)} (no LOG_BEHIND_ANCHOR)`
}

/**
 * The snapshots' seals, and whether a compacted log's chain base was checked: never said checked unless a sealed
 * snapshot's signed head (signature verified) vouched for it.
 */
function snapshotLines(report: VerifyReport): string[] {
  const snapshots = report.snapshots
  if (snapshots === null) return []
  const unsealed = snapshots.unsealed.length === 0 ? '' : ` (${snapshots.unsealed.slice(0, 3).join(', ')}${snapshots.unsealed.length > 3 ? ', …' : ''})`
  const lines = [
    `  snapshots ${snapshots.files} file(s): ${snapshots.sealed} sealed (signatures ${snapshots.signaturesChecked ? 'verified' : 'NOT checked'}), ` +
      `${snapshots.unsealed.length} unsealed${unsealed}; ${snapshots.headsChecked} signed head(s) checked against the log`,
  ]
  if (report.firstLsn > 1) {
    lines.push(snapshots.baseCheckedBy === null
      ? `  base      LSN ${report.firstLsn - 1} (compacted): NOT checked — no sealed snapshot with a verified signature at or after it; it rests on the first segment's header`
      : `  base      LSN ${report.firstLsn - 1} (compacted): checked against the signed head of ${snapshots.baseCheckedBy}`)
  }
  return lines
}

/** The key and anchors lines: what was found in the data directory, and which anchors files were read. */
function inputLines(report: VerifyReport, inputs: SummaryInputs): string[] {
  const lines: string[] = []
  if (inputs.keyFound != null) lines.push(`  key       ${inputs.keyFound} (the data directory's local seal key, as none was given: it sits beside the log, so anchors kept elsewhere hold against more)`)
  const counts = `${report.anchors.checked} checked, ${report.anchors.skipped} before the log's start`
  const read = inputs.anchors ?? null
  if (read !== null) {
    const torn = read.tornLastLines.length === 0 ? '' : `; a torn last line skipped (${read.tornLastLines.join(', ')})`
    const noneHeld = read.own && report.anchors.checked === 0 && report.anchors.skipped > 0 ? '; all before the log\'s start: none vouches for it' : ''
    lines.push(`  anchors   ${counts} (from ${read.files.join(', ')}${read.own ? ', the data directory\'s own' : ''}${torn}${noneHeld})`)
  } else if (inputs.anchorsNote != null) lines.push(`  anchors   ${inputs.anchorsNote}`)
  else if (report.anchors.checked + report.anchors.skipped > 0) lines.push(`  anchors   ${counts}`)
  return lines
}
