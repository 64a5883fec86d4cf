/**
 * A standby below the leader's compacted log: the frames it needs next are gone from the leader (the stream answers
 * RESYNC_REQUIRED), so it starts again from the leader's newest snapshot instead of retrying forever.
 *
 *   1. fetch — `GET /replication/snapshot` (the replication token): the snapshot file, its LSN S, its digest and the
 *      chain hash at S-1. The file is decoded here (digest over the whole file, framing) and its header must agree
 *      with what the leader announced. Bounded by `bytesMax`. Nothing local has changed yet.
 *   2. install — the old log and snapshots are moved aside (never deleted: `log.compacted-<ms>`), a new log is
 *      started whose first segment is anchored at S with the chain hash at S-1 in its header (the same shape as a
 *      compacted log), frames from S on are pulled from the leader with `Wal.appendFrames` (CRC, LSN, epoch and the
 *      chain from that anchor), and the frame at S must carry the snapshot's chain head. Only then is the snapshot
 *      written to the new snapshot store. Any failure puts the old log and snapshots back, so the node is never left
 *      with a log it cannot restore.
 * The standby gateway then starts as usual: restore verifies the snapshot against the frame at S and replays after it.
 */

import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { fromHex, nodeIo, toHex, Wal } from '../../../wal/index.ts'
import { encodeSegmentHeader, segmentName, SEGMENT_TEMP_SUFFIX } from '../../../wal/segment.ts'
import { decodeSnapshot, SnapshotError, SnapshotStore, type SnapshotContent } from '../snapshot/index.ts'
import { EnvelopeReader } from './envelope.ts'

export const SNAPSHOT_CONTENT_TYPE = 'application/vnd.egress.snapshot'
export const SNAPSHOT_HEADERS = { lsn: 'X-Egress-Snapshot-Lsn', digest: 'X-Egress-Snapshot-Digest', chainBefore: 'X-Egress-Chain-Before' } as const

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
}

export async function fetchLeaderSnapshot(access: LeaderAccess & { bytesMax: number }): Promise<LeaderSnapshot> {
  let response: Response
  try {
    response = await fetch(`${access.leaderUrl}/replication/snapshot`, { headers: { Authorization: `Bearer ${access.token}` }, signal: AbortSignal.timeout(access.timeoutMs) })
  } catch (error) {
    throw new SnapshotRecoveryError('SNAPSHOT_UNAVAILABLE', `GET ${access.leaderUrl}/replication/snapshot: ${String(error)}`)
  }
  if (!response.ok || response.body === null) {
    throw new SnapshotRecoveryError('SNAPSHOT_UNAVAILABLE', `${access.leaderUrl}/replication/snapshot answered ${response.status}: ${(await response.text()).slice(0, 300)}`)
  }
  const bytes = await readBounded(response.body, access.bytesMax)
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
  return { bytes, content, lsn, chainBefore }
}

/**
 * Replaces `dataDir/log` and `dataDir/snapshots` with a log anchored at the snapshot's LSN, caught up to at least that
 * LSN, and the snapshot. All or nothing: on failure the old directories are back and the error is rethrown.
 */
export async function installLeaderSnapshot(
  dataDir: string,
  snapshot: LeaderSnapshot,
  access: LeaderAccess & { envelopeBytesMax: number; keep: number; previousLastLsn: number },
): Promise<SnapshotRecoveryReport> {
  const logDir = join(dataDir, 'log')
  const snapshotsDir = join(dataDir, 'snapshots')
  const suffix = `compacted-${Date.now()}`
  const moved: [string, string][] = []
  for (const dir of [logDir, snapshotsDir]) {
    if (!existsSync(dir)) continue
    const target = `${dir}.${suffix}`
    renameSync(dir, target)
    moved.push([dir, target])
  }
  let wal: Wal | null = null
  try {
    startAnchoredLog(logDir, { firstLsn: snapshot.lsn, previousHash: snapshot.chainBefore })
    wal = Wal.openReplica(logDir)
    await pullThrough(wal, snapshot.lsn, access)
    let head: Uint8Array | null = null
    for (const frame of wal.read(snapshot.lsn, { toLsn: snapshot.lsn })) head = frame.hash.slice()
    if (head === null || toHex(head) !== snapshot.content.header.chainHead) {
      throw new SnapshotRecoveryError('SNAPSHOT_INVALID', `the leader's frame at LSN ${snapshot.lsn} has chain head ${head === null ? 'none' : toHex(head)}; the snapshot says ${snapshot.content.header.chainHead}`)
    }
    const lastLsn = wal.lastLsn
    await wal.close()
    wal = null
    new SnapshotStore(snapshotsDir, { io: nodeIo, keep: access.keep }).write({ bytes: snapshot.bytes, digest: snapshot.content.digest, header: snapshot.content.header })
    return { snapshotLsn: snapshot.lsn, snapshotDigest: snapshot.content.digest, previousLastLsn: access.previousLastLsn, movedTo: `${logDir}.${suffix}`, lastLsn }
  } catch (error) {
    await wal?.close().catch(() => {})
    rmSync(logDir, { recursive: true, force: true })
    rmSync(snapshotsDir, { recursive: true, force: true })
    for (const [dir, target] of moved) renameSync(target, dir)
    throw error
  }
}

/** Creates `logDir` holding one empty segment that starts at `firstLsn` after `previousHash` (crash-safe: temp + rename). */
export function startAnchoredLog(logDir: string, anchor: { firstLsn: number; previousHash: Uint8Array }): void {
  mkdirSync(logDir, { recursive: true })
  if (readdirSync(logDir).length > 0) throw new RangeError(`${logDir} is not empty; a log is anchored only in an empty directory`)
  const path = join(logDir, segmentName(anchor.firstLsn))
  const fd = nodeIo.openAppend(path + SEGMENT_TEMP_SUFFIX)
  try {
    nodeIo.write(fd, encodeSegmentHeader({ firstLsn: anchor.firstLsn, previousHash: anchor.previousHash, epoch: 1 }), 0)
    nodeIo.fsync(fd)
  } finally {
    nodeIo.close(fd)
  }
  nodeIo.rename(path + SEGMENT_TEMP_SUFFIX, path)
  nodeIo.fsyncDirectory(logDir)
}

/** Pulls the leader's frames into `wal` (a replica) until it holds `lsn`. */
async function pullThrough(wal: Wal, lsn: number, access: LeaderAccess & { envelopeBytesMax: number }): Promise<void> {
  const abort = new AbortController()
  const timer = setTimeout(() => abort.abort(), access.timeoutMs)
  try {
    const url = `${access.leaderUrl}/replication/stream?from_lsn=${wal.lastLsn + 1}&head=${toHex(wal.chainHead)}`
    const response = await fetch(url, { headers: { Authorization: `Bearer ${access.token}` }, signal: abort.signal })
    if (!response.ok || response.body === null) throw new SnapshotRecoveryError('CATCH_UP_FAILED', `stream from LSN ${wal.lastLsn + 1} answered ${response.status}: ${(await response.text()).slice(0, 300)}`)
    const reader = new EnvelopeReader({ envelopeBytesMax: access.envelopeBytesMax })
    for await (const received of response.body) {
      for (const envelope of reader.push(received)) if (envelope.frames.byteLength > 0) await wal.appendFrames(envelope.frames)
      if (wal.lastLsn >= lsn) return
    }
    throw new SnapshotRecoveryError('CATCH_UP_FAILED', `the stream ended at LSN ${wal.lastLsn}, before the snapshot's LSN ${lsn}`)
  } catch (error) {
    if (error instanceof SnapshotRecoveryError) throw error
    throw new SnapshotRecoveryError('CATCH_UP_FAILED', `pulling LSNs up to ${lsn}: ${error instanceof Error ? error.message : String(error)}`)
  } finally {
    clearTimeout(timer)
    abort.abort()
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
