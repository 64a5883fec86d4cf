/**
 * `egress backup --from URL --out DIR`: a consistent copy of a running leader's data, taken over its replication
 * routes with the standby's own client code, without stopping it or touching its HA:
 *
 *   1. where the leader's log ends now (source.ts) — the backup's end, unless --to-lsn names an earlier one (or, with
 *      no --to-lsn, the snapshot of step 2 was taken after it: the end is then the snapshot's LSN, or its back-office
 *      section's when later);
 *   2. the leader's newest snapshot (`fetchLeaderSnapshot`, digest and framing checked; skipped with --whole-log, or
 *      when it or its back-office section lies beyond the end, or the leader has none): the new log is anchored at its
 *      LSN (`startAnchoredLog`, the shape of a compacted log), otherwise it starts at LSN 1;
 *   3. the frames from there to the end (`pullFrames`: every frame's CRC, LSN and chain checked by `Wal.appendFrames`
 *      before it is written; the log ends exactly at the end, or at the end of the decision holding it), and the
 *      snapshot's chain head checked against the frame at its LSN. A leader that compacted past the snapshot in the
 *      meantime (compaction-race.ts) makes steps 2 and 3 start over once, from its newest snapshot;
 *   4. the snapshot written beside the log, with its seal when the leader sent one (fetchLeaderSnapshot refuses one
 *      that does not describe the file: BACKUP_SNAPSHOT_INVALID, never copied, never dropped), everything fsynced,
 *      then replay-verify's checks run on the copy, the seal's structure and claims with them (no key here: its
 *      signature is for `egress audit verify` and a start, with the keys);
 *   5. only then the copy is renamed to DIR (out-dir.ts). Any failure removes it: DIR is never half written.
 *
 * What it never does: send `POST /replication/ack` (a leader in synchronous mode counts acknowledgements, and a copy
 * must not release its 202s), take or read the lease, or write anything on the leader. The leader sees two reads.
 */

import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { defaultWalOptions, nodeIo, WalFatalError, WalReplicationError, Wal, isSyncFailure, toHex } from '../../../wal/index.ts'
import { fetchLeaderSnapshot, PullEndedError, pullFrames, SnapshotRecoveryError, snapshotToWrite, startAnchoredLog, type LeaderAccess, type LeaderSnapshot } from '../ha/index.ts'
import { snapshotSectionLsn } from '../../backoffice/section.ts'
import { replayVerify, sealVerdicts, snapshotDirOf, SnapshotStore } from '../snapshot/index.ts'
import { BackupError } from './backup-error.ts'
import { compactionRaceOf, LeaderCompactedError } from './compaction-race.ts'
import { writeBackupManifest } from './manifest.ts'
import { checkOutDir, discardBuild, makeBuildDir, publishBuild } from './out-dir.ts'
import { resolveSource } from './source.ts'

export interface BackupOptions {
  /** The source node's base URL (checked: source-url.ts). */
  fromUrl: string
  out: string
  /** The nodes' replication token. */
  token: string
  /** End here instead of at the leader's log end (rounded up to the end of the decision holding it). */
  toLsn: number | null
  /** Copy the whole log from LSN 1 and no snapshot. */
  wholeLog: boolean
  /** How long the source may stay silent (each request, each wait for stream bytes). */
  timeoutMs: number
  snapshotBytesMax: number
  envelopeBytesMax: number
  /** Progress and notes, one line each (the CLI's stderr). */
  log: (line: string) => void
  /** Aborted (a signal), the backup stops: BACKUP_INTERRUPTED, nothing left. */
  signal?: AbortSignal
}

export interface BackupReport {
  ok: true
  out: string
  source: string
  /** The leader's last LSN when the backup started. */
  leaderLastLsnAtStart: number
  firstLsn: number
  lastLsn: number
  chainHead: string
  /** `sealed`: the leader's seal of it was copied beside it (snapshot-<lsn>.snap.seal). */
  snapshot: { lsn: number; digest: string; sealed: boolean } | null
  /** Bytes received over the stream and the snapshot's. */
  bytesReceived: number
  durationMs: number
  verified: true
}

/** Bytes of stream between two progress lines at most (and at least a second between them). */
const PROGRESS_EVERY_MS = 1_000

export async function takeBackup(options: BackupOptions): Promise<BackupReport> {
  const started = performance.now()
  checkOutDir(options.out)
  const source = await resolveSource(options.fromUrl, options.token, options.timeoutMs, options.signal)
  if (source.askedFirst !== null) options.log(`backup: ${source.askedFirst} is not the leader; copying from the leader it names, ${source.leaderUrl}`)
  if (source.lastLsn === 0) throw new BackupError('BACKUP_TO_LSN_BEYOND_LOG', `the leader at ${source.leaderUrl} holds no records yet: nothing to back up`)
  if (options.toLsn !== null && options.toLsn > source.lastLsn) {
    throw new BackupError('BACKUP_TO_LSN_BEYOND_LOG', `--to-lsn ${options.toLsn} is beyond the leader's log end, LSN ${source.lastLsn}`)
  }
  options.log(`backup: copying ${source.leaderUrl} through LSN ${options.toLsn ?? source.lastLsn} (its log ends at ${source.lastLsn})`)
  const access = { leaderUrl: source.leaderUrl, token: options.token, timeoutMs: options.timeoutMs, ...(options.signal === undefined ? {} : { stopSignal: options.signal }) }
  const buildDir = makeBuildDir(options.out, options.log)
  const build = buildDir.path
  try {
    const { snapshot, lastLsn, firstLsn, chainHead, bytesReceived } = await copyLogRetrying(build, access, source.lastLsn, options)
    if (snapshot !== null) {
      local('writing the snapshot', () => new SnapshotStore(join(build, 'snapshots'), { io: nodeIo, keep: 3 }).write(snapshotToWrite(snapshot)))
      if (snapshot.seal === null) options.log(`backup: the leader's snapshot at LSN ${snapshot.lsn} is unsealed (the leader holds no seal key, or an older build): nothing but its digest vouches for the copy's base`)
    }
    options.log(`backup: LSN ${firstLsn}..${lastLsn} received; verifying the copy as replay-verify does`)
    await verify(build, lastLsn)
    // Where the copy ends, kept in it: a copy of DIR cut short passed replay-verify, having nothing to compare with.
    const snapshotUsed = snapshot === null ? null : { lsn: snapshot.lsn, digest: snapshot.content.digest, sealed: snapshot.seal !== null }
    local('writing the backup manifest', () => writeBackupManifest(build, { format: 1, source: source.leaderUrl, firstLsn, lastLsn, chainHead, snapshot: snapshotUsed }))
    // A signal during the verification (synchronous) is seen only now: the copy is not published after it.
    if (options.signal?.aborted === true) throw new BackupError('BACKUP_INTERRUPTED', 'stopped by a signal before the copy was published; nothing was written')
    publishBuild(buildDir, options.out)
    return { ok: true, out: options.out, source: source.leaderUrl, leaderLastLsnAtStart: source.lastLsn, firstLsn, lastLsn, chainHead, snapshot: snapshotUsed, bytesReceived, durationMs: Math.round(performance.now() - started), verified: true }
  } catch (error) {
    discardBuild(buildDir)
    throw backupErrorOf(error, options.signal)
  }
}

/** The log copied into the build directory (closed), and the snapshot it starts at (not written yet). */
interface CopiedLog {
  snapshot: LeaderSnapshot | null
  firstLsn: number
  lastLsn: number
  chainHead: string
  bytesReceived: number
}

/**
 * Copies the log (steps 2 and 3), starting once more from a freshly fetched snapshot if the leader compacted past the
 * first one while the backup ran (compaction-race.ts): the partial log is removed and the copy starts over in the same
 * build directory, which is published only once complete. Only with neither --whole-log nor --to-lsn: those ask for
 * records the leader may no longer hold, which no newer snapshot gives back (BACKUP_RANGE_UNAVAILABLE).
 */
async function copyLogRetrying(build: string, access: LeaderAccess, leaderLastLsn: number, options: BackupOptions): Promise<CopiedLog> {
  const logDir = join(build, 'log')
  for (let attempt = 1; ; attempt++) {
    try {
      return await copyLog(logDir, access, leaderLastLsn, options)
    } catch (error) {
      if (!(error instanceof LeaderCompactedError)) throw error
      if (options.wholeLog || options.toLsn !== null) throw rangeUnavailable(error, options)
      if (attempt >= COPY_ATTEMPTS_MAX) {
        throw new BackupError(
          'BACKUP_SOURCE_COMPACTING',
          `the leader at ${access.leaderUrl} compacted its log past the backup's snapshot while the backup ran, ${COPY_ATTEMPTS_MAX} times (last: it no longer holds LSN ${error.neededLsn}): nothing is corrupt; run the backup again, at a quieter moment or with the leader's compaction paused (snapshots.compaction "off") while it runs`,
        )
      }
      options.log(`backup: the leader compacted its log past LSN ${error.neededLsn} while the backup ran; discarding the partial copy and starting again from its newest snapshot`)
      local('discarding the partial log', () => rmSync(logDir, { recursive: true, force: true }))
    }
  }
}

/** Copies, then starts again once on a compaction race (copyLogRetrying): at most this many copies. */
const COPY_ATTEMPTS_MAX = 2

/**
 * One copy of the log into `logDir` (absent): from the leader's newest snapshot (unless --whole-log) to the end. A
 * refusal that is a compaction race (compaction-race.ts) is thrown as LeaderCompactedError; the log is closed either way.
 */
async function copyLog(logDir: string, access: LeaderAccess, leaderLastLsn: number, options: BackupOptions): Promise<CopiedLog> {
  let endLsn = options.toLsn ?? leaderLastLsn
  const snapshot = options.wholeLog ? null : await usableSnapshot(access, endLsn, options)
  // With no --to-lsn, a snapshot the leader took after its end was read (it keeps trading) moves the end to it: the
  // log before that snapshot may be compacted already, and the leader's log holds every record through its LSN.
  if (snapshot !== null) endLsn = Math.max(endLsn, snapshotThroughLsn(snapshot))
  if (snapshot !== null) local('anchoring the log', () => startAnchoredLog(logDir, { firstLsn: snapshot.lsn, previousHash: snapshot.chainBefore }))
  // An envelope is appended as one batch: the batch bound must hold the largest envelope accepted.
  const wal = local('opening the log', () => Wal.openReplica(logDir, { batchBytesMax: Math.max(defaultWalOptions.batchBytesMax, options.envelopeBytesMax) }))
  let lastLsn: number
  let bytesReceived = snapshot?.bytes.byteLength ?? 0
  try {
    let shownAt = performance.now()
    lastLsn = await pullFrames(wal, { ...access, envelopeBytesMax: options.envelopeBytesMax }, {
      throughLsn: endLsn,
      exact: true,
      timeout: 'silence',
      onEnvelope: (progress) => {
        bytesReceived = (snapshot?.bytes.byteLength ?? 0) + progress.bytesReceived
        if (performance.now() - shownAt < PROGRESS_EVERY_MS) return
        shownAt = performance.now()
        options.log(`backup: LSN ${progress.lastLsn} of ${endLsn} (${(bytesReceived / 1024 / 1024).toFixed(1)} MiB received)`)
      },
    })
    if (snapshot !== null) checkSnapshotHead(wal, snapshot)
  } catch (error) {
    const race = options.signal?.aborted === true ? null : await compactionRaceOf(error, wal, access)
    await wal.close().catch(() => {})
    throw race ?? error
  }
  const copied = { snapshot, firstLsn: wal.firstLsn, lastLsn, chainHead: toHex(wal.chainHead), bytesReceived }
  await wal.close().catch((error: unknown) => {
    throw new BackupError('BACKUP_WRITE_FAILED', `closing the log: ${error instanceof Error ? error.message : String(error)}`)
  })
  return copied
}

/**
 * The leader compacted below records --whole-log or --to-lsn asks for. What to do depends on what was given: never
 * "drop --whole-log" to one who did not give it.
 */
function rangeUnavailable(error: LeaderCompactedError, options: BackupOptions): BackupError {
  if (options.wholeLog) {
    return new BackupError('BACKUP_RANGE_UNAVAILABLE', `${error.message}: the leader has compacted its log below the records needed; back up without --whole-log or a --to-lsn before its snapshot`)
  }
  return new BackupError(
    'BACKUP_RANGE_UNAVAILABLE',
    `${error.message}: the leader has compacted its log below the records needed (LSN ${error.neededLsn}) for --to-lsn ${options.toLsn}; back up without --to-lsn, or with a --to-lsn at or after the leader's newest snapshot`,
  )
}

/**
 * The leader's newest snapshot if it is at or before `endLsn` (its back-office section too: snapshotThroughLsn), or
 * with no --to-lsn at all (the end then moves to it); null when it has none (or, for a --to-lsn, none that early).
 */
async function usableSnapshot(access: LeaderAccess, endLsn: number, options: BackupOptions): Promise<LeaderSnapshot | null> {
  try {
    const snapshot = await fetchLeaderSnapshot({ ...access, bytesMax: options.snapshotBytesMax })
    const throughLsn = snapshotThroughLsn(snapshot)
    const section = throughLsn > snapshot.lsn ? `, its back-office section at LSN ${throughLsn}` : ''
    if (throughLsn <= endLsn || options.toLsn === null) {
      const past = throughLsn > endLsn ? `; it was taken after the log's end was read: copying through LSN ${throughLsn} instead of ${endLsn}` : ''
      options.log(`backup: the leader's snapshot at LSN ${snapshot.lsn} (${snapshot.bytes.byteLength} bytes${section}), then its log from there${past}`)
      return snapshot
    }
    options.log(`backup: the leader's newest snapshot (LSN ${snapshot.lsn}${section}) is beyond LSN ${endLsn}: copying the log from LSN 1`)
    return null
  } catch (error) {
    if (!(error instanceof SnapshotRecoveryError) || error.code !== 'SNAPSHOT_UNAVAILABLE' || options.signal?.aborted === true) throw error
    if (!/ answered 404:/.test(error.message)) throw error
    options.log('backup: the leader keeps no snapshot: copying its log from LSN 1')
    return null
  }
}

/**
 * Through which LSN the snapshot holds records: its own (the kernel state's), or its back-office section's, built at
 * or after it (section.ts snapshotSectionLsn). A copy ending between the two held a section past its log: replay-verify
 * failed it (BACKUP_VERIFY_FAILED), and a start from it refused the section and lost the back office's history.
 */
function snapshotThroughLsn(snapshot: LeaderSnapshot): number {
  return Math.max(snapshot.lsn, snapshotSectionLsn(snapshot.content.sections) ?? 0)
}

/** The frame at the snapshot's LSN must carry its chain head, as a standby's install checks it. */
function checkSnapshotHead(wal: Wal, snapshot: LeaderSnapshot): void {
  let head: Uint8Array | null = null
  for (const frame of wal.read(snapshot.lsn, { toLsn: snapshot.lsn })) head = frame.hash.slice()
  if (head === null || toHex(head) !== snapshot.content.header.chainHead) {
    throw new BackupError('BACKUP_SNAPSHOT_INVALID', `the leader's frame at LSN ${snapshot.lsn} has chain head ${head === null ? 'none' : toHex(head)}; its snapshot says ${snapshot.content.header.chainHead}`)
  }
}

/**
 * replay-verify's checks on the finished copy (chain, every snapshot against the rebuilt state, a seal's structure and
 * claims against its file), and its end.
 */
async function verify(build: string, lastLsn: number): Promise<void> {
  const seals = await sealVerdicts(new SnapshotStore(snapshotDirOf(build), { io: nodeIo, keep: 100 }), null)
  const report = replayVerify(build, { from: 'auto', seals })
  if (!report.ok) throw new BackupError('BACKUP_VERIFY_FAILED', `the copy fails replay-verify: ${report.problems.slice(0, 3).join('; ') || 'a snapshot does not match the log'}`)
  if (report.log.lastLsn !== lastLsn || report.log.tornTail !== null) {
    throw new BackupError('BACKUP_VERIFY_FAILED', `the copy's log ends at LSN ${report.log.lastLsn}${report.log.tornTail === null ? '' : ` with a torn tail (${report.log.tornTail})`}, expected ${lastLsn}`)
  }
}

/** A local step of the build: its failure is BACKUP_WRITE_FAILED (a full disk, no permission), not the source's. */
function local<T>(step: string, work: () => T): T {
  try {
    return work()
  } catch (error) {
    throw new BackupError('BACKUP_WRITE_FAILED', `${step}: ${error instanceof Error ? error.message : String(error)}`)
  }
}

/** Any failure as a BackupError with a stable code. */
function backupErrorOf(error: unknown, signal: AbortSignal | undefined): BackupError {
  if (error instanceof BackupError) return error
  if (signal?.aborted === true) return new BackupError('BACKUP_INTERRUPTED', 'stopped by a signal before the copy was complete; nothing was written')
  const message = error instanceof Error ? error.message : String(error)
  if (error instanceof WalReplicationError) return new BackupError('BACKUP_FRAME_REFUSED', `a frame from the leader was refused: ${message}`)
  if (error instanceof SnapshotRecoveryError) {
    if (error.code === 'SNAPSHOT_UNAVAILABLE') return new BackupError('BACKUP_SOURCE_FAILED', message)
    return new BackupError('BACKUP_SNAPSHOT_INVALID', `${error.code}: ${message}`)
  }
  if (error instanceof PullEndedError) {
    const ended = error.ended
    if (ended.kind === 'ended') return new BackupError('BACKUP_SOURCE_FAILED', `${message}: the source stopped serving before the backup's end`)
    if (ended.status === 401) return new BackupError('BACKUP_AUTH_REFUSED', message)
    return new BackupError('BACKUP_SOURCE_REFUSED', message)
  }
  // A local write or fsync of the log failed (appendFrames); the other local steps are wrapped where they run (local).
  if (error instanceof WalFatalError || isSyncFailure(error)) return new BackupError('BACKUP_WRITE_FAILED', message)
  return new BackupError('BACKUP_SOURCE_FAILED', `the source failed: ${message}`)
}
