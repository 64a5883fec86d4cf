/**
 * Creating a directory durably. A new directory is findable after a power cut only once the directory holding it has
 * been fsynced: fsyncing the new directory itself makes the entries IN it durable (a segment, a snapshot), not its
 * own entry in its parent. Without it a fresh data directory could come back from a power cut without its log/ —
 * acknowledged records and all — or a first snapshot without its snapshots/, after compaction removed the segments
 * below it (COMPACTED_NO_SNAPSHOT: those records gone for good).
 */

import { dirname, resolve } from 'node:path'
import type { WalIo } from './io.ts'

/**
 * Creates `path` and every missing directory above it (with `mkdir`, default `io.mkdirp`: a caller that wants a mode
 * passes its own), then fsyncs the parent of each directory created, top down, and the parent of `path` in any case
 * (an earlier process may have created it and died before that fsync). A failed fsync throws as `io` throws it (a
 * caller whose io marks it fatal dies of it).
 */
export function makeDirDurable(io: WalIo, path: string, mkdir: (path: string) => void = (dir) => io.mkdirp(dir)): void {
  const leaf = resolve(path)
  const created: string[] = []
  for (let dir = leaf; !io.exists(dir); dir = dirname(dir)) {
    created.push(dir)
    if (dirname(dir) === dir) break
  }
  mkdir(leaf)
  const parents = new Set<string>()
  for (const dir of created.reverse()) parents.add(dirname(dir))
  parents.add(dirname(leaf))
  for (const parent of parents) if (parent !== leaf) io.fsyncDirectory(parent)
}
