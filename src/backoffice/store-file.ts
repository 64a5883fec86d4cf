/**
 * Replacing the query model's SQLite file with a snapshot's copy, crash-safely, in two steps:
 *
 * 1. stage: the copy is written to a temp file, fsynced, and renamed to `<store>.restore` (the directory fsynced): a
 *    whole copy under that name is the decision, taken;
 * 2. finish: the old file's WAL and shared-memory files go, their removal made durable (a stale WAL applied to the
 *    new main file would corrupt it), then the staged copy is renamed over the store and the directory fsynced.
 *
 * A crash in step 1 leaves the old store as it was (a stray temp file, removed at the next start). A crash in step 2
 * leaves the staged copy, which the next start finishes (finishStoreReplacement) before it opens the store: the store
 * is then the copy, as if the crash had come after the rename. Before, a crash between the removal of the old WAL and
 * the rename left the old main file without its WAL — a main file a checkpoint was writing when an earlier crash came
 * is whole only with its WAL, and the next start refused it QUERY_MODEL_UNREADABLE (crash review).
 */

import type { Database } from 'bun:sqlite'
import { closeSync, existsSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs'
import { dirname } from 'node:path'
import { QueryModelStoreError } from './store-error.ts'

export function replaceStoreFile(path: string, image: Uint8Array): void {
  const staged = stagedPathOf(path)
  const temp = `${staged}.tmp`
  const fd = openSync(temp, 'w')
  try {
    let written = 0
    while (written < image.byteLength) written += writeSync(fd, image, written, image.byteLength - written)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(temp, staged)
  syncDir(dirname(path))
  finishStoreReplacement(path)
}

/**
 * Finishes a replacement a crash interrupted after its copy was staged (true), else removes a copy left half-written
 * (false). Run before the store is opened.
 */
export function finishStoreReplacement(path: string): boolean {
  const staged = stagedPathOf(path)
  if (!existsSync(staged)) {
    if (existsSync(`${staged}.tmp`)) unlinkSync(`${staged}.tmp`)
    return false
  }
  for (const suffix of ['-wal', '-shm']) if (existsSync(path + suffix)) unlinkSync(path + suffix)
  // The removals must be durable before the copy takes the name: after a crash that kept the rename but not an
  // unlink, SQLite would replay the old image's -wal onto the new one.
  syncDir(dirname(path))
  renameSync(staged, path)
  syncDir(dirname(path))
  return true
}

/** Where a whole copy waits to take the store's name. */
export function stagedPathOf(path: string): string {
  return `${path}.restore`
}

function syncDir(path: string): void {
  const dir = openSync(path, 'r')
  try {
    fsyncSync(dir)
  } finally {
    closeSync(dir)
  }
}

/**
 * A file whose header and `meta` row are whole may still hold a damaged page (a torn write, a bad sector): it opened,
 * matched the log, and every read over that page failed ("database disk image is malformed"). Checked whole at open
 * (quick_check: ~3 ms per MB), it is refused as a damaged file is (QUERY_MODEL_UNREADABLE, SQLITE_CORRUPT).
 */
export function checkStorePages(path: string, db: Database): void {
  const rows = db.query('PRAGMA quick_check(1)').all() as { quick_check: string }[]
  const said = rows[0]?.quick_check ?? 'no answer'
  if (said !== 'ok') throw QueryModelStoreError.unreadable(path, Object.assign(new Error(`quick_check: ${said}`), { code: 'SQLITE_CORRUPT' }))
}
