/**
 * `egress audit verify DIR`: the independent, read-only audit of a log (src/audit/verify.ts), for a copy of a data
 * directory with or without the gateway running. Exit 0 when clean, 65 (EX_DATAERR) on any problem, naming file,
 * offset and LSN. `egress audit anchor DIR` prints the latest seal as an anchor line for external storage.
 * A data directory an HA node left mid-swap is refused (INTERRUPTED_SWAP, src/runtime/ha/interrupted-swaps.ts): its
 * log/ is not the data dir's log. A log directory given as DIR is verified as it is (a log set aside, say).
 */

import { existsSync, statSync } from 'node:fs'
import { join } from 'node:path'
import {
  anchorOf, describeProblem, listSegments, loadKeyResolver, readAnchorsFile, verifyLogDirectory, type LogScanProgress,
  type SealKeyResolver, type VerifyReport,
} from '../audit/index.ts'
import { refuseInterruptedSwap } from '../runtime/ha/index.ts'
import { EXIT_DATA_ERROR, EXIT_OK, parseOptions, UsageError, type CliIo, type Command } from './command.ts'
import { requireLogIn } from './data-dir.ts'

const PROGRESS_INTERVAL_MS = 1_000

export const auditCommand: Command = {
  name: 'audit',
  summary: 'verify CRCs, the hash chain and seals of a data directory',
  help: `Usage: egress audit verify DIR (--public-key FILE | --jwks FILE | --no-signatures) [--anchors FILE] [--json]
       egress audit anchor DIR (--public-key FILE | --jwks FILE)

verify   Checks DIR read-only: every frame's CRC, the whole hash chain (recomputed independently of the writer),
         every seal (signature, signed head, sequence) and, with --anchors, externally stored anchors. DIR is a log
         directory or a data directory holding one in log/. Use it on a copy; a copy taken while the gateway writes
         may end in a torn tail, which is reported and is not an error. Progress goes to stderr. A data directory
         an HA node left mid-swap is refused (INTERRUPTED_SWAP): run "egress serve" on it first, which finishes it.
anchor   Verifies DIR (a problem exits 65 with the summary on stderr), then prints its latest seal as one JSON line
         { lsn, chainHead, seal, sealRecordLsn, sealedAtMs } to keep outside the gateway (append it to an anchors
         file). sealedAtMs is when that seal was signed, which may be long before this run.

Options:
  --public-key FILE   the seal public key (JWK, as written by egress keygen)
  --jwks FILE         a JWKS holding seal public keys (keys chosen by kid; for rotated keys)
  --no-signatures     check seals' heads and sequence but not their signatures (say so explicitly)
  --anchors FILE      anchors to check: a JSON array or JSON lines of { "lsn": N, "chainHead": "hex", "seal"?: JWS }
  --json              print the full report as JSON instead of a summary
  --help              show this help

Exit codes: 0 clean, 65 a problem was found (data error), 2 usage, 1 could not run (an unreadable key, a DIR that
does not exist or holds no log: "not a data directory").`,
  run: runAudit,
}

async function runAudit(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseOptions(argv, {
    'public-key': { type: 'string' },
    jwks: { type: 'string' },
    'no-signatures': { type: 'boolean' },
    anchors: { type: 'string' },
    json: { type: 'boolean' },
  })
  const [action, dirArgument, ...extra] = positionals
  if (action !== 'verify' && action !== 'anchor') throw new UsageError(`expected "verify DIR" or "anchor DIR", got ${JSON.stringify(action ?? '')}`)
  if (dirArgument === undefined) throw new UsageError(`audit ${action} needs a directory`)
  if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`)
  const keys = await keysFrom(values, action === 'verify' && values['no-signatures'] === true)
  const dir = logDirectoryOf(dirArgument, `audit ${action}`)
  const anchors = values.anchors === undefined ? undefined : readAnchorsFile(values.anchors)
  const options = {
    ...(keys === null ? {} : { keys }),
    ...(anchors === undefined ? {} : { anchors, anchorsSource: values.anchors as string }),
    onProgress: progressPrinter(io),
  }
  const report = await verifyLogDirectory(dir, options)
  if (action === 'anchor') {
    // A log with problems is a data error like verify's (65, with its summary), not a failure to run.
    if (!report.ok) {
      io.err(verifySummary(report))
      return EXIT_DATA_ERROR
    }
    io.out(JSON.stringify(anchorOf(report)))
    return EXIT_OK
  }
  io.out(values.json === true ? JSON.stringify(report, null, 2) : verifySummary(report, { anchorsGiven: anchors !== undefined }))
  return report.ok ? EXIT_OK : EXIT_DATA_ERROR
}

async function keysFrom(values: { 'public-key'?: string; jwks?: string }, unsigned: boolean): Promise<SealKeyResolver | null> {
  const given = [values['public-key'], values.jwks].filter((value) => value !== undefined).length + (unsigned ? 1 : 0)
  if (given !== 1) throw new UsageError('give exactly one of --public-key FILE, --jwks FILE or --no-signatures')
  if (unsigned) return null
  // Read once here, so a pipe is fine (`--jwks <(curl …)`): refused since the gateway's key files refuse FIFOs.
  return loadKeyResolver({
    ...(values['public-key'] === undefined ? {} : { publicKeyPath: values['public-key'] }),
    ...(values.jwks === undefined ? {} : { jwksPath: values.jwks }),
    allowPipes: true,
  })
}

/**
 * A log directory, or a data directory whose log is in log/ (where the gateway keeps it) and not mid-swap. A directory
 * with neither (empty, absent, a log/ without segments) could not be verified: exit 1 with the message the other
 * offline commands give (requireLogIn). It was verified as an empty log, LOG_MISSING, exit 65 — a data error, as if
 * the log were damaged, for a DIR that was mistyped or never held one.
 */
function logDirectoryOf(dir: string, tool: string): string {
  // A file given as DIR failed as node's "ENOTDIR: not a directory, scandir …": requireLogIn says what it is.
  const isDirectory = existsSync(dir) && statSync(dir).isDirectory()
  if (isDirectory && listSegments(dir).length > 0) return dir
  if (isDirectory) refuseInterruptedSwap(dir, tool)
  requireLogIn(dir, 'nothing verified')
  return join(dir, 'log')
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

/**
 * The human-readable report of `egress audit verify`. With `anchorsGiven` (--anchors) the anchors line is always there:
 * left out when none was checked, an empty or wrong anchors file read as a CLEAN report that never mentioned anchors.
 */
export function verifySummary(report: VerifyReport, options: { anchorsGiven?: boolean } = {}): string {
  const seconds = report.elapsedMs / 1000
  const lines = [
    `${report.ok ? 'CLEAN' : 'PROBLEMS FOUND'}: ${report.dir}`,
    `  records   ${report.records.toLocaleString('en-US')} (LSN ${report.firstLsn}..${report.lastLsn}) in ${report.segments} segment(s), ` +
      `${(report.bytes / 1e6).toFixed(1)} MB in ${seconds.toFixed(2)} s (${(report.bytes / 1e6 / Math.max(seconds, 1e-6)).toFixed(0)} MB/s)`,
    `  chain     head ${report.chainHead} (recomputed with @noble/hashes)`,
    `  seals     ${report.seals.checked} checked, signatures ${report.seals.signaturesChecked ? 'verified' : 'NOT checked (--no-signatures)'}` +
      (report.seals.last === null ? '; the log has no seal' : `; the last signs LSN ${report.seals.last.claims.lsn} (record ${report.seals.last.recordLsn}, kid ${report.seals.last.kid ?? '-'})`) +
      `; ${report.seals.unsealedRecords} record(s) after the last seal`,
  ]
  if (options.anchorsGiven === true || report.anchors.checked + report.anchors.skipped > 0) lines.push(`  anchors   ${report.anchors.checked} checked, ${report.anchors.skipped} before the log's start`)
  const torn = report.tornTail
  if (torn !== null) {
    lines.push(`  torn tail at ${torn.file} offset ${torn.offsetBytes} (LSN ${torn.lsn}): ${torn.bytes} bytes, ${torn.kind}` +
      `${torn.framesBeyond > 0 ? `, ${torn.framesBeyond} frame(s) beyond not verified` : ''} — an incomplete write or a live copy, not an error`)
    // The log's own open cuts this shape only as the batch in flight at a power cut (src/audit/log-scan.ts says why).
    if (torn.kind === 'copy-race') {
      lines.push(torn.gatewayCuts
        ? `  note      a gateway would start from this copy without LSN ${torn.lsn} on (cut as a lost write of the batch in flight, LOG_TAIL_TRUNCATED): to restore, copy a stopped gateway's data dir`
        : '  note      a gateway would refuse to start from this copy (FRAME_CORRUPT at the zero page): to restore, copy a stopped gateway\'s data dir')
    }
  }
  for (const problem of report.problems) lines.push(`  ${describeProblem(problem)}`)
  return lines.join('\n')
}
