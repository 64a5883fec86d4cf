/**
 * `egress repair-tail [DIR] [--truncate-at-lsn N] [--dry-run] [--json]`: the operator's tool for a log whose open is
 * refused with FRAME_CORRUPT because of a hole in its last segment's tail (wal/tail-diagnosis.ts) that the open does
 * not cut itself as the batch in flight at a power cut (wal/lost-write.ts) — the refusal stays, this is the conscious
 * decision it asks for. Told to cut a log that opens, it has nothing to do: exit 0, NOTHING_TO_REPAIR on stdout. Without N (or with --dry-run) it only reads: what the damage is and what
 * a cut would discard. With N it cuts (wal/tail-repair.ts) under the data dir's lock and then the log's, refusing a
 * data dir an HA node left mid-swap (its log/ is not the data dir's log) and a cut below a snapshot's LSN (those
 * frames were durable: not a lost write). The removed bytes go to DIR/quarantine/, beside the log rather than in it.
 */

import { join } from 'node:path'
import { BACKUP_MANIFEST_FILE, backupManifestEnd } from '../runtime/backup/index.ts'
import { refuseInterruptedSwap } from '../runtime/ha/index.ts'
import { durableWitnessBeyond, judgedAnchorsEnd, snapshotsBeyond, storedQueryModelLsn } from '../runtime/index.ts'
import { logDirOf, STORED_QUERY_MODEL } from '../runtime/snapshot/index.ts'
import { checkCut, diagnoseTail, repairTail, WalRepairError, type CutPlan, type TailDiagnosis, type TailHole, type TailRepairResult } from '../../wal/index.ts'
import { EXIT_DATA_ERROR, EXIT_OK, integerOption, parseOptions, type CliIo, type Command } from './command.ts'
import { dataDirFrom, requireLogIn, withDataDirLock } from './data-dir.ts'

export const repairTailCommand: Command = {
  name: 'repair-tail',
  summary: 'diagnose (or, told where, cut) a hole in the log tail that refuses the log\'s open',
  help: `Usage: egress repair-tail [DIR] [--config FILE] [--truncate-at-lsn N] [--dry-run] [--json]

For a log that refuses to open with FRAME_CORRUPT because its last segment holds a hole — a zero-filled page (what
a power loss leaves of a write never synced) followed by CRC-valid frames. The open cuts such a hole itself only when
it can be the batch in flight at a power cut (within one batch's bytes of the end; the serve logs
LOG_TAIL_TRUNCATED); it refuses any other on purpose: the frames past it MAY HAVE BEEN ACKNOWLEDGED, and the log
never drops them on its own.

Without --truncate-at-lsn (or with --dry-run) nothing is changed: says whether the log opens and, for a hole, the
file, the offset of the cut, the last good LSN, the hole's extent, and the CRC-valid frames past it (count and LSN
range) — exactly what a cut would discard. With --truncate-at-lsn N, where N must be the last good LSN + 1 as
diagnosed, on the stopped data directory DIR (default: the config's dataDir): the bytes from the cut to the end of the
segment are copied to DIR/quarantine/<segment>.<offset>.tail (fsynced; keep it for the investigation), the segment
is cut there and fsynced, and the log is opened again with its whole chain verified. A cut interrupted (a crash)
after the quarantine file was written and before the cut is finished by running the same command again: a
quarantine file holding exactly the bytes the cut removes is kept as it is and the cut goes on.

Refused (exit 1, nothing changed): damage that is not such a hole — in a sealed segment (NOT_IN_LAST_SEGMENT), a
bad stretch without a zero page (NO_ZERO_PAGE: a bit flip or an edit), a chain break, a damaged header, an LSN gap
(NOT_A_TORN_TAIL) — which needs a human; an N that is not the diagnosed one (LSN_MISMATCH); a snapshot beyond the cut
(SNAPSHOT_BEYOND_CUT: those frames were durable) or a query model holding the log beyond it
(QUERY_MODEL_BEYOND_CUT: the back office writes only durable records) or an anchors file (DIR/audit/anchors.jsonl) naming an
LSN beyond it (ANCHOR_BEYOND_CUT: each line names a durable LSN) or a backup's DIR/BACKUP.json ending beyond it
(BACKUP_BEYOND_CUT: a copy of the backup cut short); an existing quarantine file with other content (QUARANTINE_EXISTS: never overwritten); a log or data
directory in use (LOG_LOCKED); a data directory an HA node left mid-swap (INTERRUPTED_SWAP).

Options:
  --config FILE          take the data directory from this config file (or EGRESS_CONFIG / EGRESS_DATA_DIR)
  --truncate-at-lsn N    cut the log so that LSN N and everything after it is removed (N = last good LSN + 1)
  --dry-run              with --truncate-at-lsn: check N and say what would be done; change nothing (refused,
                         exit 1, wherever the cut would be)
  --json                 print the result as JSON
  --help                 show this help

Exit codes: 0 the log opens (nothing to repair: a diagnosis, or told to cut a log that opens, NOTHING_TO_REPAIR on
stdout, nothing changed) or the cut was made and verified, 65 the log has a hole to cut (diagnosis, dry run), 1 refused
or could not run, 2 usage.`,
  run: runRepairTail,
}

async function runRepairTail(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseOptions(argv, {
    config: { type: 'string' },
    'truncate-at-lsn': { type: 'string' },
    'dry-run': { type: 'boolean' },
    json: { type: 'boolean' },
  })
  const dataDir = dataDirFrom(positionals, values.config, io)
  const raw = values['truncate-at-lsn']
  const truncateAtLsn = raw === undefined ? null : integerOption('truncate-at-lsn', raw, 0, [1, Number.MAX_SAFE_INTEGER])
  const dryRun = values['dry-run'] === true
  // A swap left half done is refused (not finished) before the log is looked for: its log/ may be missing, and "not a
  // data directory" would send the operator the wrong way. The cut checks again under the lock.
  refuseInterruptedSwap(dataDir, 'repair-tail')
  requireLogIn(dataDir)
  const quarantineDir = join(dataDir, 'quarantine')
  const beforeCut = (hole: TailHole): void => refuseDurableBeyond(dataDir, hole)
  if (truncateAtLsn === null || dryRun) {
    // Read-only: no lock is taken (nothing is written). A dry run meets every refusal the cut would (checkCut).
    const diagnosis = diagnoseTail(logDirOf(dataDir))
    const snapshotsPastCut = diagnosis.kind === 'hole' ? snapshotsBeyond(dataDir, diagnosis.hole.lastGoodLsn) : []
    const queryModelLsn = storedQueryModelLsn(dataDir)
    // The lines the cut is judged by (durable-witnesses.ts), so the diagnosis refuses what the cut would.
    const anchorsLsn = judgedAnchorsEnd(dataDir)?.lsn ?? null
    const backupLsn = backupManifestEnd(dataDir)
    if (truncateAtLsn !== null && diagnosis.kind === 'opens') return nothingToRepair(dataDir, { diagnosis, truncateAtLsn, dryRun, json: values.json === true }, io)
    const plan = truncateAtLsn === null ? null : checkCut(logDirOf(dataDir), diagnosis, { truncateAtLsn, quarantineDir, beforeCut })
    if (values.json === true) {
      const quarantine = plan === null ? {} : { wouldQuarantineTo: plan.quarantineFile, quarantineFound: plan.quarantined }
      io.out(JSON.stringify({ dataDir, dryRun, ...diagnosis, snapshotsBeyondCut: snapshotsPastCut, queryModelLsn, anchorsLsn, backupLsn, wouldQuarantineTo: null, ...quarantine }, null, 2))
    }
    else io.out(describeDiagnosis(dataDir, diagnosis, { snapshots: snapshotsPastCut, queryModelLsn, anchorsLsn, backupLsn }, plan))
    return diagnosis.kind === 'opens' ? EXIT_OK : EXIT_DATA_ERROR
  }
  let result: TailRepairResult
  try {
    result = await withDataDirLock(dataDir, () => {
      refuseInterruptedSwap(dataDir, 'repair-tail')
      return repairTail(logDirOf(dataDir), { truncateAtLsn, quarantineDir, beforeCut })
    })
  } catch (error) {
    if (!(error instanceof WalRepairError && error.code === 'NOTHING_TO_REPAIR')) throw error
    return nothingToRepair(dataDir, { diagnosis: diagnoseTail(logDirOf(dataDir)), truncateAtLsn, dryRun, json: values.json === true }, io)
  }
  io.out(values.json === true ? JSON.stringify({ dataDir, repaired: true, ...result }, null, 2) : describeRepair(result))
  return EXIT_OK
}

/**
 * Told to cut a log that opens (a cut run again, a tail the gateway's open already cut): there is nothing to do, so
 * that is done — exit 0, NOTHING_TO_REPAIR said on stdout with where the log ends, nothing changed.
 */
function nothingToRepair(dataDir: string, run: { diagnosis: TailDiagnosis; truncateAtLsn: number; dryRun: boolean; json: boolean }, io: CliIo): number {
  const { diagnosis, truncateAtLsn, dryRun } = run
  if (run.json) io.out(JSON.stringify({ dataDir, dryRun, ...diagnosis, repaired: false, nothingToRepair: true }, null, 2))
  else {
    const ends = diagnosis.kind === 'opens' ? ` (LSN ${diagnosis.firstLsn}..${diagnosis.lastLsn})` : ''
    io.out(`${describeDiagnosis(dataDir, diagnosis, { snapshots: [], queryModelLsn: null, anchorsLsn: null, backupLsn: null }, null)}\nNOTHING_TO_REPAIR: the log in ${dataDir} opens${ends}: there is no hole to cut at LSN ${truncateAtLsn}; nothing was changed`)
  }
  return EXIT_OK
}

/**
 * Refuses a cut whose frames the data dir shows were durable (durable-witnesses.ts): a snapshot beyond it, the anchors
 * file naming an LSN beyond it, the back office's query model holding the log past it, or a backup's manifest ending
 * past it. The diagnosis lists each (describeDiagnosis); the backup manifest was left out of it, and the diagnosis of
 * a backup cut short proposed the cut that BACKUP_BEYOND_CUT then refused.
 */
function refuseDurableBeyond(dataDir: string, hole: TailHole): void {
  const witness = durableWitnessBeyond(dataDir, hole.lastGoodLsn)
  if (witness === null) return
  switch (witness.kind) {
    case 'snapshot':
      throw new WalRepairError('SNAPSHOT_BEYOND_CUT', `${witness.files.join(', ')} in ${witness.dir} hold(s) state beyond LSN ${hole.lastGoodLsn}: the frames the cut would remove were durable, so this is not a lost write; this needs a human; nothing was changed`)
    case 'anchors':
      throw new WalRepairError('ANCHOR_BEYOND_CUT', `${witness.file} names LSN ${witness.lsn}, beyond LSN ${hole.lastGoodLsn}: every line of it names a durable LSN, so the frames the cut would remove were durable and this is not a lost write (a cut log would be refused at start: LOG_BEHIND_ANCHOR); this needs a human (only for a log written with durability none is it no proof: nothing was synced, so the anchors file may be moved aside); nothing was changed`)
    case 'query_model':
      throw new WalRepairError('QUERY_MODEL_BEYOND_CUT', `${witness.file} holds the log through LSN ${witness.lsn}, beyond LSN ${hole.lastGoodLsn}: the back office writes only durable records, so the frames the cut would remove were durable and this is not a lost write; this needs a human (only for a log written with durability none is it no proof: a start rebuilds the query model from the log, so it may be moved aside); nothing was changed`)
    case 'backup':
      throw new WalRepairError('BACKUP_BEYOND_CUT', `${witness.file} says this backup holds the log through LSN ${witness.lsn}, beyond LSN ${hole.lastGoodLsn}: \`egress backup\` wrote it once every frame to there was fsynced and verified, so the frames the cut would remove were there (a copy of the backup cut short or damaged); copy the backup again; nothing was changed`)
  }
}

function describeHole(hole: TailHole): string[] {
  const { beyond } = hole
  const lost = beyond.firstLsn > hole.lastGoodLsn + 1 ? `; LSN ${hole.lastGoodLsn + 1}..${beyond.firstLsn - 1} lay in the hole` : ''
  return [
    `  file        ${hole.file} (${hole.segmentBytes.toLocaleString('en-US')} bytes, the last segment)`,
    `  refusal     ${hole.refusal}`,
    `  last good   LSN ${hole.lastGoodLsn}, ending at offset ${hole.cutOffsetBytes} (chain head ${hole.chainHeadAfterCut}, verified)`,
    `  hole        bad bytes ${hole.cutOffsetBytes}..${hole.damagedEndBytes}, zero-filled ${hole.zeroFromBytes}..${hole.zeroToBytes}`,
    `  beyond      ${beyond.frameCount} CRC-valid frame(s), LSN ${beyond.firstLsn}..${beyond.lastLsn}${lost}`,
    `  a cut       removes ${hole.discardedBytes.toLocaleString('en-US')} bytes (offset ${hole.cutOffsetBytes} to the end) and every LSN from ${hole.lastGoodLsn + 1} on`,
  ]
}

function describeDiagnosis(dataDir: string, diagnosis: TailDiagnosis, durable: { snapshots: string[]; queryModelLsn: number | null; anchorsLsn: number | null; backupLsn: number | null }, plan: CutPlan | null): string {
  const snapshotsBeyond = durable.snapshots
  if (diagnosis.kind === 'opens') {
    const tail = diagnosis.tornTail
    const hole = tail !== null && tail.validFramesRemoved > 0 ? `, ${tail.validFramesRemoved} CRC-valid frame(s) past a hole with it (a power cut's lost write of the batch in flight)` : ''
    const append = tail !== null && tail.appendFramesRemoved > 0 ? `, ${tail.appendFramesRemoved} whole frame(s) of an append whose last frame never reached the disk with it` : ''
    const torn = tail === null ? '' : `; its open truncates a torn tail of ${tail.removedBytes} bytes at offset ${tail.offsetBytes} of ${tail.file}, LSN ${tail.lsn} on${hole}${append} (never acknowledged)`
    return `the log in ${dataDir} opens: LSN ${diagnosis.firstLsn}..${diagnosis.lastLsn}, chain verified${torn}; nothing to repair`
  }
  const { hole } = diagnosis
  const lines = [`HOLE IN THE LOG TAIL: the log in ${dataDir} does not open`, ...describeHole(hole)]
  lines.push('  WARNING     the frames past the hole may have been acknowledged to clients; a cut loses them (the quarantine file keeps their bytes)')
  if (snapshotsBeyond.length > 0) lines.push(`  REFUSED     a cut would be refused: snapshot(s) beyond LSN ${hole.lastGoodLsn} (${snapshotsBeyond.join(', ')}) — those frames were durable`)
  if (durable.queryModelLsn !== null && durable.queryModelLsn > hole.lastGoodLsn) {
    lines.push(`  REFUSED     a cut would be refused: the query model (${STORED_QUERY_MODEL}) holds the log through LSN ${durable.queryModelLsn} — those frames were durable`)
  }
  if (durable.anchorsLsn !== null && durable.anchorsLsn > hole.lastGoodLsn) {
    lines.push(`  REFUSED     a cut would be refused: the anchors file names LSN ${durable.anchorsLsn} — those frames were durable`)
  }
  if (durable.backupLsn !== null && durable.backupLsn > hole.lastGoodLsn) {
    lines.push(`  REFUSED     a cut would be refused: the backup manifest (${BACKUP_MANIFEST_FILE}) says the copy holds the log through LSN ${durable.backupLsn} — a copy of the backup cut short or damaged`)
  }
  if (plan === null) lines.push(`  to cut      egress repair-tail ${dataDir} --truncate-at-lsn ${hole.lastGoodLsn + 1}  (stop the gateway first; keep the quarantine file)`)
  else if (plan.quarantined) lines.push(`  dry run     ${plan.quarantineFile} already holds exactly the removed bytes (a cut interrupted before it cut): would sync it, cut ${hole.file} at offset ${hole.cutOffsetBytes} and verify; nothing was changed`)
  else lines.push(`  dry run     would copy the removed bytes to ${plan.quarantineFile}, cut ${hole.file} at offset ${hole.cutOffsetBytes} and verify; nothing was changed`)
  return lines.join('\n')
}

function describeRepair(result: TailRepairResult): string {
  const { hole } = result
  return [
    `CUT: ${hole.file} truncated at offset ${hole.cutOffsetBytes}; the log now ends at LSN ${result.lastLsn} (chain head ${result.chainHead}, whole chain verified)`,
    ...describeHole(hole),
    `  quarantine  ${result.quarantineFile} holds the ${hole.discardedBytes.toLocaleString('en-US')} removed bytes (fsynced${result.quarantineFound ? '; found there from an interrupted cut, identical, and finished' : ''}): keep it for the investigation`,
    `  WARNING     LSN ${hole.lastGoodLsn + 1} on may have been acknowledged: reconcile with the venues and clients before trading`,
  ].join('\n')
}
