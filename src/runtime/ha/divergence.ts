/**
 * A standby told DIVERGED holds records the leader does not (a deposed leader's writes it never acknowledged): find the
 * last LSN both logs share, say what lies beyond it, and set those records aside, keeping the shared part of the log
 * (diverged-prefix.ts) so the node follows the leader again from there (HaNode.resync). When the shared part cannot
 * be kept, the whole log and its snapshots go aside and the node re-syncs from scratch, and the report says why.
 */

import { join } from 'node:path'
import { nodeIo, toHex, type Wal, type WalIo } from '../../../wal/index.ts'
import { BACKUP_MANIFEST_FILE, backupManifestEnd } from '../backup/manifest.ts'
import { ANSWER_TEXT_BYTES_MAX, answerTextWithin } from './answer-text.ts'
import { freeAsideSuffix } from './dir-swap.ts'
import { DivergedPrefixError, divergedAsideSuffix, finishKeepingPrefix, keepCommonPrefix, type KeepPrefixOptions } from './diverged-prefix.ts'
import { fatalSyncs, renameDurably, syncFailureOf } from './durable-fs.ts'
import { requestSignal, throwIfStopping } from './stop-signal.ts'

/** Shown in /health as `ha.last_divergence`, its keys in snake_case (status-json.ts). */
export interface DivergenceReport {
  /**
   * What became of the records beyond commonLsn: set aside with the shared log kept (`prefix_kept`), set aside with the
   * whole log, to re-sync from scratch (`log_set_aside`, see `fallback`), or not known to be set aside (`failed`, see
   * `error`).
   */
  outcome: 'prefix_kept' | 'log_set_aside' | 'failed'
  commonLsn: number
  discardedFromLsn: number
  discardedToLsn: number
  discardedCount: number
  /** The distinct epochs of the records beyond commonLsn, oldest first; the first DISCARDED_EPOCHS_SHOWN only. */
  discardedEpochs: number[]
  /** How many distinct epochs those records have (discardedEpochs may list fewer). */
  discardedEpochCount: number
  /** The first and the last few of those records (DISCARDED_EXAMPLES_AT_EACH_END each), oldest first. */
  discardedExamples: DiscardedFrame[]
  /**
   * Where the old log went whole, the records beyond commonLsn included (its snapshots beside it, same suffix); when
   * `failed`, where it was being moved (it may be there, or still in `log/`).
   */
  movedTo: string
  /** The log was kept up to and including this LSN (commonLsn), or null: re-synced from scratch (see `fallback`). */
  keptPrefixToLsn: number | null
  /** Of the kept log: segments shared with the one set aside (hard links), and segments copied (the cut one last). */
  linkedSegments: number
  linkedBytes: number
  copiedSegments: number
  copiedBytes: number
  /** LSNs of the snapshots kept (at or below commonLsn), newest first. */
  snapshotsKept: number[]
  /** How long building the kept log and swapping it in took (0 when nothing was kept). */
  buildMs: number
  /** Why the shared log was not kept (`CODE: detail`), or null when it was. */
  fallback: string | null
  /** Why setting the records aside failed (`FSYNC_FAILED: detail` or `SET_ASIDE_FAILED: detail`), or null. */
  error: string | null
}

export interface DiscardedFrame {
  lsn: number
  epoch: number
}

/** What a log holds beyond commonLsn, in bounded memory however long that is (framesBeyond). */
export interface DiscardedFrames {
  count: number
  /** The last LSN (commonLsn when there is none beyond it). */
  lastLsn: number
  epochs: number[]
  epochCount: number
  examples: DiscardedFrame[]
}

export const DISCARDED_EPOCHS_SHOWN = 16
export const DISCARDED_EXAMPLES_AT_EACH_END = 3

/** Setting the records aside failed; `report` says what is known (outcome `failed`), `cause` what went wrong. */
export class SetAsideFailedError extends Error {
  override readonly name = 'SetAsideFailedError'

  constructor(
    readonly report: DivergenceReport,
    cause: unknown,
  ) {
    super(report.error ?? 'setting the diverged records aside failed', { cause })
  }
}

/** The most bytes of a /replication/hash answer read (`{"lsn":…,"hash":…,"last_lsn":…}` takes about 120). */
export const HASH_ANSWER_BYTES_MAX = ANSWER_TEXT_BYTES_MAX

/** A chain hash as the leader's /replication/hash answers it (hex SHA-256). */
const HASH_HEX = /^[0-9a-f]{64}$/

/**
 * The highest LSN at which this log and the leader's have the same chain hash (chains agree on every LSN below it).
 * Each request is bounded by `timeoutMs`: a leader stopped with its socket open would otherwise hold the search, and
 * the node's role lock with it, forever; and each answer is read to HASH_ANSWER_BYTES_MAX at most. Throws
 * DivergedPrefixError COMMON_LSN_UNKNOWN when the leader does not answer (in time, with 200 or 404, within that bound,
 * with a hash): nothing was changed, the caller follows again and asks anew. The node's stop signal ends the search at
 * once (NodeStoppingError, stop-signal.ts), nothing changed either.
 */
export async function commonLsnWithLeader(wal: Wal, leader: { url: string; token: string; timeoutMs: number; stopSignal?: AbortSignal }): Promise<number> {
  const ours = (lsn: number): string => {
    for (const frame of wal.read(lsn, { toLsn: lsn })) return toHex(frame.hash)
    return ''
  }
  const theirs = async (lsn: number): Promise<string | null> => {
    const unknown = (why: string): DivergedPrefixError => new DivergedPrefixError('COMMON_LSN_UNKNOWN', `chain hash at LSN ${lsn} from ${leader.url}: ${why}`)
    let response: Response
    let body: unknown
    try {
      response = await fetch(`${leader.url}/replication/hash?lsn=${lsn}`, { headers: { Authorization: `Bearer ${leader.token}` }, signal: requestSignal(leader.timeoutMs, leader.stopSignal) })
      if (response.status === 404) return null
      if (!response.ok) throw unknown(`${response.status}`)
      // Read within a bound, as every other answer of a replication read: a body of any length (a proxy, a wrong port,
      // a broken leader) was held whole in memory, however fast it came, for as long as the timeout allowed.
      const text = await answerTextWithin(response, HASH_ANSWER_BYTES_MAX)
      if (text === null) throw unknown(`ANSWER_TOO_LARGE: the answer is longer than ${HASH_ANSWER_BYTES_MAX} bytes`)
      body = JSON.parse(text)
    } catch (error) {
      throwIfStopping(leader.stopSignal)
      if (error instanceof DivergedPrefixError) throw error
      throw unknown(error instanceof Error ? error.message : String(error))
    }
    const hash = typeof body === 'object' && body !== null ? (body as { hash?: unknown }).hash : undefined
    if (typeof hash !== 'string' || !HASH_HEX.test(hash)) throw unknown(`expected {"hash": 64 hex digits}, got ${JSON.stringify(body)?.slice(0, 120)}`)
    return hash
  }
  let low = wal.firstLsn - 1
  let high = wal.lastLsn
  while (low < high) {
    const middle = Math.ceil((low + high) / 2)
    if ((await theirs(middle)) === ours(middle)) low = middle
    else high = middle - 1
  }
  return low
}

/**
 * What this log holds beyond `commonLsn`: counted, with its distinct epochs (a log's epochs never decrease, so each
 * change is a new one) and its first and last few records; bounded however many there are.
 */
export function framesBeyond(wal: Wal, commonLsn: number): DiscardedFrames {
  const first: DiscardedFrame[] = []
  const last: DiscardedFrame[] = []
  const beyond: DiscardedFrames = { count: 0, lastLsn: commonLsn, epochs: [], epochCount: 0, examples: [] }
  let previousEpoch: number | null = null
  for (const frame of wal.read(commonLsn + 1)) {
    beyond.count++
    beyond.lastLsn = frame.lsn
    if (frame.epoch !== previousEpoch) {
      beyond.epochCount++
      if (beyond.epochs.length < DISCARDED_EPOCHS_SHOWN) beyond.epochs.push(frame.epoch)
      previousEpoch = frame.epoch
    }
    const example = { lsn: frame.lsn, epoch: frame.epoch }
    if (first.length < DISCARDED_EXAMPLES_AT_EACH_END) first.push(example)
    else {
      last.push(example)
      if (last.length > DISCARDED_EXAMPLES_AT_EACH_END) last.shift()
    }
  }
  beyond.examples = [...first, ...last]
  return beyond
}

/**
 * Sets the records beyond `commonLsn` aside: keeps the log and snapshots up to it (keepCommonPrefix), or, when that
 * fails, moves the whole log and snapshots aside (setDivergedLogAside). The gateway must be stopped. Throws
 * SetAsideFailedError (its report's outcome `failed`) when neither could be done, or an fsync failed (fatal:
 * durable-fs.ts); the data dir may then be mid-swap, which the next gateway start finishes first.
 */
export function setDivergedTailAside(dataDir: string, commonLsn: number, discarded: DiscardedFrames, options: KeepPrefixOptions = {}): DivergenceReport {
  const io = fatalSyncs(options.io ?? nodeIo)
  // One suffix for whichever way the log goes aside; chosen after an earlier committed swap is finished, so that
  // swap's aside is there to be seen and passed over.
  const base = options.asideSuffix ?? `diverged-${Date.now()}`
  let movedTo = join(dataDir, `log.${base}`)
  try {
    finishKeepingPrefix(dataDir, io)
    const asideSuffix = freeAsideSuffix(dataDir, base, io)
    movedTo = join(dataDir, `log.${asideSuffix}`)
    try {
      const kept = keepCommonPrefix(dataDir, commonLsn, { ...options, io, asideSuffix })
      setBackupManifestAside(dataDir, commonLsn, asideSuffix, io)
      return { ...describeDiscarded(commonLsn, discarded), ...kept, outcome: 'prefix_kept', fallback: null, error: null }
    } catch (error) {
      if (!(error instanceof DivergedPrefixError)) throw error
      return { ...setDivergedLogAside(dataDir, commonLsn, discarded, { io, asideSuffix }), fallback: error.message }
    }
  } catch (error) {
    const report: DivergenceReport = { ...describeDiscarded(commonLsn, discarded), movedTo, ...nothingKept(), outcome: 'failed', fallback: null, error: null }
    throw new SetAsideFailedError(divergenceFailed(report, error), error)
  }
}

export interface SetAsideSteps {
  dataDir: string
  /** The file-system calls of setting the records aside (specs inject failures). */
  io: WalIo
  /** Starts the standby gateway and its replication, finishing an interrupted swap first (following.ts `follow`). */
  follow: () => Promise<void>
  /** Records a divergence report: /health (`ha.last_divergence`) and the log. */
  report: (report: DivergenceReport) => void
  log: (line: string) => void
}

/**
 * HaNode.resync once the shared LSN is known and the gateway stopped: sets the records beyond it aside and follows
 * again, from the kept log, or from scratch when that did not start; every outcome reported, a failure too. Throws
 * when the node cannot go on: an fsync failed (fatal, HaNode stops), or no gateway could be started.
 */
export async function setAsideAndFollow(commonLsn: number, discarded: DiscardedFrames, steps: SetAsideSteps): Promise<void> {
  let report: DivergenceReport
  try {
    report = setDivergedTailAside(steps.dataDir, commonLsn, discarded, { io: steps.io })
  } catch (error) {
    if (!(error instanceof SetAsideFailedError)) throw error
    steps.report(error.report)
    // An fsync failed: fatal. Otherwise past the commit point (the swap itself failed, or moving the whole log
    // aside): follow() finishes the swap first, or refuses to start a gateway on a data dir left mid-swap.
    if (syncFailureOf(error) !== null) throw error
    steps.log(`setting the records after LSN ${commonLsn} aside failed (${error.message}); finishing it and following again`)
    // A swap of the kept log committed before the failure is finished now (follow() would, without saying so): the
    // log was kept after all (the failure on the way stays in `error`), and follows as a kept log does below, set
    // aside in turn if it does not start.
    if (finishKeepingPrefix(steps.dataDir, fatalSyncs(steps.io)) !== 'finished') return steps.follow()
    report = { ...error.report, outcome: 'prefix_kept', keptPrefixToLsn: commonLsn }
  }
  steps.report(report)
  try {
    await steps.follow()
  } catch (error) {
    if (report.keptPrefixToLsn === null || syncFailureOf(error) !== null) throw error
    // The kept log did not start (a snapshot or the log refused): set it aside too and re-sync from scratch.
    try {
      steps.report(setKeptPrefixAside(steps.dataDir, report, error, steps.io))
    } catch (asideError) {
      steps.report(divergenceFailed(report, asideError))
      throw asideError
    }
    await steps.follow()
  }
}

/**
 * Moves `<dataDir>/log` (and `snapshots`, if any) aside under a free `diverged-<ms>` suffix (or `asideSuffix`), to
 * re-sync from scratch; each rename durable before it returns (durable-fs.ts). The gateway must be stopped.
 */
export function setDivergedLogAside(dataDir: string, commonLsn: number, discarded: DiscardedFrames, options: { io?: WalIo; asideSuffix?: string } = {}): DivergenceReport {
  const io = fatalSyncs(options.io ?? nodeIo)
  const suffix = options.asideSuffix ?? divergedAsideSuffix(dataDir, io)
  const movedTo = join(dataDir, `log.${suffix}`)
  renameDurably(io, join(dataDir, 'log'), movedTo)
  const snapshots = join(dataDir, 'snapshots')
  if (io.exists(snapshots)) renameDurably(io, snapshots, join(dataDir, `snapshots.${suffix}`))
  setBackupManifestAside(dataDir, null, suffix, io)
  return { ...describeDiscarded(commonLsn, discarded), movedTo, ...nothingKept(), outcome: 'log_set_aside', fallback: null, error: null }
}

/**
 * A backup's manifest (backup/manifest.ts: the LSN and chain head where the copy ends) goes aside with the records it
 * vouched for, as `BACKUP.<suffix>.json`, once the log no longer holds that end: its records beyond `keptToLsn` set
 * aside, or the whole log (null). Left in place, the leader's records that fill those LSNs failed replay-verify of a
 * healthy standby for good (BACKUP_HEAD_MISMATCH; BACKUP_TRUNCATED until it had caught up). One whose end the kept log
 * still holds (or that cannot be read: replay-verify says so) stays, and is still checked.
 */
function setBackupManifestAside(dataDir: string, keptToLsn: number | null, suffix: string, io: WalIo): void {
  const path = join(dataDir, BACKUP_MANIFEST_FILE)
  if (!io.exists(path)) return
  const end = backupManifestEnd(dataDir)
  if (keptToLsn !== null && (end === null || end <= keptToLsn)) return
  renameDurably(io, path, join(dataDir, `BACKUP.${suffix}.json`))
}

/**
 * The kept log refused to start (HaNode.resync): it and its snapshots go aside too (`<movedTo>.kept`, bumped when
 * taken), each rename durable, so the node re-syncs from scratch. Returns the report saying so.
 */
export function setKeptPrefixAside(dataDir: string, report: DivergenceReport, why: unknown, io: WalIo = nodeIo): DivergenceReport {
  const synced = fatalSyncs(io)
  const suffix = freeAsideSuffix(dataDir, `${report.movedTo.slice(join(dataDir, 'log.').length)}.kept`, synced)
  renameDurably(synced, join(dataDir, 'log'), join(dataDir, `log.${suffix}`))
  const snapshots = join(dataDir, 'snapshots')
  if (synced.exists(snapshots)) renameDurably(synced, snapshots, join(dataDir, `snapshots.${suffix}`))
  setBackupManifestAside(dataDir, null, suffix, synced)
  const detail = why instanceof Error ? why.message : String(why)
  return {
    ...report, ...nothingKept(), outcome: 'log_set_aside',
    fallback: `PREFIX_START_FAILED: the log kept through LSN ${report.keptPrefixToLsn} did not start (${detail}); set aside as log.${suffix}`,
  }
}

/** `report` with outcome `failed` and why: FSYNC_FAILED when an fsync failed (fatal), else SET_ASIDE_FAILED. */
export function divergenceFailed(report: DivergenceReport, error: unknown): DivergenceReport {
  const syncFailure = syncFailureOf(error)
  const detail = error instanceof Error ? error.message : String(error)
  return { ...report, outcome: 'failed', error: syncFailure === null ? `SET_ASIDE_FAILED: ${detail}` : syncFailure.message }
}

function nothingKept(): Pick<DivergenceReport, 'keptPrefixToLsn' | 'linkedSegments' | 'linkedBytes' | 'copiedSegments' | 'copiedBytes' | 'snapshotsKept' | 'buildMs'> {
  return { keptPrefixToLsn: null, linkedSegments: 0, linkedBytes: 0, copiedSegments: 0, copiedBytes: 0, snapshotsKept: [], buildMs: 0 }
}

type DiscardedFields = 'commonLsn' | 'discardedFromLsn' | 'discardedToLsn' | 'discardedCount' | 'discardedEpochs' | 'discardedEpochCount' | 'discardedExamples'

function describeDiscarded(commonLsn: number, discarded: DiscardedFrames): Pick<DivergenceReport, DiscardedFields> {
  return {
    commonLsn,
    discardedFromLsn: commonLsn + 1,
    discardedToLsn: discarded.lastLsn,
    discardedCount: discarded.count,
    discardedEpochs: discarded.epochs,
    discardedEpochCount: discarded.epochCount,
    discardedExamples: discarded.examples,
  }
}
