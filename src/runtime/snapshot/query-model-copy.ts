/**
 * A private copy of a data dir's stored query model (`backoffice.sqlite` and its `-wal`), so the offline commands and
 * replay-verify read it without writing the data dir. A file that cannot be copied is QUERY_MODEL_UNREADABLE naming
 * the data dir's file, as a start refuses it: a directory under its name failed as `ENOTSUP: operation not supported
 * on socket, copyfile …` (Bun's copy of a directory), with no code, and blamed a socket.
 */

import { copyFileSync, existsSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { QueryModelStoreError, stagedPathOf } from '../../backoffice/index.ts'

/**
 * Copies `path` (and `path`-wal, when present) into `scratchDir` as `name`; returns the copy's path. A replacement a
 * crash left staged (src/backoffice/store-file.ts) is the store the next start opens: its copy is read instead.
 */
export function copyStoredQueryModel(path: string, scratchDir: string, name: string): string {
  const staged = stagedPathOf(path)
  const sources: [string, string][] = existsSync(staged) ? [[staged, '']] : [[path, ''], [`${path}-wal`, '-wal']]
  for (const [from, suffix] of sources) {
    if (!existsSync(from)) continue
    try {
      if (!statSync(from).isFile()) throw new Error(`${from} is not a regular file`)
      copyFileSync(from, join(scratchDir, name + suffix))
    } catch (error) {
      throw QueryModelStoreError.unreadable(path, error)
    }
  }
  return join(scratchDir, name)
}
