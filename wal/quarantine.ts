/**
 * Bytes cut from the log, set aside rather than destroyed: a quarantine file beside the log (never in it), written
 * crash-safely and read back. The operator's cut (tail-repair.ts) and a writable open's cut of a torn tail
 * (tail-cut.ts) both keep what they remove this way, so what a cut removed can still be looked at afterwards.
 */

import { basename, dirname } from 'node:path'
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
