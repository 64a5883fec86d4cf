// One writer per log directory (wal/dir-lock.ts): a second open, in this process or another, is refused before it
// reads or writes anything; the lock goes when the log closes or its process dies, kill -9 included.
import { describe, expect, test } from 'bun:test'
import { mkdirSync, readdirSync, truncateSync } from 'node:fs'
import { join } from 'node:path'
import { LockFileError, Wal, WalLockedError } from '../../wal/index.ts'
import { record, tempDir } from './support.ts'

function refusal(open: () => unknown): WalLockedError {
  try {
    open()
  } catch (error) {
    if (error instanceof WalLockedError) return error
    throw error
  }
  throw new Error('the open was not refused')
}

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
})
