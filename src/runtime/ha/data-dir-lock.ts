/**
 * The data directory's own lock (`<dataDir>/DATA_DIR_LOCK`, flock as wal/dir-lock.ts): whoever may finish or make a
 * swap of `log/` and `snapshots/` (interrupted-swaps.ts, dir-swap.ts) holds it first.
 *
 * The log's lock (`log/LOCK`) cannot guard a swap: a swap moves `log/` itself aside, and an HA node makes its swaps
 * with its gateway — the log's only writer — stopped, the log's lock free. `egress snapshot` and `egress compact`
 * finished interrupted swaps before they took any lock, so one run while an HA node installed a snapshot rolled its
 * half-built `log.recovering/` back under it (no commit file yet), or raced its swap; a second `egress serve` did the
 * same as it started. Now an HA node holds this lock from its start to the end of its stop, a plain `egress serve`
 * while it finishes swaps and opens its log (the log's lock keeps others out from there), and the offline commands for
 * as long as they run; each finishes interrupted swaps only once it holds it.
 */

import { makeDirDurable, LogDirLock, nodeIo, type WalIo } from '../../../wal/index.ts'

export const DATA_DIR_LOCK_FILE = 'DATA_DIR_LOCK'

/**
 * Takes `dataDir`'s lock (see the file comment), or throws WalLockedError naming its holder. With `create` (a node, a
 * serve: their first start makes the data dir) a missing directory is made, its entry in its parent fsynced (a log
 * created in it later fsyncs only the data dir: without this a power cut could lose the data dir and every
 * acknowledged record in it); without it (an offline command, which never creates one) a plain Error says it is not a
 * data directory. `io`: the file-system calls (specs model a power cut).
 */
export function lockDataDir(dataDir: string, options: { create: boolean; io?: WalIo }): LogDirLock {
  const io = options.io ?? nodeIo
  if (options.create) makeDirDurable(io, dataDir)
  else if (!io.exists(dataDir)) throw new Error(`${dataDir} does not exist: not a data directory (nothing created)`)
  return LogDirLock.acquire(dataDir, { file: DATA_DIR_LOCK_FILE, refusal: 'a running node (or another command) holds this data directory' })
}
