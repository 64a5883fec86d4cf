/**
 * A standby below the leader's compacted log: the frames it needs next are gone from the leader (the stream answers
 * RESYNC_REQUIRED), so it starts again from the leader's newest snapshot instead of retrying forever.
 *
 *   1. fetch — `GET /replication/snapshot` (the replication token): the snapshot file, its LSN S, its digest, the
 *      chain hash at S-1 and its seal when the leader holds one (snapshotSealOf). The file is decoded here (digest over the whole file, framing) and its header must agree
 *      with what the leader announced. Bounded by `bytesMax`. Nothing local has changed yet.
 *   2. install — built next to the old ones, then swapped in, crash-atomic:
 *      a. build: in `log.recovering/` a new log is started whose first segment is anchored at S with the chain hash at
 *         S-1 in its header (the same shape as a compacted log), frames from S on are pulled from the leader with
 *         `Wal.appendFrames` (CRC, LSN, epoch and the chain from that anchor), and the frame at S must carry the
 *         snapshot's chain head; then the snapshot is written to `snapshots.recovering/`, its seal beside it. Everything fsynced, and the
 *         data dir too. The old log and snapshots are untouched so far: a failure or a crash just drops the
 *         `*.recovering` directories.
 *      b. commit: `snapshot-recovery.commit` (temp file, fsync, rename, data dir fsync) names the suffix the old
 *         directories will get. From here on the recovery is finished, never undone.
 *      c. swap: for log/ then snapshots/, the old directory is renamed aside (never deleted: `log.compacted-<ms>`,
 *         bumped to `-<ms>-1`, … when taken) and the `*.recovering` one renamed into its place, the data dir fsynced
 *         after each rename; then the commit file is removed.
 *      The commit and swap are dir-swap.ts's, shared with keeping a diverged log's prefix (diverged-prefix.ts).
 *      At start-up (`finishSnapshotRecovery`, called by HaNode.start and before every install) leftovers are finished
 *      (commit file present: the swap is completed, each step idempotent) or rolled back (no commit file: the
 *      `*.recovering` directories are removed), so a node never refuses to start because of a half-done recovery.
 *   Every file-system call of the install goes through the `io` given (HaNodeOptions.dataDirIo; default node:fs),
 *   the new log's too. A failed fsync (a file's, the new log's fdatasync, a directory's) is fatal (durable-fs.ts): it
 *   throws SyncFailedError and nothing is rolled back or retried; HaNode stops, and a restart finishes or rolls back
 *   from what is on disk. Any other failure before the commit rolls the build back (the live log and snapshots were
 *   never touched) and the install may be tried again; after the commit, the next gateway start finishes the swap.
 * The standby gateway then starts as usual: restore verifies the snapshot against the frame at S and replays after it.
 *
 * Both requests to the leader carry the node's stop signal (`LeaderAccess.stopSignal`, stop-signal.ts): when the node
 * begins to stop, the fetch or the pull in flight ends with NodeStoppingError (not a SnapshotRecoveryError: the leader
 * did not fail), and an install whose pull it ended is rolled back like any other failure before the commit.
 */

import { snapshotSectionLsn } from '../../backoffice/section.ts'
import { join } from 'node:path'
import { fromHex, nodeIo, toHex, Wal, type EpochCeiling, type WalIo } from '../../../wal/index.ts'
import { encodeSegmentHeader, segmentName, SEGMENT_TEMP_SUFFIX } from '../../../wal/segment.ts'
import { readSnapshotSealUnverified, snapshotSealMismatch } from '../../audit/snapshot-seal.ts'
import { decodeSnapshot, SnapshotError, SnapshotStore, type SnapshotContent, type SnapshotToWrite } from '../snapshot/index.ts'
import { answerText } from './answer-text.ts'
import { builtDir, committedAsideSuffix, finishSwap, freeAsideSuffix, rollBack, swapCommitted, swapIn, writeCommitFile, type DirSwap } from './dir-swap.ts'
import { fatalSyncs, syncFailureOf } from './durable-fs.ts'
import { standbyRequestHeaders } from './log-reads.ts'
import { pullFrames, PullEndedError } from './pull-frames.ts'
import { requestSignal, throwIfStopping } from './stop-signal.ts'

export const SNAPSHOT_CONTENT_TYPE = 'application/vnd.egress.snapshot'
/** `seal`: the snapshot's seal (its JWS: seal-file.ts), when the leader holds one beside it; absent when unsealed. */
export const SNAPSHOT_HEADERS = { lsn: 'X-Egress-Snapshot-Lsn', digest: 'X-Egress-Snapshot-Digest', chainBefore: 'X-Egress-Chain-Before', seal: 'X-Egress-Snapshot-Seal' } as const
/** A seal's JWS is ~500 bytes; a header longer than this is no seal of ours. */
const SEAL_HEADER_BYTES_MAX = 8 * 1024

export type SnapshotRecoveryCode = 'SNAPSHOT_UNAVAILABLE' | 'SNAPSHOT_TOO_LARGE' | 'SNAPSHOT_INVALID' | 'CATCH_UP_FAILED'

export class SnapshotRecoveryError extends Error {
  override readonly name = 'SnapshotRecoveryError'
  constructor(
    readonly code: SnapshotRecoveryCode,
    message: string,
  ) {
    super(message)
  }
}

export interface LeaderSnapshot {
  bytes: Uint8Array
  content: SnapshotContent
  lsn: number
  /** Chain hash at lsn - 1: the anchor of the standby's new log. */
  chainBefore: Uint8Array
  /**
   * The leader's seal of it (a JWS), its structure and claims checked against the file (snapshotSealOf); null when the
   * leader sent none (unsealed, or an older leader). Written beside the snapshot where it is copied.
   */
  seal: string | null
}

export interface SnapshotRecoveryReport {
  snapshotLsn: number
  snapshotDigest: string
  /** Last LSN of the log moved aside. */
  previousLastLsn: number
  /** Where the old log went (its snapshots next to it with the same suffix). */
  movedTo: string
  /** The new log's last LSN after the first pull (≥ snapshotLsn). */
  lastLsn: number
}

export interface LeaderAccess {
  leaderUrl: string
  token: string
  timeoutMs: number
  /** The node's stop signal: aborted, a request in flight ends with NodeStoppingError (stop-signal.ts). */
  stopSignal?: AbortSignal
  /** The lease's current epoch: pulled frames above it are refused (EPOCH_AHEAD, as the replicator's). */
  epochCeiling?: EpochCeiling
}

/**
 * Fetches and checks the leader's newest snapshot (step 1 of the file comment). Throws SnapshotRecoveryError, or
 * NodeStoppingError when the node's stop ended the request.
 */
export async function fetchLeaderSnapshot(access: LeaderAccess & { bytesMax: number }): Promise<LeaderSnapshot> {
  let response: Response
  let bytes: Uint8Array
  try {
    response = await fetch(`${access.leaderUrl}/replication/snapshot`, { headers: standbyRequestHeaders(access.token), signal: requestSignal(access.timeoutMs, access.stopSignal) })
    if (!response.ok || response.body === null) {
      throw new SnapshotRecoveryError('SNAPSHOT_UNAVAILABLE', `${access.leaderUrl}/replication/snapshot answered ${response.status}: ${(await answerText(response)).slice(0, 300)}`)
    }
    bytes = await readBounded(response.body, access.bytesMax)
  } catch (error) {
    throwIfStopping(access.stopSignal)
    if (error instanceof SnapshotRecoveryError) throw error
    throw new SnapshotRecoveryError('SNAPSHOT_UNAVAILABLE', `GET ${access.leaderUrl}/replication/snapshot: ${String(error)}`)
  }
  const lsn = Number(response.headers.get(SNAPSHOT_HEADERS.lsn))
  const digest = response.headers.get(SNAPSHOT_HEADERS.digest) ?? ''
  let chainBefore: Uint8Array
  try {
    chainBefore = fromHex(response.headers.get(SNAPSHOT_HEADERS.chainBefore) ?? '')
  } catch {
    chainBefore = new Uint8Array(0)
  }
  if (!Number.isSafeInteger(lsn) || lsn < 1 || chainBefore.byteLength !== 32) {
    throw new SnapshotRecoveryError('SNAPSHOT_INVALID', `the leader's snapshot headers are malformed (lsn ${JSON.stringify(response.headers.get(SNAPSHOT_HEADERS.lsn))}, chain before ${chainBefore.byteLength} bytes)`)
  }
  let content: SnapshotContent
  try {
    content = decodeSnapshot(bytes)
  } catch (error) {
    if (error instanceof SnapshotError) throw new SnapshotRecoveryError('SNAPSHOT_INVALID', `the leader's snapshot: ${error.code}: ${error.message}`)
    throw error
  }
  if (content.header.lsn !== lsn || content.digest !== digest) {
    throw new SnapshotRecoveryError('SNAPSHOT_INVALID', `the snapshot file (LSN ${content.header.lsn}, digest ${content.digest}) is not the one announced (LSN ${lsn}, digest ${digest})`)
  }
  return { bytes, content, lsn, chainBefore, seal: snapshotSealOf(response.headers.get(SNAPSHOT_HEADERS.seal), content) }
}

/**
 * The seal the leader sent with its snapshot, or null for none. One that does not hold for the file — malformed, or
 * signing another LSN, head or digest (read without a key: its structure and claims) — is SNAPSHOT_INVALID: a copy
 * would either carry it (and a start refuse the snapshot, SEAL_INVALID) or drop it, making a snapshot whose seal says
 * it was altered pass as merely unsealed. Its signature is checked where the keys are (a start, audit verify).
 */
function snapshotSealOf(header: string | null, content: SnapshotContent): string | null {
  if (header === null) return null
  const refused = (why: string): never => {
    throw new SnapshotRecoveryError('SNAPSHOT_INVALID', `the leader's snapshot at LSN ${content.header.lsn} came with a seal that does not hold: ${why}`)
  }
  if (header.length > SEAL_HEADER_BYTES_MAX || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(header)) refused('not a compact JWS')
  const read = readSnapshotSealUnverified(header)
  if (!read.ok) return refused(read.reason)
  const mismatch = snapshotSealMismatch(read.value.claims, { lsn: content.header.lsn, chainHead: content.header.chainHead, digest: content.digest })
  return mismatch === null ? header : refused(mismatch)
}

/** The points of an install after which a spec may stop it as a kill -9 would (`haltAfter`). */
export type SnapshotInstallStep =
  | 'anchored'
  | 'log_built'
  | 'snapshot_built'
  | 'committed'
  | 'log_moved_aside'
  | 'log_swapped'
  | 'snapshots_moved_aside'
  | 'snapshots_swapped'

/** Thrown by `haltAfter` (specs only): the install stopped at `step` with nothing cleaned up, like a crash. */
export class SnapshotInstallHalted extends Error {
  override readonly name = 'SnapshotInstallHalted'
  constructor(readonly step: SnapshotInstallStep) {
    super(`snapshot install halted after ${step}`)
  }
}

/** The install's built directories (`log.recovering/`, `snapshots.recovering/`) and commit file (dir-swap.ts). */
function installSwap(dataDir: string): DirSwap {
  return { dataDir, builtSuffix: '.recovering', commitFile: 'snapshot-recovery.commit' }
}

/**
 * Replaces `dataDir/log` and `dataDir/snapshots` with a log anchored at the snapshot's LSN, caught up to at least that
 * LSN, and the snapshot. All or nothing, also across a crash (see the file comment): on failure before the commit
 * the old directories were never touched and the error is rethrown.
 */
export async function installLeaderSnapshot(
  dataDir: string,
  snapshot: LeaderSnapshot,
  access: LeaderAccess & {
    envelopeBytesMax: number
    keep: number
    previousLastLsn: number
    /** The file-system calls of the install, the new log's included (specs inject failures); default node:fs. */
    io?: WalIo
    haltAfter?: (step: SnapshotInstallStep) => boolean
  },
): Promise<SnapshotRecoveryReport> {
  const io = fatalSyncs(access.io ?? nodeIo)
  finishSnapshotRecovery(dataDir, io)
  const swap = installSwap(dataDir)
  const newLogDir = builtDir(swap, 'log')
  const newSnapshotsDir = builtDir(swap, 'snapshots')
  const suffix = freeAsideSuffix(dataDir, `compacted-${Date.now()}`, io)
  const halt = (step: SnapshotInstallStep): void => {
    if (access.haltAfter?.(step) === true) throw new SnapshotInstallHalted(step)
  }
  let wal: Wal | null = null
  let lastLsn: number
  try {
    startAnchoredLog(newLogDir, { firstLsn: snapshot.lsn, previousHash: snapshot.chainBefore }, io)
    io.fsyncDirectory(dataDir)
    halt('anchored')
    wal = Wal.openReplica(newLogDir, { io })
    // Through the snapshot's back-office section too (built past the kernel's LSN when the log ended in records the
    // kernel does not apply): a log ending before it refuses the section at the start, and a compacted one then loses
    // the back office's history (as a backup's copy would: take-backup.ts).
    await pullThrough(wal, Math.max(snapshot.lsn, snapshotSectionLsn(snapshot.content.sections) ?? 0), access)
    let head: Uint8Array | null = null
    for (const frame of wal.read(snapshot.lsn, { toLsn: snapshot.lsn })) head = frame.hash.slice()
    if (head === null || toHex(head) !== snapshot.content.header.chainHead) {
      throw new SnapshotRecoveryError('SNAPSHOT_INVALID', `the leader's frame at LSN ${snapshot.lsn} has chain head ${head === null ? 'none' : toHex(head)}; the snapshot says ${snapshot.content.header.chainHead}`)
    }
    lastLsn = wal.lastLsn
    await wal.close()
    wal = null
    halt('log_built')
    io.mkdirp(newSnapshotsDir)
    // With the leader's seal when it sent one (fetchLeaderSnapshot checked it describes this file).
    new SnapshotStore(newSnapshotsDir, { io, keep: access.keep }).write(snapshotToWrite(snapshot))
    io.fsyncDirectory(newSnapshotsDir)
    io.fsyncDirectory(dataDir)
    halt('snapshot_built')
    writeCommitFile(swap, suffix, io)
    halt('committed')
  } catch (error) {
    await wal?.close().catch(() => {})
    // Halted (a spec's crash) or an fsync failed (fatal): left as it is, for the next start to roll back or finish.
    if (!(error instanceof SnapshotInstallHalted) && syncFailureOf(error) === null) rollBack(swap, io)
    throw error
  }
  swapIn(swap, suffix, { halt, io })
  return { snapshotLsn: snapshot.lsn, snapshotDigest: snapshot.content.digest, previousLastLsn: access.previousLastLsn, movedTo: `${join(dataDir, 'log')}.${suffix}`, lastLsn }
}

/** The leader's snapshot as a store writes it: its bytes, and its seal when the leader sent one. */
export function snapshotToWrite(snapshot: LeaderSnapshot): SnapshotToWrite {
  return { bytes: snapshot.bytes, digest: snapshot.content.digest, header: snapshot.content.header, ...(snapshot.seal === null ? {} : { seal: snapshot.seal }) }
}

/**
 * Finishes or rolls back what an interrupted install left in `dataDir` (see the file comment); a no-op when there is
 * nothing. Returns what it did. Idempotent: a crash while it runs is handled by the next call.
 */
export function finishSnapshotRecovery(dataDir: string, io: WalIo = nodeIo): 'none' | 'finished' | 'rolled_back' {
  return finishSwap(installSwap(dataDir), () => freeAsideSuffix(dataDir, `compacted-${Date.now()}`, io), io)
}

/**
 * Finishes an install that was committed and not finished (as finishSnapshotRecovery does at a gateway start), and
 * says where the old log went; null when none was committed (a build not committed is left for the next start).
 */
export function finishCommittedInstall(dataDir: string, io: WalIo = nodeIo): { movedTo: string } | null {
  // A commit file whose suffix cannot be read is left to finishSnapshotRecovery at the gateway start (a fresh suffix).
  const suffix = committedAsideSuffix(installSwap(dataDir), io)
  if (suffix === null) return null
  return finishSnapshotRecovery(dataDir, io) === 'finished' ? { movedTo: `${join(dataDir, 'log')}.${suffix}` } : null
}

/** Whether `dataDir` holds a committed, unfinished snapshot install. */
export function snapshotRecoveryCommitted(dataDir: string, io: WalIo = nodeIo): boolean {
  return swapCommitted(installSwap(dataDir), io)
}

/**
 * Creates `logDir` holding one empty segment that starts at `firstLsn` after `previousHash` (crash-safe: temp +
 * rename), through `io`; a failed fsync throws SyncFailedError (durable-fs.ts).
 */
export function startAnchoredLog(logDir: string, anchor: { firstLsn: number; previousHash: Uint8Array }, io: WalIo = nodeIo): void {
  const synced = fatalSyncs(io)
  synced.mkdirp(logDir)
  if (synced.readdir(logDir).length > 0) throw new RangeError(`${logDir} is not empty; a log is anchored only in an empty directory`)
  const path = join(logDir, segmentName(anchor.firstLsn))
  const fd = synced.openAppend(path + SEGMENT_TEMP_SUFFIX)
  try {
    synced.write(fd, encodeSegmentHeader({ firstLsn: anchor.firstLsn, previousHash: anchor.previousHash, epoch: 1 }), 0)
    synced.fsync(fd)
  } finally {
    synced.close(fd)
  }
  synced.rename(path + SEGMENT_TEMP_SUFFIX, path)
  synced.fsyncDirectory(logDir)
}

/** Pulls the leader's frames into `wal` (a replica) until it holds `lsn` (pull-frames.ts, the whole pull bounded). */
async function pullThrough(wal: Wal, lsn: number, access: LeaderAccess & { envelopeBytesMax: number }): Promise<void> {
  try {
    await pullFrames(wal, access, { throughLsn: lsn, exact: false, timeout: 'total' })
  } catch (error) {
    // A failed fdatasync of the new log stays what it is (WalFatalError caused by SyncFailedError): fatal, not retried.
    if (syncFailureOf(error) !== null) throw error
    // A stop that began meanwhile comes first, as in fetchLeaderSnapshot: a stream the leader ended as the cluster
    // shuts down is not reported as a failed catch-up (and retried) by a node that is stopping.
    throwIfStopping(access.stopSignal)
    if (error instanceof PullEndedError) {
      const ended = error.ended
      throw new SnapshotRecoveryError('CATCH_UP_FAILED', ended.kind === 'ended' ? `the stream ended at LSN ${ended.lastLsn}, before the snapshot's LSN ${lsn}` : error.message)
    }
    throw new SnapshotRecoveryError('CATCH_UP_FAILED', `pulling LSNs up to ${lsn}: ${error instanceof Error ? error.message : String(error)}`)
  }
}

async function readBounded(body: ReadableStream<Uint8Array>, bytesMax: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  let total = 0
  for await (const part of body) {
    total += part.byteLength
    if (total > bytesMax) throw new SnapshotRecoveryError('SNAPSHOT_TOO_LARGE', `the leader's snapshot exceeds ${bytesMax} bytes`)
    parts.push(part)
  }
  return Buffer.concat(parts)
}
