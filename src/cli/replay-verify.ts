/**
 * `egress replay-verify DIR`: rebuilds the projections from the log alone and compares them with every snapshot in
 * DIR, verifying the hash chain on the way (src/runtime/snapshot/replay-verify.ts). Read-only; run it on a copy.
 * A data dir an HA node left mid-swap is refused (INTERRUPTED_SWAP, src/runtime/ha/interrupted-swaps.ts): its log/ is
 * not the data dir's log, and finishing the swap would modify DIR.
 */

import { existsSync, readdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { refuseInterruptedSwap } from '../runtime/ha/index.ts'
import { anchoredLsnOf, anchorsFileLines, anchorsFileTail, judgeAnchorLines, loadKeyResolver, notJudgedReason, type SealKeyResolver } from '../audit/index.ts'
import { nodeIo } from '../../wal/index.ts'
import { anchorsPathOf, logBehindAnchorLine } from '../runtime/index.ts'
import { backupManifestProblem } from '../runtime/backup/index.ts'
import { parseSnapshotFileName, replayVerify, sealVerdicts, snapshotDirOf, SnapshotStore, type ReplayVerifyReport, type SnapshotSealVerdicts } from '../runtime/snapshot/index.ts'
import { ownPublicKeyFile } from './audit-inputs.ts'
import { EXIT_DATA_ERROR, EXIT_OK, parseOptions, UsageError, type CliIo, type Command } from './command.ts'
import { progressLine, refuseEmptyDir, requireLogIn } from './data-dir.ts'

export const replayVerifyCommand: Command = {
  name: 'replay-verify',
  summary: 'rebuild the projections from the log and compare them with the snapshots',
  help: `Usage: egress replay-verify DIR [--from genesis|SNAPSHOT] [--public-key FILE | --jwks FILE] [--json]

Rebuilds the kernel state of data directory DIR from its log alone — from genesis, or from a snapshot (file name or
LSN; a compacted log starts from its oldest valid snapshot) — verifying the CRC and hash chain of every retained
frame, and compares the result with every snapshot in DIR/snapshots at its LSN. Then rebuilds the back office's
query model the same way and compares it with the one stored in DIR (backoffice.sqlite, read from a private copy) and
with each snapshot's back-office section, per table. Prints records, time, digests and differences. Read-only:
nothing in DIR is modified; use it on a copy. Progress goes to stderr. A data directory an HA node left mid-swap
(log/ and snapshots/ being replaced, committed but not finished) is refused with INTERRUPTED_SWAP: run "egress serve"
or "egress snapshot DIR" on it first, which finish the swap.

Options:
  --from genesis|SNAPSHOT  where the rebuild starts (default: genesis, or the oldest valid snapshot if compacted)
  --public-key FILE        the seal public key (JWK) to verify snapshot seals with (default: DIR's local seal key,
                           DIR/audit/seal-ed25519.public.jwk.json, when there is one)
  --jwks FILE              or a JWKS holding seal public keys (keys chosen by kid)
  --json                   print the full report as JSON
  --help                   show this help

A data directory whose log ends before an LSN its own anchors file (DIR/audit/anchors.jsonl) names is a problem
(LOG_BEHIND_ANCHOR, as "egress serve" refuses it): durable records are missing from the log. Each line is judged by
who wrote it (its own "ha" and "durability"): lines of a single node under durability fsync, or lines that do not say
(an older build's: judged as that default, the problem's text says how to read it otherwise), unless an HA node's
line follows them. A line beyond the end written by an HA node or under durability none, or before the last HA run,
is a NOTE, which does not change the exit code.

A backup ("egress backup") records where it ends in DIR/BACKUP.json: a log that ends before it (BACKUP_TRUNCATED: a
copy of the backup cut short) or holds another chain head there (BACKUP_HEAD_MISMATCH) is a problem.

A snapshot sealed by the gateway that wrote it (DIR/snapshots/snapshot-N.snap.seal: the seal key signs its LSN, chain
head and content digest) is checked: a seal that does not verify with the key, or signs another digest (the state
edited, its digest recomputed), makes the snapshot INVALID (SEAL_INVALID), and it is never the rebuild's base. With no
key, a seal's structure and claims are checked, not its signature (said in the summary). A snapshot with no seal (an
older build's, a node with no seal key, a standby's or a backup's copy) is listed as unsealed, which is not a problem.

A snapshot that cannot be read is INVALID: one that is a directory, one listed in snapshots/MANIFEST.json whose file
is gone, or a snapshot's name that is a dangling symbolic link (UNREADABLE, naming the file).

Exit codes: 0 everything matches, 65 a difference, an invalid snapshot or a log problem, 1 could not run (DIR missing
or holding no log: not a data directory; --from naming no snapshot file in DIR/snapshots), 2 usage.`,
  run: runReplayVerify,
}

async function runReplayVerify(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseOptions(argv, { from: { type: 'string' }, 'public-key': { type: 'string' }, jwks: { type: 'string' }, json: { type: 'boolean' } })
  if (values['public-key'] !== undefined && values.jwks !== undefined) throw new UsageError('give --public-key FILE or --jwks FILE, not both')
  const [dir, ...extra] = positionals
  if (dir === undefined) throw new UsageError('replay-verify needs a data directory')
  if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`)
  refuseEmptyDir(dir)
  refuseInterruptedSwap(dir, 'replay-verify')
  requireLogIn(dir) // a missing DIR could not run (1), as for compact and snapshot; 65 is for what the log holds
  const from = values.from === undefined ? 'auto' : values.from === 'genesis' ? 'genesis' : { snapshot: snapshotFileNamed(dir, values.from) }
  const keys = await sealKeysOf(values, dir)
  const seals = await snapshotSeals(dir, keys)
  const progress = progressLine(io, 'replay-verify')
  const report = replayVerify(dir, { from, onProgress: ({ lsn, lastLsn, records }) => progress(lsn, lastLsn, records), ...seals, sealSignaturesChecked: keys !== null })
  const anchorsNote = logBehindAnchorsOffline(dir, report)
  // A backup (egress backup) says where it ends: a copy of it cut short passed as a MATCH.
  const manifestProblem = backupManifestProblem(dir, report.log.lastLsn)
  if (manifestProblem !== null) {
    report.problems.push(manifestProblem)
    report.ok = false
  }
  const notes = [anchorsNote, garbageAnchorsNote(dir)].filter((note): note is string => note !== null)
  const cliReport: CliReport = { ...report, notes }
  io.out(values.json === true ? JSON.stringify(cliReport, null, 2) : summary(cliReport))
  return report.ok ? EXIT_OK : EXIT_DATA_ERROR
}

/** --public-key FILE or --jwks FILE; else DIR's local seal public key when it has one; else none (seals' structure only). */
async function sealKeysOf(values: { 'public-key'?: string; jwks?: string }, dir: string): Promise<SealKeyResolver | null> {
  const publicKeyPath = values['public-key'] ?? (values.jwks === undefined ? ownPublicKeyFile(dir) ?? undefined : undefined)
  if (publicKeyPath === undefined && values.jwks === undefined) return null
  return loadKeyResolver({ ...(publicKeyPath === undefined ? {} : { publicKeyPath }), ...(values.jwks === undefined ? {} : { jwksPath: values.jwks }), allowPipes: true })
}

/** The snapshots' seals, read before the (synchronous) rebuild; none when the directory cannot be listed (the rebuild says why). */
async function snapshotSeals(dir: string, keys: SealKeyResolver | null): Promise<{ seals?: SnapshotSealVerdicts }> {
  try {
    return { seals: await sealVerdicts(new SnapshotStore(snapshotDirOf(dir), { io: nodeIo, keep: 100 }), keys) }
  } catch {
    return {}
  }
}

/** The report with what the anchors file said that is not a problem: `notes` (not judged). */
type CliReport = ReplayVerifyReport & { notes: string[] }

/**
 * A data directory whose log ends before its own anchors file (DIR/audit/anchors.jsonl) is a problem here as it is a
 * refusal at start (LOG_BEHIND_ANCHOR, src/runtime/anchors-behind.ts): a rebuild of such a log matches its snapshots
 * only up to where it ends, and would read as fine. A log that could not be opened has said so already.
 *
 * Each line is judged by who wrote it (audit/anchors-judged.ts): the log is compared with the highest LSN among the
 * lines a single node wrote under durability fsync (or that do not say: an older build's, judged as that default),
 * none of them followed by an HA node's line; a line of an HA node or under durability none (or before an HA run)
 * beyond the log's end is a note. Before, the file's newest line naming a writer decided for every line, and the log
 * was compared with the highest LSN of any line: synced records cut off before a run under `none` passed as a note.
 */
function logBehindAnchorsOffline(dir: string, report: ReplayVerifyReport): string | null {
  const logDir = join(dir, 'log')
  if (!existsSync(logDir) || (report.log.lastLsn === 0 && report.problems.length > 0)) return null
  const log = { dir: logDir, lastLsn: report.log.lastLsn }
  const { judged, notJudged } = judgeAnchorLines(anchorsFileLines(anchorsPathOf(dir, undefined)))
  const behind = judged === null ? null : logBehindAnchorLine(log, { lsn: anchoredLsnOf(judged), file: judged.file, kind: judged.at ?? 'anchor' })
  if (behind !== null && judged !== null) {
    const unsaid = judged.ha === undefined || judged.durability === undefined
      ? ' (that line does not say how the gateway ran, an older build\'s: judged as a single node under durability fsync; on the data directory of an HA node or of durability none this is not a loss)'
      : ''
    report.problems.push(`LOG_BEHIND_ANCHOR: ${behind.message}${unsaid}`)
    report.ok = false
    return null
  }
  if (notJudged === null || anchoredLsnOf(notJudged.line) <= log.lastLsn) return null
  const beyond = `the log ends at LSN ${log.lastLsn}, the anchors file ${notJudged.line.file} names LSN ${anchoredLsnOf(notJudged.line)}`
  return `LOG_BEHIND_ANCHOR not judged: ${beyond}, ${notJudgedReason(notJudged.why)}`
}

/**
 * The data directory's anchors file holding lines that are not anchors: passed over as less evidence (the LOG_BEHIND_ANCHOR
 * judgment above uses the lines that are), said here so a garbage file is not read as a clean MATCH.
 */
function garbageAnchorsNote(dir: string): string | null {
  const path = anchorsPathOf(dir, undefined)
  const passedOver = [`${path}.1`, path].reduce((sum, file) => sum + anchorsFileTail(file).passedOver, 0)
  if (passedOver === 0) return null
  return `ANCHORS_INVALID not judged: ${passedOver} line(s) of ${path} (or its rotated .1) are not anchors and were passed over; \`egress audit verify --anchors ${path}\` refuses such a file`
}

/**
 * The snapshot file in DIR/snapshots that `--from` names by its name, path (relative or absolute) or LSN. One not
 * there is a mistake in the command (`--from 1200` for 12000), which could not run (1): it was reported as
 * DIFFERENCES FOUND, exit 65, the status an audit job takes for a problem in the data; an absolute path to one that
 * is there was not matched at all. A file that is there but fails verification is still 65.
 */
function snapshotFileNamed(dir: string, name: string): string {
  const snapshotsDir = join(dir, 'snapshots')
  let files: string[]
  try {
    files = readdirSync(snapshotsDir)
  } catch {
    files = []
  }
  const named = files.find((file) => {
    const lsn = parseSnapshotFileName(file)
    return lsn !== null && (file === name || String(lsn) === name || resolve(snapshotsDir, file) === resolve(name))
  })
  if (named === undefined) throw new Error(`--from ${name}: no snapshot of that file name or LSN in ${snapshotsDir}`)
  return named
}

/** The snapshots' seals: how many hold, which are unsealed, and whether the base's state is vouched for by one. */
function sealLines(report: CliReport): string[] {
  const seals = report.seals
  if (seals === null) return []
  const unsealed = seals.unsealed.length === 0 ? '' : ` (${seals.unsealed.slice(0, 3).join(', ')}${seals.unsealed.length > 3 ? ', …' : ''})`
  const base = report.base.sealed === null ? '' : `; the base is ${report.base.sealed ? 'sealed' : 'UNSEALED: its state rests on its own digest'}`
  return [`  seals      ${seals.sealed.length} snapshot(s) sealed (signatures ${seals.signaturesChecked ? 'verified' : 'NOT checked: no key'}), ${seals.unsealed.length} unsealed${unsealed}${base}`]
}

function summary(report: CliReport): string {
  const base = report.base.kind === 'genesis' ? 'genesis' : `snapshot ${report.base.file} (LSN ${report.base.lsn})`
  const lines = [
    `${report.ok ? 'MATCH' : 'DIFFERENCES FOUND'}: ${report.dir}`,
    `  log        LSN ${report.log.firstLsn}..${report.log.lastLsn}${report.log.firstLsn > 1 ? ' (compacted)' : ''}`,
    `  replay     from ${base}: ${report.replay.records.toLocaleString('en-US')} records in ${(report.replay.elapsedMs / 1000).toFixed(2)} s ` +
      `(${report.replay.recordsPerSec.toLocaleString('en-US')} records/s)`,
    `  chain      ${report.chain.ok ? `verified LSN ${report.chain.verifiedFromLsn}..${report.chain.verifiedToLsn}, head ${report.chain.head}` : 'NOT verified (see problems)'}`,
    `  state      digest ${report.finalDigest ?? '-'}`,
    ...sealLines(report),
  ]
  if (report.snapshots.length === 0) lines.push('  snapshots  none')
  for (const check of report.snapshots) {
    const digests = check.rebuiltDigest === null ? (check.snapshotDigest ?? '') : `snapshot ${check.snapshotDigest} rebuilt ${check.rebuiltDigest}`
    lines.push(`  snapshot   ${check.file} LSN ${check.lsn}: ${check.status.toUpperCase()}${check.problem === null ? '' : ` — ${check.problem}`} ${digests}`.trimEnd())
    for (const difference of check.differences) lines.push(`               ${difference}`)
  }
  const query = report.queryModel
  if (query === null || !query.compared) lines.push('  query      no stored query model and no back-office section: nothing to compare')
  else {
    lines.push(`  query      rebuilt from ${query.base.kind === 'genesis' ? 'genesis' : `the section at LSN ${query.base.lsn}`} in ${(query.elapsedMs / 1000).toFixed(2)} s`)
    for (const check of query.checks) {
      const digests = check.actualDigest === null ? '' : ` rebuilt ${check.expectedDigest} found ${check.actualDigest}`
      lines.push(`  query      ${check.source} LSN ${check.lsn}: ${check.status.toUpperCase()}${check.problem === null ? '' : ` — ${check.problem}`}${digests}`)
      for (const difference of check.differences) lines.push(`               ${difference}`)
    }
  }
  if (report.log.tornTail !== null) lines.push(`  torn tail  ${report.log.tornTail} — an incomplete write or a live copy, not an error`)
  for (const problem of report.problems) lines.push(`  PROBLEM    ${problem}`)
  for (const note of report.notes) lines.push(`  NOTE       ${note}`)
  lines.push(`  time       ${(report.elapsedMs / 1000).toFixed(2)} s`)
  return lines.join('\n')
}
