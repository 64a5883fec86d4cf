/**
 * A standby told DIVERGED keeps the log it shares with the leader instead of fetching all of it again (HaNode.resync).
 * A deposed leader's log routinely ends in records it wrote but never got acknowledged (SIGKILLed mid-batch, fenced):
 * only those are set aside, and the node follows the leader again from the last shared LSN (`commonLsn`) + 1 rather
 * than re-copying and replaying a log of many GB with no standby meanwhile.
 *
 *   1. build, beside the live directories: in `log.prefix/` the log up to and including commonLsn (wal/prefix.ts:
 *      sealed segments hard-linked, the segment holding commonLsn copied and cut after its frame; checked and fsynced),
 *      in `snapshots.prefix/` the snapshots at LSN ≤ commonLsn (linked) with their manifest — a snapshot above it holds
 *      state built from the records set aside, and so does one whose back-office section is past it (backOfficePast). A compacted log (first LSN above 1) is kept only if a kept snapshot
 *      covers its first LSN: a restart from it needs one. Then the data dir is fsynced.
 *   2. commit and 3. swap (dir-swap.ts): the old log and snapshots go aside whole, as `log.diverged-<ms>` and
 *      `snapshots.diverged-<ms>` (bumped to `-<ms>-1`, … when taken) — every frame beyond commonLsn stays on disk
 *      there, for forensics, as before — and the built ones take their place.
 *
 * Any failure before the commit rolls the build back (the live directories were never touched) and throws
 * DivergedPrefixError: the caller sets the whole log aside instead and re-syncs from scratch (divergence.ts), saying
 * why in the divergence report. A failed fsync is the exception: fatal (durable-fs.ts), it throws SyncFailedError and
 * leaves everything as it is for the next start. At start-up `finishKeepingPrefix` (HaNode.start) completes a committed
 * swap or drops an unfinished build, so a half-built `log.prefix/` is never taken for the log.
 */

import { join } from 'node:path'
import { copyLogPrefix, nodeIo, type WalIo } from '../../../wal/index.ts'
import { snapshotSectionLsn } from '../../backoffice/section.ts'
import { SnapshotStore, SNAPSHOTS_KEEP_DEFAULT } from '../snapshot/index.ts'
import { builtDir, finishSwap, freeAsideSuffix, rollBack, swapCommitted, swapIn, writeCommitFile, type DirSwap, type SwapStep } from './dir-swap.ts'
import { fatalSyncs, SyncFailedError } from './durable-fs.ts'

export type DivergedPrefixCode =
  | 'COMMON_LSN_UNKNOWN' // the leader did not answer the chain-hash search (in time, or with a hash): nothing was kept or set aside
  | 'NO_COMMON_PREFIX' // the logs share no record: there is nothing to keep
  | 'COMPACTED_WITHOUT_SNAPSHOT' // the log is compacted and no snapshot at or below the common LSN covers its start
  | 'PREFIX_BUILD_FAILED' // a file-system call or a check failed while building (the error says which)

/** The shared prefix was not kept; nothing in the data dir changed. */
export class DivergedPrefixError extends Error {
  override readonly name = 'DivergedPrefixError'
  readonly code: DivergedPrefixCode

  constructor(code: DivergedPrefixCode, message: string, options?: { cause: unknown }) {
    super(`${code}: ${message}`, options)
    this.code = code
  }
}

/** The points after which a spec may stop keeping the prefix as a kill -9 would (`haltAfter`). */
export type PrefixStep = 'log_built' | 'snapshots_built' | 'committed' | SwapStep

/** Thrown by `haltAfter` (specs only): stopped at `step` with nothing cleaned up, like a crash. */
export class PrefixKeepingHalted extends Error {
  override readonly name = 'PrefixKeepingHalted'
  constructor(readonly step: PrefixStep) {
    super(`keeping the diverged prefix halted after ${step}`)
  }
}

export interface KeptPrefix {
  keptPrefixToLsn: number
  /** Segments shared with the log set aside (hard links), and their bytes. */
  linkedSegments: number
  linkedBytes: number
  /** Segments copied: the one cut at commonLsn, and any the filesystem would not link. */
  copiedSegments: number
  copiedBytes: number
  /** LSNs of the snapshots kept (newest first). */
  snapshotsKept: number[]
  /** Where the old log went whole (its snapshots beside it with the same suffix). */
  movedTo: string
  buildMs: number
}

export interface KeepPrefixOptions {
  /** The file-system calls of the build and the swap (specs inject failures); default node:fs. */
  io?: WalIo
  /** The suffix the old log and snapshots go aside under; default a free `diverged-<ms>` (divergedAsideSuffix). */
  asideSuffix?: string
  haltAfter?: (step: PrefixStep) => boolean
}

function prefixSwap(dataDir: string): DirSwap {
  return { dataDir, builtSuffix: '.prefix', commitFile: 'diverged-prefix.commit' }
}

/**
 * Replaces `dataDir/log` and `dataDir/snapshots` with their parts up to `commonLsn`, the old ones set aside whole (see
 * the file comment). The log must be closed. Throws DivergedPrefixError, having changed nothing, when the prefix
 * cannot be kept.
 */
export function keepCommonPrefix(dataDir: string, commonLsn: number, options: KeepPrefixOptions = {}): KeptPrefix {
  const started = performance.now()
  const io = fatalSyncs(options.io ?? nodeIo)
  finishKeepingPrefix(dataDir, io)
  if (!(Number.isSafeInteger(commonLsn) && commonLsn >= 1)) throw new DivergedPrefixError('NO_COMMON_PREFIX', `the last LSN shared with the leader is ${commonLsn}`)
  const swap = prefixSwap(dataDir)
  const suffix = options.asideSuffix ?? divergedAsideSuffix(dataDir, io)
  const halt = (step: PrefixStep): void => {
    if (options.haltAfter?.(step) === true) throw new PrefixKeepingHalted(step)
  }
  let kept: Omit<KeptPrefix, 'movedTo' | 'buildMs'>
  try {
    const log = copyLogPrefix(join(dataDir, 'log'), builtDir(swap, 'log'), commonLsn, { io })
    halt('log_built')
    const snapshots = new SnapshotStore(join(dataDir, 'snapshots'), { io, keep: SNAPSHOTS_KEEP_DEFAULT }).keepUpTo(builtDir(swap, 'snapshots'), commonLsn, backOfficePast)
    if (log.firstLsn > 1 && !snapshots.some((entry) => entry.lsn >= log.firstLsn)) {
      throw new DivergedPrefixError('COMPACTED_WITHOUT_SNAPSHOT', `the log starts at LSN ${log.firstLsn} and no snapshot between it and LSN ${commonLsn} is kept`)
    }
    io.fsyncDirectory(dataDir)
    halt('snapshots_built')
    writeCommitFile(swap, suffix, io)
    halt('committed')
    kept = {
      keptPrefixToLsn: commonLsn,
      linkedSegments: log.linkedSegments.length,
      linkedBytes: log.linkedBytes,
      copiedSegments: log.copiedSegments.length,
      copiedBytes: log.copiedBytes,
      snapshotsKept: snapshots.map((entry) => entry.lsn),
    }
  } catch (error) {
    // Halted (a spec's crash) or an fsync failed (fatal): left as it is, for the next start to finish or roll back.
    if (error instanceof PrefixKeepingHalted || error instanceof SyncFailedError) throw error
    rollBack(swap, io)
    if (error instanceof DivergedPrefixError) throw error
    throw new DivergedPrefixError('PREFIX_BUILD_FAILED', error instanceof Error ? error.message : String(error), { cause: error })
  }
  swapIn(swap, suffix, { halt, io })
  return { ...kept, movedTo: `${join(dataDir, 'log')}.${suffix}`, buildMs: Math.round(performance.now() - started) }
}

/** Whether a snapshot's back-office section holds records past `lsnMax` (section.ts snapshotSectionLsn). */
function backOfficePast(sections: ReadonlyMap<string, Uint8Array>, lsnMax: number): boolean {
  return (snapshotSectionLsn(sections) ?? 0) > lsnMax
}

/**
 * Finishes or rolls back what an interrupted `keepCommonPrefix` left in `dataDir`; a no-op when there is nothing.
 * Idempotent (a crash while it runs is handled by the next call).
 */
export function finishKeepingPrefix(dataDir: string, io: WalIo = nodeIo): 'none' | 'finished' | 'rolled_back' {
  return finishSwap(prefixSwap(dataDir), () => divergedAsideSuffix(dataDir, io), io)
}

/** A `diverged-<ms>` suffix no aside in `dataDir` has yet (dir-swap.ts freeAsideSuffix). */
export function divergedAsideSuffix(dataDir: string, io: WalIo = nodeIo): string {
  return freeAsideSuffix(dataDir, `diverged-${Date.now()}`, io)
}

/** Whether `dataDir` holds a committed, unfinished keeping of a diverged log's prefix. */
export function keepingPrefixCommitted(dataDir: string, io: WalIo = nodeIo): boolean {
  return swapCommitted(prefixSwap(dataDir), io)
}
