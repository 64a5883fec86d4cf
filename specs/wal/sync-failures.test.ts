/**
 * syncFailuresMarked (wal/sync-failures.ts): compaction and the snapshot store mark a failed fsync with their own
 * FSYNC_FAILED error, which the log that owns the directory dies of; anything else the io does passes as it is.
 */

import { describe, expect, test } from 'bun:test'
import { CompactionSyncError, isSyncFailure, nodeIo, syncFailuresMarked, type WalIo } from '../../wal/index.ts'

const eio = (what: string): Error => Object.assign(new Error(`EIO: injected ${what}`), { code: 'EIO' })

function failing(overrides: Partial<WalIo>): WalIo {
  return syncFailuresMarked({ ...nodeIo, ...overrides }, (target, cause) => new CompactionSyncError(target, cause))
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
    expect(ofFile).toBeInstanceOf(CompactionSyncError)
    expect(ofFile).toMatchObject({ code: 'FSYNC_FAILED', target: 'file descriptor 7' })
    expect((ofFile as Error).cause).toEqual(eio('fsync'))
    expect(() => io.fsyncDirectory('/some/dir')).toThrow(/FSYNC_FAILED: fsync of \/some\/dir failed while compacting \(EIO: injected directory fsync\)/)
  })

  test('a failure already marked passes unchanged; other calls, and their failures, are not touched', () => {
    const already = new CompactionSyncError('inner', eio('inner'))
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
})
