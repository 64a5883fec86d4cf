/**
 * syncFailuresMarked (wal/sync-failures.ts): compaction, the snapshot store and the HA swaps mark a failed fsync as
 * SyncFailedError (FSYNC_FAILED), which the log that owns the directory dies of; anything else the io does passes as it
 * is — a directory that could not be opened for its fsync too (DirectoryOpenError: no fsync was attempted), unless the
 * caller makes that fatal as well (the HA swaps).
 */

import { afterEach, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { DirectoryOpenError, isSyncFailure, nodeIo, SyncFailedError, syncFailuresMarked, type WalIo } from '../../wal/index.ts'
import { removeTempDirs, tempDir } from './support.ts'

const eio = (what: string): Error => Object.assign(new Error(`EIO: injected ${what}`), { code: 'EIO' })

afterEach(removeTempDirs)

function failing(overrides: Partial<WalIo>, context: { openFailuresFatal?: boolean } = {}): WalIo {
  return syncFailuresMarked({ ...nodeIo, ...overrides }, { during: 'while compacting', ...context })
}

function thrownBy(call: () => unknown): unknown {
  try {
    call()
  } catch (error) {
    return error
  }
  throw new Error('expected a throw')
}

describe('syncFailuresMarked', () => {
  test('a failed fsync or directory fsync comes out as the marked error, naming what was synced, its cause kept', () => {
    const io = failing({
      fsync: () => {
        throw eio('fsync')
      },
      fsyncDirectory: () => {
        throw eio('directory fsync')
      },
    })
    const ofFile = (() => {
      try {
        io.fsync(7)
      } catch (error) {
        return error
      }
    })()
    expect(ofFile).toBeInstanceOf(SyncFailedError)
    expect(ofFile).toMatchObject({ code: 'FSYNC_FAILED', target: 'file descriptor 7' })
    expect((ofFile as Error).cause).toEqual(eio('fsync'))
    expect(() => io.fsyncDirectory('/some/dir')).toThrow(/FSYNC_FAILED: fsync of \/some\/dir failed while compacting \(EIO: injected directory fsync\)/)
  })

  test('a failure already marked passes unchanged; other calls, and their failures, are not touched', () => {
    const already = new SyncFailedError('inner', eio('inner'), { during: 'while writing snapshots' })
    const io = failing({
      fsyncDirectory: () => {
        throw already
      },
      unlink: () => {
        throw eio('unlink')
      },
    })
    expect(() => io.fsyncDirectory('/d')).toThrow(already)
    let unlinkError: unknown
    try {
      io.unlink('/d/x')
    } catch (error) {
      unlinkError = error
    }
    expect(isSyncFailure(unlinkError)).toBe(false)
    expect(unlinkError).toEqual(eio('unlink'))
  })

  test('a directory that cannot be opened for its fsync is DirectoryOpenError, not FSYNC_FAILED: no fsync was attempted', () => {
    // A real open failure of node:fs (ENOENT here, as EMFILE under a descriptor shortage): nodeIo names it so.
    const missing = join(tempDir(), 'no-such-dir')
    const raw = thrownBy(() => nodeIo.fsyncDirectory(missing))
    expect(raw).toBeInstanceOf(DirectoryOpenError)
    expect(raw).toMatchObject({ code: 'DIRECTORY_OPEN_FAILED', path: missing })
    expect((raw as Error).cause).toMatchObject({ code: 'ENOENT', syscall: 'open' })
    expect(isSyncFailure(raw)).toBe(false)
    // A snapshot's or a compaction's io passes it unchanged: that step fails, the log is not killed by it.
    const passed = thrownBy(() => syncFailuresMarked(nodeIo, { during: 'while compacting' }).fsyncDirectory(missing))
    expect(passed).toBeInstanceOf(DirectoryOpenError)
    expect(isSyncFailure(passed)).toBe(false)
    // Where the caller makes it fatal (the HA swaps), it is FSYNC_FAILED caused by it.
    const fatal = thrownBy(() => failing({}, { openFailuresFatal: true }).fsyncDirectory(missing))
    expect(fatal).toBeInstanceOf(SyncFailedError)
    expect((fatal as Error).cause).toBeInstanceOf(DirectoryOpenError)
    // An fsync that fails after the open succeeded stays fatal, as ever.
    expect(isSyncFailure(thrownBy(() => failing({ fsyncDirectory: () => { throw eio('directory fsync') } }).fsyncDirectory('/d')))).toBe(true)
  })
})
