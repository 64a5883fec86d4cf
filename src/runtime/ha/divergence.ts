/**
 * A standby told DIVERGED holds records the leader does not (a deposed leader's writes it never acknowledged): find the
 * last LSN both logs share, say what lies beyond it, and set those records aside, keeping the shared part of the log
 * (diverged-prefix.ts) so the node follows the leader again from there (HaNode.resync). When the shared part cannot
 * be kept, the whole log and its snapshots go aside and the node re-syncs from scratch, and the report says why.
 */

import { existsSync, renameSync } from 'node:fs'
import { join } from 'node:path'
import { toHex, type Wal } from '../../../wal/index.ts'
import { DivergedPrefixError, keepCommonPrefix, type KeepPrefixOptions } from './diverged-prefix.ts'

/** Shown in /health as `ha.last_divergence`. */
export interface DivergenceReport {
  commonLsn: number
  discardedFromLsn: number
  discardedToLsn: number
  discardedCount: number
  discardedEpochs: number[]
  /** Where the old log went whole, the records beyond commonLsn included (its snapshots beside it, same suffix). */
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
}

/** A chain hash as the leader's /replication/hash answers it (hex SHA-256). */
const HASH_HEX = /^[0-9a-f]{64}$/

/**
 * The highest LSN at which this log and the leader's have the same chain hash (chains agree on every LSN below it).
 * Each request is bounded by `timeoutMs`: a leader stopped with its socket open would otherwise hold the search, and
 * the node's role lock with it, forever. Throws DivergedPrefixError COMMON_LSN_UNKNOWN when the leader does not answer
 * (in time, with 200 or 404, with a hash): nothing was changed, the caller follows again and asks anew.
 */
export async function commonLsnWithLeader(wal: Wal, leader: { url: string; token: string; timeoutMs: number }): Promise<number> {
  const ours = (lsn: number): string => {
    for (const frame of wal.read(lsn, { toLsn: lsn })) return toHex(frame.hash)
    return ''
  }
  const theirs = async (lsn: number): Promise<string | null> => {
    const unknown = (why: string): DivergedPrefixError => new DivergedPrefixError('COMMON_LSN_UNKNOWN', `chain hash at LSN ${lsn} from ${leader.url}: ${why}`)
    let response: Response
    let body: unknown
    try {
      response = await fetch(`${leader.url}/replication/hash?lsn=${lsn}`, { headers: { Authorization: `Bearer ${leader.token}` }, signal: AbortSignal.timeout(leader.timeoutMs) })
      if (response.status === 404) return null
      if (!response.ok) throw unknown(`${response.status}`)
      body = await response.json()
    } catch (error) {
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

/** The LSN and epoch of every record this log holds beyond `commonLsn`. */
export function framesBeyond(wal: Wal, commonLsn: number): { lsn: number; epoch: number }[] {
  return [...wal.read(commonLsn + 1)].map((frame) => ({ lsn: frame.lsn, epoch: frame.epoch }))
}

type Discarded = readonly { lsn: number; epoch: number }[]

/**
 * Sets the records beyond `commonLsn` aside: keeps the log and snapshots up to it (keepCommonPrefix), or, when that
 * fails, moves the whole log and snapshots aside (setDivergedLogAside). The gateway must be stopped.
 */
export function setDivergedTailAside(dataDir: string, commonLsn: number, discarded: Discarded, options: KeepPrefixOptions = {}): DivergenceReport {
  try {
    return { ...describeDiscarded(commonLsn, discarded), ...keepCommonPrefix(dataDir, commonLsn, options), fallback: null }
  } catch (error) {
    if (!(error instanceof DivergedPrefixError)) throw error
    return { ...setDivergedLogAside(dataDir, commonLsn, discarded), fallback: error.message }
  }
}

/**
 * Moves `<dataDir>/log` (and `snapshots`, if any) aside under a `diverged-<ms>` suffix, to re-sync from scratch; the
 * gateway must be stopped.
 */
export function setDivergedLogAside(dataDir: string, commonLsn: number, discarded: Discarded): DivergenceReport {
  const suffix = `diverged-${Date.now()}`
  const movedTo = join(dataDir, `log.${suffix}`)
  renameSync(join(dataDir, 'log'), movedTo)
  const snapshots = join(dataDir, 'snapshots')
  if (existsSync(snapshots)) renameSync(snapshots, join(dataDir, `snapshots.${suffix}`))
  return { ...describeDiscarded(commonLsn, discarded), movedTo, ...nothingKept(), fallback: null }
}

/**
 * The kept log refused to start (HaNode.resync): it and its snapshots go aside too (`<movedTo>.kept`), so the node
 * re-syncs from scratch. Returns the report saying so.
 */
export function setKeptPrefixAside(dataDir: string, report: DivergenceReport, why: unknown): DivergenceReport {
  const suffix = `${report.movedTo.slice(join(dataDir, 'log.').length)}.kept`
  renameSync(join(dataDir, 'log'), join(dataDir, `log.${suffix}`))
  const snapshots = join(dataDir, 'snapshots')
  if (existsSync(snapshots)) renameSync(snapshots, join(dataDir, `snapshots.${suffix}`))
  const detail = why instanceof Error ? why.message : String(why)
  return { ...report, ...nothingKept(), fallback: `PREFIX_START_FAILED: the log kept through LSN ${report.keptPrefixToLsn} did not start (${detail}); set aside as log.${suffix}` }
}

function nothingKept(): Pick<DivergenceReport, 'keptPrefixToLsn' | 'linkedSegments' | 'linkedBytes' | 'copiedSegments' | 'copiedBytes' | 'snapshotsKept' | 'buildMs'> {
  return { keptPrefixToLsn: null, linkedSegments: 0, linkedBytes: 0, copiedSegments: 0, copiedBytes: 0, snapshotsKept: [], buildMs: 0 }
}

function describeDiscarded(commonLsn: number, discarded: Discarded): Pick<DivergenceReport, 'commonLsn' | 'discardedFromLsn' | 'discardedToLsn' | 'discardedCount' | 'discardedEpochs'> {
  return {
    commonLsn,
    discardedFromLsn: commonLsn + 1,
    discardedToLsn: discarded.at(-1)?.lsn ?? commonLsn,
    discardedCount: discarded.length,
    discardedEpochs: [...new Set(discarded.map((frame) => frame.epoch))],
  }
}
