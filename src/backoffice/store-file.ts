/**
 * Replacing the query model's SQLite file with a snapshot's copy, crash-safely: the old file's WAL and shared-memory
 * files go first, their removal made durable (a stale WAL applied to a new main file would corrupt it), then the copy
 * is written to a temp file, fsynced, renamed over the store and the directory fsynced. A crash at any point leaves either the old store (at
 * some LSN it records, checked against the log on the next start) or the copy — never a mix.
 */

import { closeSync, existsSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs'
import { dirname } from 'node:path'

export function replaceStoreFile(path: string, image: Uint8Array): void {
  for (const suffix of ['-wal', '-shm']) if (existsSync(path + suffix)) unlinkSync(path + suffix)
  // The removals must be durable before the new image takes the name: after a crash that kept the rename but not an
  // unlink, SQLite would replay the old image's -wal onto the new one.
  syncDir(dirname(path))
  const temp = `${path}.restore.tmp`
  const fd = openSync(temp, 'w')
  try {
    let written = 0
    while (written < image.byteLength) written += writeSync(fd, image, written, image.byteLength - written)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(temp, path)
  syncDir(dirname(path))
}

function syncDir(path: string): void {
  const dir = openSync(path, 'r')
  try {
    fsyncSync(dir)
  } finally {
    closeSync(dir)
  }
}
