/** What "changed nothing on disk" is compared on in the offline commands' specs. */

import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'

/**
 * Every file under `dir` but the lock files (log/LOCK, DATA_DIR_LOCK: a command that takes a lock rewrites its holder
 * line), by path relative to `dir`, with its bytes in base64.
 */
export function dataDirContents(dir: string): Record<string, string> {
  const files: Record<string, string> = {}
  const walk = (at: string): void => {
    for (const name of readdirSync(at).sort()) {
      const path = join(at, name)
      if (statSync(path).isDirectory()) walk(path)
      else if (name !== 'LOCK' && name !== 'DATA_DIR_LOCK') files[relative(dir, path)] = readFileSync(path).toString('base64')
    }
  }
  walk(dir)
  return files
}
