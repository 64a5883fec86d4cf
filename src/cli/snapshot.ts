/**
 * `egress snapshot [DIR]`: writes a snapshot of a stopped data directory — the newest valid snapshot (or genesis) plus
 * the log after it, folded and written crash-safely into DIR/snapshots. For a running gateway use the admin endpoint.
 * A swap an HA node left half done is finished first, as a gateway start would (src/runtime/ha/interrupted-swaps.ts):
 * this command writes DIR anyway, and the log it must read is the one the finished swap puts in place. Only under the
 * data dir's lock (data-dir-lock.ts): a running HA node holds it, and its swap in progress is never touched.
 */

import { existsSync, readdirSync } from 'node:fs'
import {
  keyResolverOf, loadSigningKey, localSealKeyPaths, signSnapshotSeal, verifyingKeySource, type SealKeyResolver, type SealSigningKey,
  type SnapshotSealClaims,
} from '../audit/index.ts'
import { CONFIG_PATH_ENV } from '../config/index.ts'
import { finishInterruptedSwaps } from '../runtime/ha/index.ts'
import { nodeIo } from '../../wal/index.ts'
import {
  parseSnapshotFileName, sealVerdicts, snapshotDirOf, snapshotOffline, snapshotOfflineSealed, SnapshotStore, describeRejection, type SnapshotSealVerdicts,
} from '../runtime/snapshot/index.ts'
import { EXIT_OK, integerOption, parseOptions, type CliIo, type Command } from './command.ts'
import { offlineTarget, progressLine, withDataDirLock } from './data-dir.ts'

export const snapshotCommand: Command = {
  name: 'snapshot',
  summary: 'write a snapshot of the projections of a stopped data directory',
  help: `Usage: egress snapshot [DIR] [--config FILE] [--keep N] [--json]

Rebuilds the kernel state of the stopped data directory DIR (default: the config's dataDir) from its newest valid
snapshot plus the log after it (or from the log alone) and writes a snapshot at the last LSN into DIR/snapshots:
temp file, fsync, rename, directory fsync, then the manifest. Keeps the newest N snapshots. Snapshots that fail
verification are reported and never used. Do not run it while a gateway writes DIR: a running gateway snapshots
itself (periodically, at shutdown, and on POST /v1/admin/snapshot). A swap of log/ and snapshots/ an HA node left
half done (a crash while it kept a diverged log's shared part or recovered from a snapshot) is finished first, as
"egress serve" would, and said so on stderr.

The snapshot is sealed (DIR/snapshots/snapshot-N.snap.seal: its LSN, chain head and content digest signed) with the
config's audit.signingKeyFile, or with none configured the data directory's local seal key
(DIR/audit/seal-ed25519.private.jwk.json) when it has one, as the gateway would seal it; with neither it is written
unsealed, and said so ("egress audit verify" and "egress replay-verify" report it unsealed).

Options:
  --config FILE   take the data directory from this config file (or EGRESS_CONFIG / EGRESS_DATA_DIR)
  --keep N        snapshots to retain, 1..100 (default: the config's snapshots.keep; with no config, 3 or all DIR holds and the new one)
  --json          print the result as JSON
  --help          show this help

Refused, as "egress serve" refuses the start, with nothing written: an intact snapshot beyond the log's end
(LOG_BEHIND_SNAPSHOT: the log lost durable records), a snapshots path that is not a directory (SNAPSHOT_DIR_UNUSABLE),
a query model DIR/backoffice.sqlite that is no usable store (QUERY_MODEL_UNREADABLE: move it aside with its -wal and
-shm files) or that holds the log beyond its end (QUERY_MODEL_BEYOND_LOG: the log lost durable records; not checked
when the config's wal.durability is "none"; on an HA node's data dir after a re-sync, move it aside: a start rebuilds it).

Exit codes: 0 written (or already current), 1 could not run or refused, 2 usage.`,
  run: runSnapshot,
}

async function runSnapshot(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseOptions(argv, { config: { type: 'string' }, keep: { type: 'string' }, json: { type: 'boolean' } })
  const { dataDir, snapshots, refuseQueryModelBeyondLog, signingKeyFile, publicKeyFile } = offlineTarget(positionals, values.config, io)
  // With neither --keep nor a config, nothing that is there is pruned: run without the gateway's config (its keep 10,
  // say), the default 3 pruned snapshots the gateway keeps (the gateway prunes to its own keep at its next snapshot).
  const configGiven = values.config !== undefined || (io.env[CONFIG_PATH_ENV] ?? '') !== ''
  const keep = values.keep === undefined && !configGiven ? Math.min(100, Math.max(snapshots.keep, snapshotsIn(dataDir) + 1)) : integerOption('keep', values.keep, snapshots.keep, [1, 100])
  const progress = progressLine(io, 'snapshot')
  const { result, signer } = await withDataDirLock(dataDir, async () => {
    finishInterruptedSwaps(dataDir, (line) => io.err(line), 'before the offline snapshot')
    const signer = await sealSignerOf(signingKeyFile, dataDir)
    // As a start does: a snapshot whose seal does not hold (checked with the start's keys, if any) is not folded from.
    const seals = await snapshotSeals(dataDir, await startSealKeys({ signingKeyFile, publicKeyFile }, dataDir))
    const options = { keep, nowMs: Date.now(), refuseQueryModelBeyondLog, onProgress: progress, ...seals }
    if (signer === null) return { result: snapshotOffline(dataDir, options), signer }
    const sealWith = (snapshot: Omit<SnapshotSealClaims, 'sealedAtMs'>) => signSnapshotSeal({ ...snapshot, sealedAtMs: Date.now() }, signer)
    return { result: await snapshotOfflineSealed(dataDir, { ...options, sealWith }), signer }
  })
  for (const rejected of result.rejected) io.err(describeRejection(rejected))
  if (values.json === true) {
    io.out(JSON.stringify({ dataDir, ...result, sealed: result.written === null ? null : signer !== null }, null, 2))
    return EXIT_OK
  }
  const from = result.baseLsn === 0 ? 'genesis' : `snapshot at LSN ${result.baseLsn}`
  io.out(result.written === null
    ? `snapshot already current at LSN ${result.lsn} (${dataDir}); nothing written`
    : `snapshot ${result.written.file} written: LSN ${result.lsn}, ${result.written.bytes.toLocaleString('en-US')} bytes, digest ${result.written.digest}; ` +
      `rebuilt from ${from} + ${result.replayedRecords.toLocaleString('en-US')} records in ${Math.round(result.elapsedMs)} ms`)
  if (result.written !== null) {
    io.out('missing' in result.backOffice ? `back office: not in this snapshot — ${result.backOffice.missing}` : `back office: ledger and query model at LSN ${result.backOffice.lsn} included`)
    io.out(signer === null ? 'seal: none — no seal key (audit.signingKeyFile, or the data directory\'s local key): written unsealed' : `seal: signed with key ${signer.kid}`)
  }
  return EXIT_OK
}

/** The seal key (the config's audit.signingKeyFile, else the data directory's local key when it has one, else none). */
async function sealSignerOf(signingKeyFile: string | undefined, dataDir: string): Promise<SealSigningKey | null> {
  const path = signingKeyFile ?? localSealKeyPaths(dataDir).privatePath
  if (signingKeyFile === undefined && !existsSync(path)) return null
  return loadSigningKey(path)
}

/**
 * The keys a start checks the snapshots' seals with (gateway-restore.ts restoreOrClose, verifyingKeySource): the
 * config's audit.publicKeyFile (a rotation's JWKS, say), else the public half of its signing key, else of the data
 * directory's local key when it has one (a single node's start signs with it: withLocalSealKey), else none. Checked
 * with the signing key alone, a seal of a key only publicKeyFile holds was read for its claims (its signature damaged
 * or not), and compact took for its basis a snapshot the next start refused.
 */
export async function startSealKeys(keyFiles: { signingKeyFile: string | undefined; publicKeyFile: string | undefined }, dataDir: string): Promise<SealKeyResolver | null> {
  const local = localSealKeyPaths(dataDir).privatePath
  const signingKeyFile = keyFiles.signingKeyFile ?? (existsSync(local) ? local : undefined)
  const source = await verifyingKeySource({
    ...(keyFiles.publicKeyFile === undefined ? {} : { publicKeyFile: keyFiles.publicKeyFile }),
    ...(signingKeyFile === undefined ? {} : { signingKeyFile }),
  })
  return source === null ? null : keyResolverOf(source)
}

/** The snapshots' seals before the rebuild; none when the directory cannot be listed (the rebuild refuses it, saying why). */
export async function snapshotSeals(dataDir: string, keys: SealKeyResolver | null): Promise<{ seals?: SnapshotSealVerdicts }> {
  try {
    return { seals: await sealVerdicts(new SnapshotStore(snapshotDirOf(dataDir), { io: nodeIo, keep: 100 }), keys, { unknownKey: 'unverified' }) }
  } catch {
    return {}
  }
}

/** How many snapshot files DIR/snapshots holds (none when it cannot be read: the snapshot itself says why). */
function snapshotsIn(dataDir: string): number {
  try {
    return readdirSync(snapshotDirOf(dataDir)).filter((name) => parseSnapshotFileName(name) !== null).length
  } catch {
    return 0
  }
}
