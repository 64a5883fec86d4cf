/** The data directory an offline command works on: DIR when given, else the config's (`--config`, env, defaults). */

import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { LOG_LOCK_FILE, LogDirLock, parseSegmentName } from '../../wal/index.ts'
import { defaultConfig, loadConfig, snapshotsConfigOf, type SnapshotsConfig } from '../config/index.ts'
import { DATA_DIR_LOCK_FILE, interruptedSwapsIn, lockDataDir } from '../runtime/ha/index.ts'
import { UsageError, type CliIo } from './command.ts'

/**
 * DIR given empty (`egress snapshot "$DIR"` with the variable unset) is wrong usage, exit 2: it was looked for as a
 * directory named "" (" does not exist", exit 1), and the swap checks before that read the working directory.
 */
export function refuseEmptyDir(dir: string | undefined): void {
  if (dir === '') throw new UsageError('DIR: expected a directory, got ""')
}

export function dataDirFrom(positionals: readonly string[], configPath: string | undefined, io: CliIo): string {
  const [dir, ...extra] = positionals
  if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`)
  refuseEmptyDir(dir)
  if (dir !== undefined) {
    if (configPath !== undefined) throw new UsageError('give DIR or --config, not both')
    return dir
  }
  return loadConfig({ configPath, env: io.env }).dataDir
}

/**
 * The data directory and the snapshot settings an offline snapshot/compact command works with: the config's (file,
 * env, defaults) unless DIR is given, in which case the settings are the defaults. `refuseQueryModelBeyondLog`: the
 * log is written with durability fsync (wal.durability), where a query model beyond the log's end is refused, as a
 * start refuses it (QUERY_MODEL_BEYOND_LOG).
 */
export function offlineTarget(
  positionals: readonly string[],
  configPath: string | undefined,
  io: CliIo,
): { dataDir: string; snapshots: SnapshotsConfig; refuseQueryModelBeyondLog: boolean; durability: 'fsync' | 'none'; anchorsFile: string | undefined; signingKeyFile: string | undefined; publicKeyFile: string | undefined } {
  const [dir, ...extra] = positionals
  if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`)
  refuseEmptyDir(dir)
  if (dir !== undefined && configPath !== undefined) throw new UsageError('give DIR or --config, not both')
  const config = dir === undefined ? loadConfig({ configPath, env: io.env }) : defaultConfig()
  const durability = config.wal.durability
  return {
    dataDir: dir ?? config.dataDir, snapshots: snapshotsConfigOf(config), refuseQueryModelBeyondLog: durability === 'fsync', durability, anchorsFile: config.audit.anchorsFile,
    signingKeyFile: config.audit.signingKeyFile, publicKeyFile: config.audit.publicKeyFile,
  }
}

/**
 * Throws unless `dataDir` holds a log (`log/` with a segment file in it): a missing DIR (a typo, say) or one without a
 * log is not a data directory. Reported as compact and snapshot report it: exit 1, "not a data directory (nothing
 * created)" (a read-only command says what it did not do instead: `nothingDone`). A `log/` alone is not enough: /var has one, and `egress compact /var` (even --dry-run) opened it as an
 * empty log, writing a LOCK and a first segment into /var/log and a DATA_DIR_LOCK into /var.
 */
export function requireLogIn(dataDir: string, nothingDone = 'nothing created'): void {
  let isDirectory: boolean
  try {
    isDirectory = statSync(dataDir).isDirectory()
  } catch (error) {
    // A symbolic link loop (ELOOP) was said not to exist.
    const code = (error as NodeJS.ErrnoException).code
    throw new NotADataDirError(`${dataDir} ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code})`}: not a data directory (${nothingDone})`)
  }
  if (!isDirectory) throw new NotADataDirError(`${dataDir} is a file: not a data directory (${nothingDone})`)
  const logDir = join(dataDir, 'log')
  if (!existsSync(logDir)) throw new NotADataDirError(`no log in ${logDir}: not a data directory (${nothingDone})`)
  if (!holdsLog(dataDir)) throw new NotADataDirError(`no log segment (NNNN….seg) in ${logDir}: not a data directory (${nothingDone})`)
}

/** An offline command's DIR holds no log (NOT_A_DATA_DIR: exit 1, nothing done); the CLI puts the code first. */
export class NotADataDirError extends Error {
  override readonly name = 'NotADataDirError'
  readonly code = 'NOT_A_DATA_DIR'
}

/** `dataDir/log` is a directory with at least one segment file in it. */
function holdsLog(dataDir: string): boolean {
  const logDir = join(dataDir, 'log')
  try {
    return statSync(logDir).isDirectory() && readdirSync(logDir).some((name) => parseSegmentName(name) !== null)
  } catch {
    return false
  }
}

/**
 * Runs `work` holding `dataDir`'s lock (src/runtime/ha/data-dir-lock.ts), released after: an offline command that
 * finishes interrupted swaps or writes the data dir is refused (WalLockedError) while a node runs on it.
 */
export async function withDataDirLock<T>(dataDir: string, work: () => T | Promise<T>): Promise<T> {
  // Nothing is created in a directory that is not a data dir (a typo, a parent): the lock file would be the first file
  // written there. One an HA node left mid-swap may lack log/ (moved aside): its commit file makes it one. A missing
  // one is said so by requireLogIn too (NOT_A_DATA_DIR): lockDataDir's plain Error carried no code.
  if (!existsSync(dataDir) || (!holdsLog(dataDir) && interruptedSwapsIn(dataDir).length === 0)) requireLogIn(dataDir)
  const lock = lockDataDir(dataDir, { create: false })
  try {
    return await work()
  } finally {
    lock.release()
  }
}

/**
 * withDataDirLock for a command that must create nothing (compact --dry-run): the lock is taken only when its file
 * exists. A node or a serve that ever ran on `dataDir` left it there, so a running one is always met; only one making
 * its first start on this dir at this very moment is not.
 */
export async function withDataDirLockIfKept<T>(dataDir: string, work: () => T | Promise<T>): Promise<T> {
  if (!existsSync(join(dataDir, DATA_DIR_LOCK_FILE))) {
    if (!holdsLog(dataDir) && interruptedSwapsIn(dataDir).length === 0) requireLogIn(dataDir)
    return work()
  }
  return withDataDirLock(dataDir, work)
}

/**
 * Refuses (WalLockedError, LOG_LOCKED, naming the holder) a data dir a running node or serve holds, before a start
 * writes anything in it: a second serve refused only once it opened the log, and had written its HS256 and cursor
 * secrets and a local seal key there first (verify then took that stray key for the dir's own: a false tamper finding;
 * review). Each lock is taken and let go at once, where its file exists: the start takes them for good.
 */
export function refuseLiveDataDir(dataDir: string): void {
  if (existsSync(join(dataDir, DATA_DIR_LOCK_FILE))) lockDataDir(dataDir, { create: false }).release()
  const logDir = join(dataDir, 'log')
  if (existsSync(join(logDir, LOG_LOCK_FILE))) LogDirLock.acquire(logDir).release()
}

/** A progress line at most once a second, on stderr. */
export function progressLine(io: CliIo, label: string): (lsn: number, lastLsn: number, records: number) => void {
  const started = performance.now()
  let printedAt = started
  return function printProgress(lsn, lastLsn, records) {
    const now = performance.now()
    if (now - printedAt < 1_000) return
    printedAt = now
    const percent = lastLsn === 0 ? 100 : Math.floor((lsn / lastLsn) * 100)
    const perSec = records / ((now - started) / 1000)
    io.err(`${label}: ${String(percent).padStart(3)}%  LSN ${lsn}/${lastLsn}  ${records.toLocaleString('en-US')} records  ${Math.round(perSec).toLocaleString('en-US')} records/s`)
  }
}
