/**
 * Where a backup is written: `--out DIR` must not exist or be an empty directory (anything else is refused, nothing
 * written), and the copy is built in a directory beside it (same parent, so the same file system) and renamed into
 * place only once it is complete, fsynced and verified. A failure, or a crash, leaves no DIR: at most the build
 * directory, whose name says what it is (`.DIR.backup-partial-<pid>-<ms>`), which a failure removes, and a crash's
 * the next run to DIR (stale-builds.ts: each run holds a lock on its build while it runs).
 */

import { existsSync, lstatSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { nodeIo, type LogDirLock } from '../../../wal/index.ts'
import { BackupError } from './backup-error.ts'
import { BUILD_LOCK_SUFFIX, buildPrefixOf, lockBuild, removeStaleBuilds } from './stale-builds.ts'

/** A run's build directory and its lock (null: the file system cannot lock), held until it is published or discarded. */
export interface BuildDir {
  path: string
  lock: LogDirLock | null
}

/** Refuses `out` unless it is absent or an empty directory, its parent an existing directory. */
export function checkOutDir(out: string): void {
  const parent = dirname(resolve(out))
  if (!existsSync(parent) || !statSync(parent).isDirectory()) {
    throw new BackupError('BACKUP_OUT_UNUSABLE', `--out ${out}: its parent ${parent} is not an existing directory; nothing was written`)
  }
  // The copy is renamed onto `out` at the end, which does not work for a symlink: refused here, before the whole copy
  // was made and verified and then lost to the rename (review). (`.` is renamed onto by its full path: publishBuild.)
  if (isSymlink(out.replace(/\/+$/, ''))) throw new BackupError('BACKUP_OUT_UNUSABLE', `--out ${out} is a symbolic link, which the finished copy cannot be renamed onto; give the directory itself or a new one; nothing was written`)
  if (!existsSync(out)) return
  if (!statSync(out).isDirectory()) throw new BackupError('BACKUP_OUT_NOT_EMPTY', `--out ${out} is a file, not an empty directory; nothing was written`)
  const entries = readdirSync(out)
  if (entries.length > 0) {
    const named = entries.slice(0, 3).map((name) => JSON.stringify(name)).join(', ')
    throw new BackupError('BACKUP_OUT_NOT_EMPTY', `--out ${out} is not empty (it holds ${named}${entries.length > 3 ? ` and ${entries.length - 3} more` : ''}); give a new or empty directory; nothing was written`)
  }
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink()
  } catch {
    return false
  }
}

/** Removes the build directories earlier runs left beside `out`, then locks and creates this run's. */
export function makeBuildDir(out: string, log: (line: string) => void): BuildDir {
  removeStaleBuilds(out, log)
  const path = join(dirname(resolve(out)), `${buildPrefixOf(out)}${process.pid}-${Date.now()}`)
  let lock: LogDirLock | null = null
  try {
    // The lock first: a build directory is never there without its lock held (stale-builds.ts).
    lock = lockBuild(path, log)
    mkdirSync(path)
  } catch (error) {
    // Not another's: a lock this run could not take is left as it is (the same name, in this process, at the same ms).
    if (lock !== null) dropLock({ path, lock })
    throw new BackupError('BACKUP_WRITE_FAILED', `creating ${path}: ${error instanceof Error ? error.message : String(error)}`)
  }
  return { path, lock }
}

/**
 * Makes the finished build durable and renames it to `out` (an empty `out` is replaced: rename(2) replaces an empty
 * directory), then fsyncs the parent so the new name survives a power cut. Rechecks `out` first: something may have
 * been written there since the start.
 */
export function publishBuild(build: BuildDir, out: string): void {
  checkOutDir(out)
  try {
    for (const sub of ['log', 'snapshots']) if (existsSync(join(build.path, sub))) nodeIo.fsyncDirectory(join(build.path, sub))
    nodeIo.fsyncDirectory(build.path)
    // By its full path: rename(2) refuses '.' (EBUSY), and takes the working directory named in full.
    renameSync(build.path, resolve(out))
    nodeIo.fsyncDirectory(dirname(resolve(out)))
  } catch (error) {
    throw new BackupError('BACKUP_WRITE_FAILED', `publishing ${build.path} as ${out}: ${error instanceof Error ? error.message : String(error)}`)
  }
  dropLock(build)
}

/** Removes the build directory (a failure's clean-up; never `out`), then its lock. */
export function discardBuild(build: BuildDir): void {
  rmSync(build.path, { recursive: true, force: true })
  dropLock(build)
}

/** Removes the lock file, then lets the lock go: only once the build directory is gone (renamed or removed). */
function dropLock(build: BuildDir): void {
  try {
    rmSync(`${build.path}${BUILD_LOCK_SUFFIX}`, { force: true })
  } catch {
    // Left, it is harmless: the next run takes it, finds no directory, and removes it.
  }
  build.lock?.release()
}
