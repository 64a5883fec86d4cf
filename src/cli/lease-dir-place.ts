/**
 * Where serve's --lease-dir may not be: the node's own data directory or anywhere under it. The lease is the pair's —
 * each node has its own data dir —, and one kept in a data dir goes wherever that data dir goes: replaced by a restored
 * backup or a fresh directory, its `epoch-*.json` files went with it, and the next take started again at epoch 1,
 * below the epochs the log already holds (the fencing token counted backwards). It was accepted, and the lease files
 * were written among the log's.
 *
 * Compared by real paths (a symbolic link to the data dir, or under it, is the data dir), each taken from its nearest
 * existing part, since either may not exist before the first start. A data dir under the lease directory is left
 * alone: the lease files do not land in it, and the lease code reads only its own `epoch-*.json` names there.
 */

import { realpathSync } from 'node:fs'
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path'
import { UsageError } from './command.ts'

/** Throws UsageError when `leaseDir` is `dataDir` or lies under it, naming both as given. */
export function refuseLeaseDirInDataDir(leaseDir: string, dataDir: string): void {
  const inside = relative(realPathOf(dataDir), realPathOf(leaseDir))
  if (inside.split(sep)[0] === '..' || isAbsolute(inside)) return
  const where = inside === '' ? 'is' : 'lies in'
  throw new UsageError(`--lease-dir ${leaseDir}: ${where} the data directory ${dataDir}; the lease is shared by the nodes and each has its own data directory: give a directory outside it`)
}

/** `path` with its nearest existing part resolved through links; the missing rest appended as given. */
function realPathOf(path: string): string {
  let existing = resolve(path)
  const missing: string[] = []
  for (;;) {
    try {
      return join(realpathSync(existing), ...missing)
    } catch {
      const parent = dirname(existing)
      if (parent === existing) return resolve(path)
      missing.unshift(basename(existing))
      existing = parent
    }
  }
}
