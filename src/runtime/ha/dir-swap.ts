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
 *      `<name>.<suffix>`) and the built one renamed into its place, the data dir fsynced after each rename; then
 *      the commit file is removed.
 *
 * At start-up `finishSwap` completes a committed swap (each step idempotent) or rolls back an uncommitted build, so a
 * node never refuses to start because of a half-done one, and never starts from a half-built directory: a built
 * directory is only ever renamed into place after its commit.
 */

import { readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { nodeIo, type WalIo } from '../../../wal/index.ts'

export interface DirSwap {
  dataDir: string
  /** Appended to `log` and `snapshots` for the directories being built (`.recovering`). */
  builtSuffix: string
  /** The commit file's name in the data dir. */
  commitFile: string
}

/** The points of a swap after which a spec may stop it as a kill -9 would. */
export type SwapStep = 'log_moved_aside' | 'log_swapped' | 'snapshots_moved_aside' | 'snapshots_swapped'

const SWAPPED = ['log', 'snapshots'] as const
const TEMP_SUFFIX = '.tmp'

/** Where the built `log` or `snapshots` directory is. */
export function builtDir(swap: DirSwap, name: (typeof SWAPPED)[number]): string {
  return join(swap.dataDir, name) + swap.builtSuffix
}

/** The commit point: temp file, fsync, rename, data dir fsync — after it returns the file is durable and whole. */
export function writeCommitFile(swap: DirSwap, asideSuffix: string): void {
  const path = join(swap.dataDir, swap.commitFile)
  rmSync(path + TEMP_SUFFIX, { force: true })
  const fd = nodeIo.openAppend(path + TEMP_SUFFIX)
  try {
    nodeIo.write(fd, new TextEncoder().encode(JSON.stringify({ suffix: asideSuffix })), 0)
    nodeIo.fsync(fd)
  } finally {
    nodeIo.close(fd)
  }
  nodeIo.rename(path + TEMP_SUFFIX, path)
  nodeIo.fsyncDirectory(swap.dataDir)
}

/**
 * Moves each old directory aside and the built one into its place, then drops the commit file; every step idempotent.
 * `io` carries the renames and directory fsyncs (specs inject failures; default node:fs).
 */
export function swapIn(swap: DirSwap, asideSuffix: string, options: { halt?: (step: SwapStep) => void; io?: WalIo } = {}): void {
  const io = options.io ?? nodeIo
  const halt = options.halt ?? ((): void => {})
  for (const name of SWAPPED) {
    const dir = join(swap.dataDir, name)
    const built = builtDir(swap, name)
    if (!io.exists(built)) continue // swapped already
    if (io.exists(dir)) {
      io.rename(dir, `${dir}.${asideSuffix}`)
      io.fsyncDirectory(swap.dataDir)
      halt(`${name}_moved_aside`)
    }
    io.rename(built, dir)
    io.fsyncDirectory(swap.dataDir)
    halt(`${name}_swapped`)
  }
  rmSync(join(swap.dataDir, swap.commitFile), { force: true })
  io.fsyncDirectory(swap.dataDir)
}

/** Before the commit: drops what was built; the live log and snapshots were never touched. */
export function rollBack(swap: DirSwap): void {
  for (const name of SWAPPED) rmSync(builtDir(swap, name), { recursive: true, force: true })
  rmSync(join(swap.dataDir, swap.commitFile) + TEMP_SUFFIX, { force: true })
  rmSync(join(swap.dataDir, swap.commitFile), { force: true })
  nodeIo.fsyncDirectory(swap.dataDir)
}

/**
 * Finishes or rolls back what an interrupted swap left in the data dir; a no-op when there is nothing. `asideSuffix`
 * is used only when the commit file cannot be read. Idempotent: a crash while it runs is handled by the next call.
 */
export function finishSwap(swap: DirSwap, asideSuffix: () => string, io: WalIo = nodeIo): 'none' | 'finished' | 'rolled_back' {
  const commitPath = join(swap.dataDir, swap.commitFile)
  if (io.exists(commitPath)) {
    swapIn(swap, committedSuffix(commitPath) ?? asideSuffix(), { io })
    return 'finished'
  }
  const leftovers = [...SWAPPED.map((name) => builtDir(swap, name)), commitPath + TEMP_SUFFIX]
  if (!leftovers.some((path) => io.exists(path))) return 'none'
  rollBack(swap)
  return 'rolled_back'
}

/** The suffix a commit file names, or null if the file cannot be read (finishing must not fail on it). */
function committedSuffix(commitPath: string): string | null {
  try {
    const suffix = (JSON.parse(readFileSync(commitPath, 'utf8')) as { suffix?: unknown }).suffix
    if (typeof suffix === 'string' && /^[\w.-]+$/.test(suffix)) return suffix
  } catch {
    // unreadable: fall through
  }
  return null
}
