/**
 * Bytes cut from the log, set aside rather than destroyed: a quarantine file beside the log (never in it), written
 * crash-safely and read back. The operator's cut (tail-repair.ts) and a writable open's cut of a torn tail
 * (tail-cut.ts) both keep what they remove this way, so what a cut removed can still be looked at afterwards.
 */

import { basename, dirname, join } from 'node:path'
import { makeDirDurable } from './durable-dir.ts'
import { WalRepairError } from './errors.ts'
import type { WalIo } from './io.ts'
import { readWhole } from './tail-diagnosis.ts'

/** Writes `bytes` to `path` crash-safely (temp file, fsync, rename, directory fsyncs) and reads it back. */
export function writeQuarantine(io: WalIo, path: string, bytes: Uint8Array): void {
  const dir = dirname(path)
  makeDirDurable(io, dir)
  const tempPath = `${path}.tmp`
  io.removeAll(tempPath)
  const fd = io.openAppend(tempPath)
  try {
    io.write(fd, bytes, 0)
    io.fsync(fd)
  } finally {
    io.close(fd)
  }
  io.rename(tempPath, path)
  io.fsyncDirectory(dir)
  const readBack = readWhole(io, path)
  if (Buffer.compare(readBack, bytes) !== 0) {
    throw new WalRepairError('REPAIR_UNVERIFIED', `the quarantine file ${basename(path)} does not read back as written; the log was not cut`)
  }
}

/** What a quarantine directory holds: its files (set-aside bytes, `*.tail`) and their bytes in all. */
export interface QuarantineUsage {
  files: number
  bytes: number
}

/**
 * Counts the quarantine files in `dir` (none when it does not exist). A cut's unfinished temp file is not one: the
 * cut that wrote it failed, and the next one rewrites it; nor is a `*.tail` that is no regular file (a cut writes
 * only those): a FIFO opened to be sized held the start until something wrote to it. Reads the directory and each
 * file's size (lstat), opening none.
 */
export function quarantineUsage(io: WalIo, dir: string): QuarantineUsage {
  if (!io.exists(dir)) return { files: 0, bytes: 0 }
  let files = 0
  let bytes = 0
  for (const name of io.readdir(dir)) {
    if (!name.endsWith('.tail')) continue
    const size = io.regularFileBytes(join(dir, name))
    if (size === null) continue
    bytes += size
    files++
  }
  return { files, bytes }
}
