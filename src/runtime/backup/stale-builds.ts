/**
 * The build directories (`.DIR.backup-partial-<pid>-<ms>`, out-dir.ts) of backup runs that ended without removing
 * theirs — killed (kill -9, OOM), crashed, the host's power cut — are removed by the next run to the same DIR. They
 * were left forever: one whole copy of a leader's data each, beside the backups, on the volume meant for them.
 *
 * Never a build another run is still writing. Each run holds an flock(2) on `<build>.lock`, beside its build
 * directory, from before the directory is made until after it was renamed to DIR or removed; the kernel drops the lock
 * when the process ends, however it ends, so a lock that can be taken is a run that is over, with no PID guesswork —
 * the data dir's and the log's own locks work so (wal/dir-lock.ts). A pid and start time in the name (or in the
 * directory) were the other way: a pid is reused, and a run on another host writing to a shared parent is no process
 * here; not chosen. A build directory without a lock file is over too (a run of a version before the lock, or one
 * killed between removing its directory and its lock): a live run's lock exists before its directory does. On a file
 * system without flock (LOCK_FAILED: NFS without lock support) nothing can be told, and nothing is removed.
 */

import { readdirSync, rmSync, unlinkSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { LockFailedError, LogDirLock, WalLockedError } from '../../../wal/index.ts'

/** The lock file's name beside a build directory: the directory's name and this. */
export const BUILD_LOCK_SUFFIX = '.lock'

/**
 * The lock of the build directory `build`. A link at its path is refused, never followed: anyone who may write in DIR's
 * parent could name one so, and the lock's open had the holder's line written over the file it points to (or made one
 * where it points); the build is then left as it is, its lock not taken.
 */
function buildLockOptions(build: string): { file: string; refusal: string; noFollow: true } {
  return { file: `${basename(build)}${BUILD_LOCK_SUFFIX}`, refusal: 'another backup run writes this build directory', noFollow: true }
}

/** The start of the name of every build directory of a backup to `out` (the run's `<pid>-<ms>` follows). */
export function buildPrefixOf(out: string): string {
  return `.${basename(resolve(out))}.backup-partial-`
}

/**
 * Takes the lock of the build directory `build` (not made yet). Null when the file system cannot lock (LockFailedError):
 * the run goes on unguarded, as before the lock, and no other run removes its build (it cannot take the lock either).
 */
export function lockBuild(build: string, log: (line: string) => void): LogDirLock | null {
  try {
    return LogDirLock.acquire(dirname(build), buildLockOptions(build))
  } catch (error) {
    if (!(error instanceof LockFailedError)) throw error
    log(`backup: note: ${error.message}; a later run cannot tell whether this one still runs, and will leave its build directory if it is killed`)
    return null
  }
}

/** Removes the build directories beside `out` of runs that are over (file comment); names each removed or left. */
export function removeStaleBuilds(out: string, log: (line: string) => void): void {
  const parent = dirname(resolve(out))
  const prefix = buildPrefixOf(out)
  const builds = new Set<string>()
  let names: string[]
  try {
    names = readdirSync(parent)
  } catch (error) {
    log(`backup: could not look for build directories earlier runs left in ${parent}: ${error instanceof Error ? error.message : String(error)}`)
    return
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue
    const build = name.endsWith(BUILD_LOCK_SUFFIX) ? name.slice(0, -BUILD_LOCK_SUFFIX.length) : name
    if (/^\d+-\d+$/.test(build.slice(prefix.length))) builds.add(build)
  }
  for (const build of [...builds].sort()) removeIfOver(join(parent, build), log)
}

function removeIfOver(build: string, log: (line: string) => void): void {
  let lock: LogDirLock
  try {
    lock = LogDirLock.acquire(dirname(build), buildLockOptions(build))
  } catch (error) {
    const why = error instanceof WalLockedError ? 'another backup run is still writing it' : `cannot tell whether a run still writes it: ${error instanceof Error ? error.message : String(error)}`
    log(`backup: left ${build}: ${why}`)
    return
  }
  try {
    rmSync(build, { recursive: true, force: true })
    unlinkSync(`${build}${BUILD_LOCK_SUFFIX}`)
    log(`backup: removed ${build}, left by an earlier backup run that did not finish`)
  } catch (error) {
    log(`backup: could not remove ${build}, left by an earlier backup run: ${error instanceof Error ? error.message : String(error)}`)
  } finally {
    lock.release()
  }
}
