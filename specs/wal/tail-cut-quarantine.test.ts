/**
 * A writable open's cut of a torn tail keeps the removed bytes in the quarantine directory first (wal/tail-cut.ts), and
 * keeps them durably even when a file holding those bytes is there already: an open that failed after writing it (its
 * directory's fsync failed) left a copy that may not be durable, and the next open trusted it without a sync and cut
 * the log, so a power cut then could lose both the tail and its only copy (review of s52). It is synced where it is:
 * written afresh, it needed room for a second copy, and a full disk refused a start the first copy allowed.
 */

import { afterEach, expect, test } from 'bun:test'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { nodeIo, Wal, type WalIo } from '../../wal/index.ts'
import { record, removeTempDirs, tempDir } from './support.ts'

afterEach(removeTempDirs)

test('the quarantine copy an earlier failed open left is made durable where it is before the cut, with no room for another', async () => {
  const base = tempDir()
  const dir = join(base, 'log')
  const quarantineDir = join(base, 'quarantine')
  const wal = Wal.open(dir, { preallocateBytes: 0 })
  await wal.append([record('one')])
  await wal.append([record('two')])
  await wal.close()
  const segment = join(dir, readdirSync(dir).find((name) => name.endsWith('.seg')) as string)
  const bytes = readFileSync(segment)
  bytes[bytes.length - 3] = (bytes[bytes.length - 3] as number) ^ 0xff
  writeFileSync(segment, bytes)

  const syncs: string[] = []
  let failQuarantineDirSync = true
  const io: WalIo = {
    ...nodeIo,
    fsync: (fd) => {
      syncs.push('fsync')
      nodeIo.fsync(fd)
    },
    fsyncDirectory: (path) => {
      syncs.push(path === quarantineDir ? 'fsync quarantine dir' : 'fsync dir')
      if (path === quarantineDir && failQuarantineDirSync) {
        failQuarantineDirSync = false
        throw Object.assign(new Error('EIO: injected'), { code: 'EIO' })
      }
      nodeIo.fsyncDirectory(path)
    },
    // The disk is full by the next open: the copy there must do, with no room for another.
    openAppend: (path) => {
      if (path.startsWith(quarantineDir) && !failQuarantineDirSync) throw Object.assign(new Error('ENOSPC: injected'), { code: 'ENOSPC' })
      return nodeIo.openAppend(path)
    },
  }
  expect(() => Wal.open(dir, { io, tailCut: { quarantineDir } })).toThrow(expect.objectContaining({ code: 'QUARANTINE_FAILED' }))
  expect(readdirSync(quarantineDir).filter((name) => name.endsWith('.tail'))).toHaveLength(1)
  syncs.length = 0
  const reopened = Wal.open(dir, { io, tailCut: { quarantineDir } })
  expect(reopened.lastLsn).toBe(1)
  expect(reopened.recovery.tornTail?.quarantineFile).toStartWith(quarantineDir)
  await reopened.close()
  // The copy's fsync and its directory's come before the cut's own sync.
  const quarantined = syncs.indexOf('fsync quarantine dir')
  expect(quarantined).toBeGreaterThan(0)
  expect(syncs.slice(0, quarantined)).toContain('fsync')
  expect(readdirSync(quarantineDir).filter((name) => name.endsWith('.tail'))).toHaveLength(1)
})
