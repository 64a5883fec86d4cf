/**
 * One writer per log directory. Two processes appending to one log interleave their frames and the log no longer
 * opens (FRAME_CORRUPT): everything either acknowledged is lost to a restart. A second `egress serve` on the same data
 * directory, or one started while the last is still stopping, did exactly that.
 *
 * The guard is flock(2) on `<dir>/LOCK`, exclusive and non-blocking, taken before recovery (which may truncate a torn
 * tail) and held until the log is closed. The kernel drops the lock when its process ends, however it ends — kill -9
 * included — so there is never a stale lock to clean up, and no PID guesswork. The file also names its holder, for
 * the refusal message; its content means nothing else. Node and Bun have no flock, so it comes from libc over
 * bun:ffi. Only EWOULDBLOCK means another holder (LOG_LOCKED); flock failing otherwise (ENOLCK on NFS) is LOCK_FAILED. The lock is advisory and per open file: readers (openReadOnly, replay-verify) do not take it, and a
 * process that opens the same log twice is refused the second time too. The offline snapshot, which reads the log
 * read-only but writes the data dir's snapshots, takes it on its own (src/runtime/snapshot/offline.ts).
 */

import { dlopen, FFIType, read, type Pointer } from 'bun:ffi'
import { closeSync, constants, fstatSync, openSync, readSync, ftruncateSync, writeSync } from 'node:fs'
import { constants as osConstants, hostname } from 'node:os'
import { join } from 'node:path'
import { LockFailedError, LockFileError, WalLockedError } from './errors.ts'
import { FS_REFUSAL_MEANINGS } from './fs-refusals.ts'

/** The lock file's name in a log directory. */
export const LOG_LOCK_FILE = 'LOCK'
const LOCK_EX = 2
const LOCK_NB = 4
/** What the refusal quotes of a contended lock file: its holder's line; the file is read no further. */
const HOLDER_BYTES_MAX = 200

/** flock(2): 0 when the lock was taken, else the errno it failed with. */
export type Flock = (fd: number, operation: number) => number
/** open(2) as node:fs openSync: the file descriptor, or a throw carrying the errno's code. */
export type OpenFile = (path: string, flags: number, mode: number) => number

/** The errno of a lock another open file holds (EWOULDBLOCK: 11 on Linux, 35 on macOS); any other is no contention. */
const HELD_ERRNO = osConstants.errno.EWOULDBLOCK

let flockOf: Flock | null = null

function libcFlock(): Flock {
  if (flockOf !== null) return flockOf
  const call = { flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 } } as const
  // errno is thread-local: libc hands out its address (glibc __errno_location, macOS __error), read right after the call.
  const errnoAt = { args: [], returns: FFIType.ptr } as const
  let symbols: { flock: (fd: number, operation: number) => number; errnoAddress: () => Pointer | null }
  if (process.platform === 'darwin') {
    const libc = dlopen('/usr/lib/libSystem.B.dylib', { ...call, __error: errnoAt })
    symbols = { flock: libc.symbols.flock, errnoAddress: () => libc.symbols.__error() as Pointer | null }
  } else {
    const libc = dlopen('libc.so.6', { ...call, __errno_location: errnoAt })
    symbols = { flock: libc.symbols.flock, errnoAddress: () => libc.symbols.__errno_location() as Pointer | null }
  }
  flockOf = (fd, operation) => {
    if (symbols.flock(fd, operation) === 0) return 0
    const address = symbols.errnoAddress()
    return address === null ? -1 : read.i32(address, 0)
  }
  return flockOf
}

/** The lock on one log directory, held from `acquire` until `release` (or the end of the process). */
export class LogDirLock {
  private fd: number | null

  private constructor(fd: number) {
    this.fd = fd
  }

  /**
   * Takes the lock on `dir` (which must exist), or throws WalLockedError naming the holder. `file` names the lock file
   * (default LOCK) and `refusal` says what the lock guards, for the error (default: the log in `dir`, one writer).
   * `noFollow`: a link at the path is refused (LockFileError), not followed — for a lock in a directory others may
   * write (a backup's parent), where a link would have the holder's line written over, or a file made, anywhere.
   */
  static acquire(dir: string, options: { file?: string; refusal?: string; flock?: Flock; noFollow?: boolean; open?: OpenFile } = {}): LogDirLock {
    const path = join(dir, options.file ?? LOG_LOCK_FILE)
    const fd = openLockFile(path, options.noFollow === true, options.open ?? openSync)
    const errno = (options.flock ?? libcFlock())(fd, LOCK_EX | LOCK_NB)
    if (errno !== 0 && errno !== HELD_ERRNO) {
      // Not another holder: the file system cannot lock (ENOLCK on NFS, ENOSYS, ...). Read as LOG_LOCKED it sent the
      // operator looking for a second process that does not exist.
      closeSync(fd)
      throw new LockFailedError(`flock on the lock file ${path} failed with ${errnoName(errno)}, not because another process holds it: this file system cannot guard the directory against a second writer (NFS without lock support, say); use a local file system`)
    }
    if (errno !== 0) {
      closeSync(fd)
      const holder = holderOf(path)
      const refusal = options.refusal ?? 'one log takes one writer'
      throw new WalLockedError(`the ${options.file === undefined ? 'log' : 'directory'} ${options.file === undefined ? `in ${dir}` : dir} is open in another process${holder === '' ? '' : ` (${holder})`}; ${refusal}`)
    }
    writeHolder(fd, path)
    return new LogDirLock(fd)
  }

  /** Lets the next writer in. Closing the file drops the flock; the file stays. Idempotent. */
  release(): void {
    if (this.fd === null) return
    closeSync(this.fd)
    this.fd = null
  }
}

/**
 * Opens the lock file, creating it. O_NONBLOCK so a FIFO at the path cannot hold the open; then anything but a regular
 * file (a FIFO, a socket, a device such as /dev/null behind a link) is refused: it holds no holder's line, and the
 * truncation below failed on it with a bare EINVAL.
 */
function openLockFile(path: string, noFollow: boolean, open: OpenFile): number {
  let fd: number
  try {
    fd = open(path, constants.O_RDWR | constants.O_CREAT | constants.O_APPEND | constants.O_NONBLOCK | (noFollow ? constants.O_NOFOLLOW : 0), 0o666)
  } catch (error) {
    throw unusable(path, error, 'on open')
  }
  if (!fstatSync(fd).isFile()) {
    closeSync(fd)
    throw new LockFileError(`the lock file ${path} cannot be used (it is not a regular file): remove or fix it`)
  }
  return fd
}

/**
 * Writes the holder's line into a lock just taken. When it cannot be written (a full disk, a file size limit, an I/O
 * error) the lock is let go again and the start refused: the log behind it could not be written either, and the error
 * escaped bare with the lock still held by the process.
 */
function writeHolder(fd: number, path: string): void {
  try {
    ftruncateSync(fd, 0)
    writeSync(fd, `pid ${process.pid} on ${hostname()} since ${new Date().toISOString()}\n`)
  } catch (error) {
    closeSync(fd)
    throw unusable(path, error, 'writing the holder')
  }
}

/**
 * Errors of the place the lock file is in, not of the file, with the way out: removing or fixing the file cannot help
 * (on a read-only file system there may be no file at all), which the message used to advise for every error. Their
 * meaning is fs-refusals.ts's.
 */
const PLACE_ADVICE: Readonly<Record<string, string>> = {
  EROFS: 'the directory must be on a writable one',
  EACCES: 'run as a user that may write the file and its directory',
  EPERM: 'run as a user that may write the file and its directory',
  ENOSPC: 'free space on it',
  EDQUOT: 'free space or raise the quota',
}

function unusable(path: string, error: unknown, when: string): LockFileError {
  const code = (error as NodeJS.ErrnoException).code ?? 'an error'
  const advice = PLACE_ADVICE[code]
  if (advice !== undefined) return new LockFileError(`the lock file ${path} cannot be used (${code} ${when}): ${FS_REFUSAL_MEANINGS[code]}: ${advice}`)
  const what = code === 'EISDIR' ? 'it is a directory' : `${code} ${when}`
  return new LockFileError(`the lock file ${path} cannot be used (${what}): remove or fix it`)
}

function errnoName(errno: number): string {
  const name = Object.entries(osConstants.errno).find(([, value]) => value === errno)?.[0]
  return name === undefined ? `errno ${errno}` : `${name} (errno ${errno})`
}

/** The holder's line of a held lock file (its first line, within HOLDER_BYTES_MAX bytes), or '' when it cannot be read. */
function holderOf(path: string): string {
  let fd: number | null = null
  try {
    fd = openSync(path, 'r')
    const bytes = Buffer.alloc(HOLDER_BYTES_MAX)
    const read = readSync(fd, bytes, 0, HOLDER_BYTES_MAX, 0)
    return bytes.subarray(0, read).toString('utf8').split('\n')[0]!.trim()
  } catch {
    return ''
  } finally {
    if (fd !== null) closeSync(fd)
  }
}
