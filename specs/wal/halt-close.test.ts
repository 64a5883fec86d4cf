/**
 * Closing a log that died (halt: a failed compaction or snapshot fsync, a kernel bug mid-decision) while a written
 * batch's fdatasync was still out: close waits for the sync before it closes the file. It closed the file at once, so
 * the fd number went to the next file the process opened; the queued sync then synced that file instead and the batch
 * was acknowledged as durable with its own bytes never synced, and the batch's lead zeros landed in the other file
 * (review of s52).
 */

import { afterEach, expect, test } from 'bun:test'
import { openSync, closeSync } from 'node:fs'
import { join } from 'node:path'
import { nodeIo, Wal, type WalIo } from '../../wal/index.ts'
import { record, removeTempDirs, tempDir } from './support.ts'

afterEach(removeTempDirs)

test('a halted log\'s close waits for the written batch\'s sync; the batch is acknowledged by its own sync only', async () => {
  const dir = tempDir()
  const calls: string[] = []
  const heldSyncs: (() => void)[] = []
  const io: WalIo = {
    ...nodeIo,
    // A slow disk: the sync runs only when the spec lets it, on the fd it was given.
    fdatasyncOffLoop: (fd, done) => {
      calls.push(`sync issued ${fd}`)
      heldSyncs.push(() => nodeIo.fdatasyncOffLoop(fd, (error) => {
        calls.push(`sync done ${fd} ${error === null ? 'ok' : (error as NodeJS.ErrnoException).code}`)
        done(error)
      }))
    },
    close: (fd) => {
      calls.push(`close ${fd}`)
      nodeIo.close(fd)
    },
  }
  const wal = Wal.open(dir, { io, preallocateBytes: 0 })
  const fates: string[] = []
  const appended = wal.append([record('hello')]).then((lsn) => void fates.push(`durable ${lsn}`), (error: Error) => void fates.push(`failed ${error.message}`))
  for (let turn = 0; turn < 10 && heldSyncs.length === 0; turn++) await new Promise((resolve) => setTimeout(resolve, 5))
  expect(heldSyncs.length).toBe(1)
  wal.halt('a compaction\'s directory fsync failed', new Error('EIO: injected'))
  let closed = false
  const closing = wal.close().then(() => {
    closed = true
  })
  // The process opens other files meanwhile; none may get the log's fd while its sync is out.
  for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve))
  const other = openSync(join(dir, 'other-file'), 'w')
  expect(closed).toBe(false)
  const issued = calls.findIndex((call) => call.startsWith('sync issued'))
  expect(calls.slice(issued).filter((call) => call.startsWith('close'))).toEqual([])
  heldSyncs.shift()?.()
  await closing
  await appended
  closeSync(other)
  const syncIndex = calls.findIndex((call) => call.startsWith('sync done'))
  const closeIndex = calls.findIndex((call, index) => index > issued && call.startsWith('close'))
  expect(syncIndex).toBeGreaterThanOrEqual(0)
  expect(closeIndex).toBeGreaterThan(syncIndex)
  expect(calls[syncIndex]).toEndWith('ok')
  // Written before the halt and synced after it: acknowledged (its records are on disk).
  expect(fates).toEqual(['durable 1'])
})
