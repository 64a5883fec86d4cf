// One writer per log directory (wal/dir-lock.ts): a second open, in this process or another, is refused before it
// reads or writes anything; the lock goes when the log closes or its process dies, kill -9 included.
import { describe, expect, test } from 'bun:test'
import { mkdirSync, readdirSync, statSync, symlinkSync, truncateSync } from 'node:fs'
import { join } from 'node:path'
import { constants } from 'node:os'
import { LockFailedError, LockFileError, LogDirLock, Wal, WalLockedError } from '../../wal/index.ts'
import { record, tempDir } from './support.ts'

/** The error `open` threw, which must be of `type`. */
function thrownBy<E extends Error>(type: new (message: string) => E, open: () => unknown): E {
  try {
    open()
  } catch (error) {
    if (error instanceof type) return error
    throw error
  }
  throw new Error('the open was not refused')
}

const refusal = (open: () => unknown): WalLockedError => thrownBy(WalLockedError, open)
const lockFileError = (open: () => unknown): LockFileError => thrownBy(LockFileError, open)

describe('the log directory lock', () => {
  test('a second open of a log that is open is refused, naming the holder, and writes nothing', async () => {
    const dir = tempDir()
    const wal = Wal.open(dir)
    await wal.append([record('a')])
    const before = readdirSync(dir).sort()
    const error = refusal(() => Wal.open(dir))
    expect(error.code).toBe('LOG_LOCKED')
    expect(error.message).toContain(`pid ${process.pid}`)
    expect(refusal(() => Wal.openReplica(dir)).code).toBe('LOG_LOCKED')
    expect(readdirSync(dir).sort()).toEqual(before)
    // The holder is untouched by the refusals.
    expect(await wal.append([record('b')])).toEqual([2])
    await wal.close()
    const reopened = Wal.open(dir)
    expect(reopened.lastLsn).toBe(2)
    await reopened.close()
  })

  test('a refused open does not take the lock from its holder, and a failed open lets it go', async () => {
    const dir = tempDir()
    const holder = Wal.open(dir)
    refusal(() => Wal.open(dir))
    await holder.close()
    // Options refused after the lock was taken: the lock is let go, so the next open succeeds.
    expect(() => Wal.open(dir, { epoch: 0 })).toThrow()
    const next = Wal.open(dir)
    await next.close()
  })

  test('another process holding the log keeps this one out until it is killed with SIGKILL', async () => {
    const dir = tempDir()
    const child = Bun.spawn([process.execPath, join(import.meta.dir, 'fixtures', 'dir-lock-holder.ts'), dir], { stdout: 'pipe', stderr: 'inherit' })
    const reader = child.stdout.getReader()
    const { value } = await reader.read()
    expect(new TextDecoder().decode(value)).toContain('holding')
    const error = refusal(() => Wal.open(dir))
    expect(error.message).toContain(`pid ${child.pid}`)
    child.kill('SIGKILL')
    await child.exited
    // No stale lock: the kernel dropped it with the process. The child's record is there.
    const wal = Wal.open(dir)
    expect(wal.lastLsn).toBe(1)
    await wal.close()
  })

  test('a lock file that is a directory is LOCK_FILE_UNUSABLE naming it, and nothing is written', () => {
    const dir = tempDir()
    mkdirSync(join(dir, 'LOCK'))
    let error: unknown
    try {
      Wal.open(dir)
    } catch (thrown) {
      error = thrown
    }
    expect(error).toBeInstanceOf(LockFileError)
    expect((error as LockFileError).code).toBe('LOCK_FILE_UNUSABLE')
    expect((error as LockFileError).message).toContain(`${join(dir, 'LOCK')} cannot be used (it is a directory): remove or fix it`)
    expect(readdirSync(dir)).toEqual(['LOCK'])
  })

  test('a held lock file grown huge is not read whole: the refusal still names the holder', async () => {
    const dir = tempDir()
    const wal = Wal.open(dir)
    // 3 GiB (sparse) after the holder's line: past what a whole-file read takes at all.
    truncateSync(join(dir, 'LOCK'), 3 * 1024 ** 3)
    const error = refusal(() => Wal.open(dir))
    expect(error.message).toContain(`(pid ${process.pid} on `)
    expect(error.message).not.toContain('\0')
    await wal.close()
  })

  test('a lock file that is no regular file (a FIFO, a device behind a link) is LOCK_FILE_UNUSABLE, not a bare EINVAL', () => {
    const fifoDir = tempDir()
    expect(Bun.spawnSync(['mkfifo', join(fifoDir, 'LOCK')]).exitCode).toBe(0)
    const fifo = lockFileError(() => Wal.open(fifoDir))
    expect(fifo.code).toBe('LOCK_FILE_UNUSABLE')
    expect(fifo.message).toContain(`${join(fifoDir, 'LOCK')} cannot be used (it is not a regular file)`)
    expect(readdirSync(fifoDir)).toEqual(['LOCK'])

    const deviceDir = tempDir()
    symlinkSync('/dev/null', join(deviceDir, 'LOCK'))
    expect(lockFileError(() => Wal.open(deviceDir)).message).toContain('(it is not a regular file)')
    expect(statSync('/dev/null').isCharacterDevice()).toBe(true)
  })

  test('a holder line that cannot be written (a file size limit of 0) is LOCK_FILE_UNUSABLE, and the lock is let go', async () => {
    const dir = tempDir()
    // SIGXFSZ ignored (inherited through exec), so the write fails with EFBIG instead of killing the child.
    const script = `trap '' XFSZ; ulimit -f 0; exec "$0" "$1" "$2"`
    const child = Bun.spawn(['sh', '-c', script, process.execPath, join(import.meta.dir, 'fixtures', 'dir-lock-open.ts'), dir], { stdout: 'pipe', stderr: 'inherit' })
    const outcomes = JSON.parse(await new Response(child.stdout).text()) as unknown[]
    expect(await child.exited).toBe(0)
    const unusable = { name: 'LockFileError', code: 'LOCK_FILE_UNUSABLE', message: `the lock file ${join(dir, 'LOCK')} cannot be used (EFBIG writing the holder): remove or fix it` }
    // The second open in the same process meets the same problem, not LOG_LOCKED: the first let its lock go.
    expect(outcomes).toEqual([unusable, unusable])
    // Nothing of the log was written, and the lock is free: this process takes it at once.
    expect(readdirSync(dir)).toEqual(['LOCK'])
    const wal = Wal.open(dir)
    await wal.close()
  })

  test('a lock file that cannot be opened because of its place (a read-only or full file system, no permission) says so, not "remove or fix it"', () => {
    const dir = tempDir()
    // What open(2) answers there; found with dist/egress on a read-only mount, where serve, snapshot, compact and backup
    // all advised removing a lock file that did not exist.
    const refusedWith = (code: string): string => lockFileError(() => LogDirLock.acquire(dir, { open: () => { throw Object.assign(new Error(`${code}: refused`), { code }) } })).message
    expect(refusedWith('EROFS')).toBe(`the lock file ${join(dir, 'LOCK')} cannot be used (EROFS on open): the file system is read-only: the directory must be on a writable one`)
    for (const code of ['EACCES', 'EPERM', 'ENOSPC', 'EDQUOT']) {
      const message = refusedWith(code)
      expect(message).toContain(`(${code} on open): `)
      expect(message).not.toContain('remove or fix it')
    }
    // An error of the file itself still points at it.
    expect(refusedWith('ELOOP')).toBe(`the lock file ${join(dir, 'LOCK')} cannot be used (ELOOP on open): remove or fix it`)
    expect(readdirSync(dir)).toEqual([])
  })

  test('flock failing for another reason than a holder (ENOLCK on NFS) is LOCK_FAILED naming the errno, not LOG_LOCKED; the file is let go', () => {
    const dir = tempDir()
    const error = thrownBy(LockFailedError, () => LogDirLock.acquire(dir, { flock: () => constants.errno.ENOLCK }))
    expect(error.code).toBe('LOCK_FAILED')
    expect(error.message).toContain('ENOLCK')
    expect(error.message).toContain(join(dir, 'LOCK'))
    // Contention is still LOG_LOCKED.
    expect(refusal(() => LogDirLock.acquire(dir, { flock: () => constants.errno.EWOULDBLOCK })).code).toBe('LOG_LOCKED')
    // Nothing was kept: the real lock is free.
    LogDirLock.acquire(dir).release()
  })
})
