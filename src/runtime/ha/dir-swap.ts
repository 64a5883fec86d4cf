/**
 * Replacing a data directory's `log/` and `snapshots/` with ones built beside them, all or nothing across a crash: the
 * last steps of a snapshot recovery (snapshot-recovery.ts) and of keeping a diverged log's shared prefix
 * (diverged-prefix.ts). Each names its own built directories (`log<builtSuffix>`, `snapshots<builtSuffix>`) and
 * commit file, so one never mistakes the other's leftovers for its own.
 *
 *   1. build (the caller): both built directories complete, every file and directory fsynced, the data dir too. A
 *      failure or a crash here leaves the live directories untouched; the built ones are dropped (`rollBack`).
 *   2. commit (`writeCommitFile`): the commit file (temp file, fsync, rename, data dir fsync) names the suffix the
 *      old directories will get. From here on the swap is finished, never undone.
 *   3. swap (`swapIn`): for log/ then snapshots/, the old directory is renamed aside (never deleted:
 *      `<name>.<suffix>`, a suffix no earlier aside has: `freeAsideSuffix`; never onto an existing one: refused,
 *      AsideExistsError ASIDE_EXISTS) and the built one renamed into its place, the data dir fsynced after each
 *      rename; then the commit file is removed.
 *
 * Every file-system call goes through the `io` given (default node:fs), and a failed fsync is fatal (durable-fs.ts):
 * it throws SyncFailedError and nothing is cleaned up or retried; the next start finishes or rolls back from what is
 * on disk.
 *
 * At start-up `finishSwap` completes a committed swap (each step idempotent) or rolls back an uncommitted build, so a
 * node never refuses to start because of a half-done one, and never starts from a half-built directory: a built
 * directory is only ever renamed into place after its commit.
 */

import { join } from 'node:path'
import { nodeIo, readFully, type WalIo } from '../../../wal/index.ts'
import { fatalSyncs, renameDurably } from './durable-fs.ts'

export interface DirSwap {
  dataDir: string
  /** Appended to `log` and `snapshots` for the directories being built (`.recovering`). */
  builtSuffix: string
  /** The commit file's name in the data dir. */
  commitFile: string
}

/** The points of a swap after which a spec may stop it as a kill -9 would. */
export type SwapStep = 'log_moved_aside' | 'log_swapped' | 'snapshots_moved_aside' | 'snapshots_swapped'

/**
 * The swap refused to set a directory aside under a name that exists already (ASIDE_EXISTS): renamed onto an empty
 * directory it would replace it silently, onto a non-empty one it fails. `freeAsideSuffix` picks names no aside has,
 * so this means one was put there since (by hand); nothing was renamed, and the swap stays committed: one of the two
 * must be moved away by hand before the next start finishes it.
 */
export class AsideExistsError extends Error {
  override readonly name = 'AsideExistsError'
  readonly code = 'ASIDE_EXISTS'

  constructor(
    /** The directory that was to be set aside (`<dataDir>/log` or `<dataDir>/snapshots`). */
    readonly dir: string,
    /** The name it was to get, which exists. */
    readonly aside: string,
  ) {
    super(`ASIDE_EXISTS: ${aside} exists already: ${dir} is not set aside onto it; move one of them away by hand`)
  }
}

const SWAPPED = ['log', 'snapshots'] as const
const TEMP_SUFFIX = '.tmp'
/** A commit file holds `{"suffix": …}`; one longer than this is not one (read as unreadable). */
const COMMIT_FILE_BYTES_MAX = 4096

/** Where the built `log` or `snapshots` directory is. */
export function builtDir(swap: DirSwap, name: (typeof SWAPPED)[number]): string {
  return join(swap.dataDir, name) + swap.builtSuffix
}

/**
 * A suffix for setting `log/` and `snapshots/` aside that no entry of `dataDir` uses yet: `base`, else `base-1`,
 * `base-2`, … An entry counts as using it when named `log.<suffix>` or `snapshots.<suffix>`, or starting with either
 * and a dot (`log.<suffix>.kept`). Time-stamped bases repeat within a millisecond, or when the clock steps back; an
 * aside is never renamed onto, so a repeated name would fail the swap, and after its commit every retry with it.
 */
export function freeAsideSuffix(dataDir: string, base: string, io: WalIo = nodeIo): string {
  const names = io.exists(dataDir) ? io.readdir(dataDir) : []
  const taken = (suffix: string): boolean =>
    SWAPPED.some((name) => names.some((entry) => entry === `${name}.${suffix}` || entry.startsWith(`${name}.${suffix}.`)))
  let suffix = base
  for (let bump = 1; taken(suffix); bump++) suffix = `${base}-${bump}`
  return suffix
}

/** The commit point: temp file, fsync, rename, data dir fsync — after it returns the file is durable and whole. */
export function writeCommitFile(swap: DirSwap, asideSuffix: string, io: WalIo = nodeIo): void {
  const synced = fatalSyncs(io)
  const path = join(swap.dataDir, swap.commitFile)
  synced.removeAll(path + TEMP_SUFFIX)
  const fd = synced.openAppend(path + TEMP_SUFFIX)
  try {
    synced.write(fd, new TextEncoder().encode(JSON.stringify({ suffix: asideSuffix })), 0)
    synced.fsync(fd)
  } finally {
    synced.close(fd)
  }
  renameDurably(synced, path + TEMP_SUFFIX, path)
}

/**
 * Moves each old directory aside and the built one into its place, then drops the commit file; every step idempotent.
 * `io` carries the renames and directory fsyncs (specs inject failures; default node:fs).
 */
export function swapIn(swap: DirSwap, asideSuffix: string, options: { halt?: (step: SwapStep) => void; io?: WalIo } = {}): void {
  const io = fatalSyncs(options.io ?? nodeIo)
  const halt = options.halt ?? ((): void => {})
  for (const name of SWAPPED) {
    const dir = join(swap.dataDir, name)
    const built = builtDir(swap, name)
    if (!io.exists(built)) continue // swapped already
    if (io.exists(dir)) {
      const aside = `${dir}.${asideSuffix}`
      // A directory renamed onto an empty one replaces it: never onto an earlier aside, whatever it holds.
      if (io.exists(aside)) throw new AsideExistsError(dir, aside)
      renameDurably(io, dir, aside)
      halt(`${name}_moved_aside`)
    }
    renameDurably(io, built, dir)
    halt(`${name}_swapped`)
  }
  io.removeAll(join(swap.dataDir, swap.commitFile))
  io.fsyncDirectory(swap.dataDir)
}

/** Before the commit: drops what was built; the live log and snapshots were never touched. */
export function rollBack(swap: DirSwap, io: WalIo = nodeIo): void {
  const synced = fatalSyncs(io)
  for (const name of SWAPPED) synced.removeAll(builtDir(swap, name))
  synced.removeAll(join(swap.dataDir, swap.commitFile) + TEMP_SUFFIX)
  synced.removeAll(join(swap.dataDir, swap.commitFile))
  synced.fsyncDirectory(swap.dataDir)
}

/**
 * Finishes or rolls back what an interrupted swap left in the data dir; a no-op when there is nothing. `asideSuffix`
 * is used only when the commit file cannot be read. Idempotent: a crash while it runs is handled by the next call.
 */
export function finishSwap(swap: DirSwap, asideSuffix: () => string, io: WalIo = nodeIo): 'none' | 'finished' | 'rolled_back' {
  const commitPath = join(swap.dataDir, swap.commitFile)
  if (io.exists(commitPath)) {
    swapIn(swap, committedSuffix(commitPath, io) ?? asideSuffix(), { io })
    return 'finished'
  }
  const leftovers = [...SWAPPED.map((name) => builtDir(swap, name)), commitPath + TEMP_SUFFIX]
  if (!leftovers.some((path) => io.exists(path))) return 'none'
  rollBack(swap, io)
  return 'rolled_back'
}

/** Whether a swap was committed and not finished: `log/` may be the old one, the new one, or missing. */
export function swapCommitted(swap: DirSwap, io: WalIo = nodeIo): boolean {
  return io.exists(join(swap.dataDir, swap.commitFile))
}

/** The aside suffix a committed, unfinished swap names (where its old log goes), or null when none is committed. */
export function committedAsideSuffix(swap: DirSwap, io: WalIo = nodeIo): string | null {
  const commitPath = join(swap.dataDir, swap.commitFile)
  return io.exists(commitPath) ? committedSuffix(commitPath, io) : null
}

/** The suffix a commit file names, or null if the file cannot be read (finishing must not fail on it). */
function committedSuffix(commitPath: string, io: WalIo): string | null {
  try {
    const suffix = (JSON.parse(readSmallFile(commitPath, io)) as { suffix?: unknown }).suffix
    if (typeof suffix === 'string' && /^[\w.-]+$/.test(suffix)) return suffix
  } catch {
    // unreadable: fall through
  }
  return null
}

/** The commit file's text (a few dozen bytes; at most COMMIT_FILE_BYTES_MAX read). */
function readSmallFile(path: string, io: WalIo): string {
  const fd = io.openRead(path)
  try {
    return new TextDecoder().decode(readFully(io, fd, 0, Math.min(io.sizeBytes(fd), COMMIT_FILE_BYTES_MAX)))
  } finally {
    io.close(fd)
  }
}
