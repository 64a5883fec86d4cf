import { afterEach, describe, expect, test } from 'bun:test'
import { LeaseError, Wal, nodeIo, type LeaseGuard, type WalIo } from '../../wal/index.ts'
import { countingIo, record, removeTempDirs, tempDir } from './support.ts'

afterEach(removeTempDirs)

/** A real I/O layer whose off-loop fdatasyncs are held until the test releases them (the sync itself is real). */
function heldSyncIo(): WalIo & { held: number; release(error?: Error): void; counts: ReturnType<typeof countingIo>['counts'] } {
  const base = countingIo()
  const waiting: { fd: number; done: (error: Error | null) => void }[] = []
  return {
    ...base,
    fdatasyncOffLoop: (fd, done) => {
      base.counts.fdatasync++
      waiting.push({ fd, done })
    },
    get held() {
      return waiting.length
    },
    release(error) {
      const next = waiting.shift()
      if (next === undefined) throw new Error('no sync is held')
      if (error === undefined) nodeIo.fdatasync(next.fd)
      next.done(error ?? null)
    },
  }
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

describe('pipelined group commit', () => {
  test('while a sync is in flight the next appends queue up and go out in one batch after it; waiters resolve in LSN order, only once durable', async () => {
    const io = heldSyncIo()
    const wal = Wal.open(tempDir(), { io, preallocateBytes: 0 })
    const acked: string[] = []
    const writesBefore = io.counts.write
    const first = wal.append([record('a')]).then((lsns) => (acked.push(`a:${lsns}`), lsns))
    await turn()
    expect(io.held).toBe(1)
    // Written, not yet durable: readers and lastLsn do not see it, nobody is acknowledged.
    expect(wal.lastLsn).toBe(0)
    expect([...wal.read(1)]).toEqual([])
    const second = wal.append([record('b'), record('c')]).then((lsns) => (acked.push(`bc:${lsns}`), lsns))
    const third = wal.append([record('d')]).then((lsns) => (acked.push(`d:${lsns}`), lsns))
    await turn()
    await turn()
    expect(io.held).toBe(1) // at most one sync in flight
    expect(io.counts.write - writesBefore).toBe(1)
    expect(acked).toEqual([])
    io.release()
    expect(await first).toEqual([1])
    expect(wal.lastLsn).toBe(1)
    await turn()
    // Everything queued meanwhile is the next batch: one write, one sync.
    expect(io.counts.write - writesBefore).toBe(2)
    expect(io.held).toBe(1)
    expect(acked).toEqual(['a:1'])
    io.release()
    expect(await second).toEqual([2, 3])
    expect(await third).toEqual([4])
    expect(acked).toEqual(['a:1', 'bc:2,3', 'd:4'])
    expect([...wal.read(1)].map((frame) => frame.lsn)).toEqual([1, 2, 3, 4])
    await wal.close()
  })

  test('a sync that fails after the writes fails its batch and everything queued behind it; nothing is retried', async () => {
    const io = heldSyncIo()
    const dir = tempDir()
    const wal = Wal.open(dir, { io, preallocateBytes: 0 })
    const lost = wal.append([record('lost')])
    await turn()
    const queued = wal.append([record('queued')])
    const eio = Object.assign(new Error('EIO: injected late fdatasync failure'), { code: 'EIO' })
    io.release(eio)
    await expect(lost).rejects.toThrow('EIO')
    await expect(queued).rejects.toThrow('EIO')
    await turn()
    expect(io.counts.fdatasync).toBe(1)
    expect(io.held).toBe(0)
    expect(wal.lastLsn).toBe(0)
    await wal.close()
  })

  test('the lease is re-checked after the sync: a lease lost meanwhile fails the batch, nothing is acknowledged', async () => {
    const io = heldSyncIo()
    let held = true
    const lease: LeaseGuard = {
      epoch: 1,
      assertHeld: () => {
        if (!held) throw new LeaseError('LEASE_LOST', 'taken over during the sync')
      },
    }
    const wal = Wal.open(tempDir(), { io, lease, epoch: 1 })
    const pending = wal.append([record('fenced')])
    await turn()
    held = false
    io.release()
    await expect(pending).rejects.toBeInstanceOf(LeaseError)
    expect(wal.lastLsn).toBe(0)
    await wal.close()
  })

  test('a writer already fenced writes nothing: the append fails and no frame reaches the disk', async () => {
    const dir = tempDir()
    let held = true
    const lease: LeaseGuard = {
      epoch: 1,
      assertHeld: () => {
        if (!held) throw new LeaseError('LEASE_LOST', 'taken over before the write')
      },
    }
    const io = countingIo()
    const wal = Wal.open(dir, { io, lease, epoch: 1 })
    expect(await wal.append([record('acknowledged')])).toEqual([1])
    const writesBefore = io.counts.write
    held = false
    await expect(wal.append([record('fenced')])).rejects.toBeInstanceOf(LeaseError)
    expect(io.counts.write).toBe(writesBefore)
    await wal.close()
    // Reopened as a replica (no lease): the disk holds only the acknowledged frame.
    const reopened = Wal.openReplica(dir)
    expect(reopened.lastLsn).toBe(1)
    await reopened.close()
  })

  test('close waits for the sync in flight, then the batch is acknowledged and on disk', async () => {
    const io = heldSyncIo()
    const dir = tempDir()
    const wal = Wal.open(dir, { io })
    const pending = wal.append([record('last')])
    await turn()
    let closed = false
    const closing = wal.close().then(() => (closed = true))
    await turn()
    expect(closed).toBe(false)
    io.release()
    expect(await pending).toEqual([1])
    await closing
    const reopened = Wal.open(dir)
    expect(reopened.lastLsn).toBe(1)
    await reopened.close()
  })
})
