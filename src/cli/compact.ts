/**
 * `egress compact [DIR]`: moves (or deletes) log segments wholly below the oldest retained valid snapshot of a stopped
 * data directory. The segment holding that snapshot's LSN stays, so its chain head remains checkable against the log.
 * A swap an HA node left half done is finished first (src/runtime/ha/interrupted-swaps.ts): opened as it is, a
 * missing log/ would be created empty, and the swap could then never finish; with --dry-run, which changes nothing,
 * such a data dir is refused (INTERRUPTED_SWAP). Both only under the data dir's lock (data-dir-lock.ts): a running HA
 * node holds it, and its swap in progress is never finished or rolled back under it.
 */

import { existsSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { finishInterruptedSwaps, refuseInterruptedSwap } from '../runtime/ha/index.ts'
import { tailCutGuardOf } from '../runtime/index.ts'
import { compactOffline } from '../runtime/snapshot/index.ts'
import { EXIT_DATA_ERROR, EXIT_OK, parseOptions, UsageError, type CliIo, type Command } from './command.ts'
import { offlineTarget, withDataDirLock, withDataDirLockIfKept } from './data-dir.ts'
import { snapshotSeals, startSealKeys } from './snapshot.ts'

export const compactCommand: Command = {
  name: 'compact',
  summary: 'archive or delete log segments older than the oldest valid snapshot',
  help: `Usage: egress compact [DIR] [--config FILE] [--archive ARCHIVE_DIR | --delete] [--dry-run] [--json]

On the stopped data directory DIR (default: the config's dataDir), finds the oldest retained snapshot that passes
verification (digest, schema, chain head against the log) and removes every log segment wholly below its LSN: moved
to ARCHIVE_DIR (default: the config's snapshots.archiveDir, else DIR/archive) or, with --delete (or the config's
snapshots.compaction "delete"), deleted. Afterwards the log starts at the first remaining
segment, whose header carries the chain head before it; restart and replay-verify start from a snapshot. A swap of
log/ and snapshots/ an HA node left half done is finished first, as "egress serve" would (with --dry-run it is
refused instead: INTERRUPTED_SWAP).

Options:
  --config FILE         take the data directory from this config file (or EGRESS_CONFIG / EGRESS_DATA_DIR)
  --archive ARCHIVE_DIR move removed segments here (default DIR/archive)
  --delete              delete removed segments instead of archiving them
  --dry-run             report what would be removed (and a torn tail the run would cut); change nothing
  --json                print the result as JSON
  --help                show this help

Refused, as "egress serve" refuses the start, with nothing removed: an intact snapshot beyond the log's end
(LOG_BEHIND_SNAPSHOT: the log lost durable records), a snapshots path that is not a directory (SNAPSHOT_DIR_UNUSABLE),
a query model DIR/backoffice.sqlite that is no usable store (QUERY_MODEL_UNREADABLE: move it aside with its -wal and
-shm files) or that holds the log beyond its end (QUERY_MODEL_BEYOND_LOG: the log lost durable records; not checked
when the config's wal.durability is "none"; on an HA node's data dir after a re-sync, move it aside: a start rebuilds it),
a last segment damaged past its last whole frame where a snapshot, the anchors file or the query model shows those
records were durable (LOG_TAIL_DURABLE: nothing cut; a torn tail it does cut is kept in DIR/quarantine/ first).
An archived segment is never replaced: one of that name in ARCHIVE_DIR with other bytes (another log's) stops the
compaction there (ARCHIVE_SEGMENT_EXISTS, exit 1, the segment left in the log).

Exit codes: 0 done (also when there was nothing to remove), 65 a snapshot failed verification (reported; compaction
used the oldest valid one, or removed nothing), 1 could not run or refused, 2 usage.`,
  run: runCompact,
}

async function runCompact(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseOptions(argv, {
    config: { type: 'string' },
    archive: { type: 'string' },
    delete: { type: 'boolean' },
    'dry-run': { type: 'boolean' },
    json: { type: 'boolean' },
  })
  if (values.delete === true && values.archive !== undefined) throw new UsageError('give --archive or --delete, not both')
  // An empty DIR (`--archive "$ARCHIVE"` with the variable unset) failed only at the move, as a raw "ENOENT, mkdir ''".
  if (values.archive === '') throw new UsageError('--archive: expected a directory, got ""')
  // A file there failed only at the first segment moved, as node's "EEXIST: file already exists, mkdir …" (and a
  // compaction with nothing to move said "archived to" the file, exit 0).
  if (values.archive !== undefined && existsSync(values.archive) && !statSync(values.archive).isDirectory()) {
    throw new UsageError(`--archive: expected a directory, got ${JSON.stringify(values.archive)}: a file`)
  }
  const { dataDir, snapshots, refuseQueryModelBeyondLog, durability, anchorsFile, signingKeyFile, publicKeyFile } = offlineTarget(positionals, values.config, io)
  // As a single node's start cuts a torn tail (durable-witnesses.ts): refused where the data dir shows it was durable.
  const tailCut = tailCutGuardOf(dataDir, { anchorsFile, durability })
  const mode = values.delete === true || (values.archive === undefined && snapshots.compaction === 'delete') ? 'delete' : 'archive'
  const archiveDir = mode === 'archive' ? (values.archive ?? snapshots.archiveDir ?? join(dataDir, 'archive')) : null
  const dryRun = values['dry-run'] === true
  // A dry run finishes no swap (it refuses one), but its open of the log takes the log's lock, which an HA node's
  // gateway start (a takeover, following again after a re-sync) then finds taken: so it holds the data dir's lock too,
  // which a running node holds all along — when the lock file exists (a dir no node or serve ever ran on is not given
  // one: a dry run creates nothing). A compaction finishes swaps only once it holds the data dir's lock.
  let result: Awaited<ReturnType<typeof compactOffline>>
  if (dryRun) {
    result = await withDataDirLockIfKept(dataDir, async () => {
      refuseInterruptedSwap(dataDir, 'compact --dry-run')
      const seals = await snapshotSeals(dataDir, await startSealKeys({ signingKeyFile, publicKeyFile }, dataDir))
      return compactOffline(dataDir, { mode, archiveDir, keep: snapshots.keep, dryRun, refuseQueryModelBeyondLog, log: (line) => io.err(line), tailCut, ...seals })
    })
  } else {
    result = await withDataDirLock(dataDir, async () => {
      finishInterruptedSwaps(dataDir, (line) => io.err(line), 'before compacting')
      // As a start checks them, with its keys: a snapshot whose seal does not hold is no basis (compact.ts CompactOptions.seals).
      const seals = await snapshotSeals(dataDir, await startSealKeys({ signingKeyFile, publicKeyFile }, dataDir))
      return compactOffline(dataDir, { mode, archiveDir, keep: snapshots.keep, dryRun, refuseQueryModelBeyondLog, log: (line) => io.err(line), tailCut, ...seals })
    })
  }
  for (const rejected of result.rejected) io.err(`snapshot ${rejected.file} not used: ${rejected.code}: ${rejected.message}`)
  if (values.json === true) io.out(JSON.stringify({ dataDir, dryRun, ...result }, null, 2))
  else if (result.basis === null) io.out(`nothing to compact in ${dataDir}: no valid snapshot`)
  else {
    const basis = `${result.basis.file} (LSN ${result.basis.lsn}, chain head ${result.basis.chainHead})`
    // A dry run says what a run would do, not "compacted" with the log's present start as where it would start.
    if (dryRun) {
      io.out(`would compact below ${basis}: ${result.removed.length} segment(s) would be ${mode === 'archive' ? `archived to ${archiveDir}` : 'deleted'}; ` +
        `the log would start at LSN ${result.firstLsnAfter} (now ${result.firstLsnBefore}); nothing was changed`)
    } else {
      const verb = mode === 'archive' ? `archived to ${archiveDir}` : 'deleted'
      io.out(`compacted below ${basis}: ${result.removed.length} segment(s) ${verb}; log starts at LSN ${result.firstLsnAfter} (was ${result.firstLsnBefore})`)
    }
  }
  return result.rejected.length > 0 ? EXIT_DATA_ERROR : EXIT_OK
}
