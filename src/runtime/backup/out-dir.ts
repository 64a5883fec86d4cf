/**
 * Where a backup is written: `--out DIR` must not exist or be an empty directory (anything else is refused, nothing
 * written), and the copy is built in a directory beside it (same parent, so the same file system) and renamed into
 * place only once it is complete, fsynced and verified. A failure, or a crash, leaves no DIR: at most the build
 * directory, whose name says what it is (`.DIR.backup-partial-<pid>-<ms>`), which a failure removes.
 */

import { existsSync, lstatSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { nodeIo } from '../../../wal/index.ts'
import { BackupError } from './backup-error.ts'

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

/** Creates the build directory beside `out`. */
export function makeBuildDir(out: string): string {
  const build = join(dirname(resolve(out)), `.${basename(resolve(out))}.backup-partial-${process.pid}-${Date.now()}`)
  try {
    mkdirSync(build)
  } catch (error) {
    throw new BackupError('BACKUP_WRITE_FAILED', `creating ${build}: ${error instanceof Error ? error.message : String(error)}`)
  }
  return build
}

/**
 * Makes the finished build durable and renames it to `out` (an empty `out` is replaced: rename(2) replaces an empty
 * directory), then fsyncs the parent so the new name survives a power cut. Rechecks `out` first: something may have
 * been written there since the start.
 */
export function publishBuild(build: string, out: string): void {
  checkOutDir(out)
  try {
    for (const sub of ['log', 'snapshots']) if (existsSync(join(build, sub))) nodeIo.fsyncDirectory(join(build, sub))
    nodeIo.fsyncDirectory(build)
    // By its full path: rename(2) refuses '.' (EBUSY), and takes the working directory named in full.
    renameSync(build, resolve(out))
    nodeIo.fsyncDirectory(dirname(resolve(out)))
  } catch (error) {
    throw new BackupError('BACKUP_WRITE_FAILED', `publishing ${build} as ${out}: ${error instanceof Error ? error.message : String(error)}`)
  }
}

/** Removes the build directory (a failure's clean-up; never `out`). */
export function discardBuild(build: string): void {
  rmSync(build, { recursive: true, force: true })
}
