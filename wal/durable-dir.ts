/**
 * Creating a directory durably. A new directory is findable after a power cut only once the directory holding it has
 * been fsynced: fsyncing the new directory itself makes the entries IN it durable (a segment, a snapshot), not its
 * own entry in its parent. Without it a fresh data directory could come back from a power cut without its log/ —
 * acknowledged records and all — or a first snapshot without its snapshots/, after compaction removed the segments
 * below it (COMPACTED_NO_SNAPSHOT: those records gone for good).
 */

import { dirname, resolve } from 'node:path'
import { NotADirectoryError } from './errors.ts'
import type { WalIo } from './io.ts'

export interface DurableDirOptions {
  /** Makes `path` and the missing directories above it (default `io.mkdirp`: a caller that wants a mode passes its own). */
  mkdir?: (path: string) => void
  /**
   * Also fsync the parent of `path` when `path` exists already (an earlier process may have made it and died before
   * that fsync). Only where that parent is known readable (the data dir, for a directory in it): opening a directory
   * to fsync it needs read permission, which an operator's parent of a data or archive dir (mode 0711) may not give.
   */
  syncParentOfExisting?: boolean
}

/**
 * Creates `path` and every missing directory above it, then fsyncs the parent of each directory created, top down
 * (and the parent of an existing `path` when asked). A failed fsync throws as `io` throws it (a caller whose io marks
 * it fatal dies of it).
 */
export function makeDirDurable(io: WalIo, path: string, options: DurableDirOptions = {}): void {
  const leaf = resolve(path)
  const created: string[] = []
  for (let dir = leaf; !io.exists(dir); dir = dirname(dir)) {
    created.push(dir)
    if (dirname(dir) === dir) break
  }
  try {
    if (options.mkdir === undefined) io.mkdirp(leaf)
    else options.mkdir(leaf)
  } catch (error) {
    // A file where the directory (or one above it) should be: node says EEXIST or ENOTDIR naming only the syscall.
    const code = (error as { code?: unknown } | null)?.code
    if (code === 'EEXIST' || code === 'ENOTDIR') throw new NotADirectoryError(leaf, error)
    throw error
  }
  const parents = new Set<string>()
  for (const dir of created.reverse()) parents.add(dirname(dir))
  if (options.syncParentOfExisting === true) parents.add(dirname(leaf))
  for (const parent of parents) if (parent !== leaf) io.fsyncDirectory(parent)
}
