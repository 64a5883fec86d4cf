/**
 * An offline command refused by a typed error says its stable code on its one line of stderr, as the help texts and
 * the README name it: a log or data dir held by a running gateway or node is LOG_LOCKED. It said only "the log in …
 * is open in another process", the code nowhere (`egress serve` alone said LOG_LOCKED: serve-refusals.ts), so a
 * runbook's or a script's match on LOG_LOCKED never met it. A lock file that is a directory likewise
 * (LOCK_FILE_UNUSABLE).
 */

import { afterAll, expect, test } from 'bun:test'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { lockDataDir } from '../../src/runtime/ha/index.ts'
import { LogDirLock } from '../../wal/index.ts'
import { removeDir } from '../runtime/harness.ts'
import { stoppedDataDir } from './support/stopped-data-dir.ts'
import { cli } from './io.ts'

const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) removeDir(dir)
})

function stoppedDir(seed: number): Promise<string> {
  return stoppedDataDir(seed, { orders: 5, tag: 'e', dirs })
}

const COMMANDS = [['snapshot'], ['compact'], ['compact', '--dry-run'], ['repair-tail', '--truncate-at-lsn', '2']]

test('a log or data dir held by another process: LOG_LOCKED first on the one line, exit 1, for every offline command that writes', async () => {
  const dir = await stoppedDir(501)
  for (const hold of [() => LogDirLock.acquire(join(dir, 'log')), () => lockDataDir(dir, { create: false })]) {
    const lock = hold()
    try {
      for (const [name, ...options] of COMMANDS) {
        const run = await cli([name as string, dir, ...options])
        expect({ name, options, code: run.code }).toEqual({ name, options, code: 1 })
        expect(run.err).toStartWith(`egress ${name}: LOG_LOCKED: the `)
        expect(run.err).toContain('is open in another process')
        expect(run.err.match(/LOG_LOCKED/g)).toHaveLength(1)
        expect(run.err.split('\n')).toHaveLength(1)
      }
    } finally {
      lock.release()
    }
  }
})

test('a lock file that cannot be used: LOCK_FILE_UNUSABLE first, exit 1', async () => {
  const dir = await stoppedDir(502)
  rmSync(join(dir, 'log', 'LOCK'), { force: true })
  mkdirSync(join(dir, 'log', 'LOCK'))
  const run = await cli(['snapshot', dir])
  expect(run.code).toBe(1)
  expect(run.err).toStartWith(`egress snapshot: LOCK_FILE_UNUSABLE: the lock file ${join(dir, 'log', 'LOCK')} cannot be used`)
})

/**
 * A DIR that does not exist is NOT_A_DATA_DIR for every offline command: snapshot and compact (which take the data
 * dir's lock first) said "… does not exist: not a data directory" without the code that compact --dry-run,
 * replay-verify, repair-tail and audit put first (review). A symbolic link loop was said not to exist.
 */
test('a missing DIR or a symbolic link loop: NOT_A_DATA_DIR first, exit 1, for every offline command', async () => {
  const parent = mkdtempSync(join(tmpdir(), 'egress-offline-missing-'))
  dirs.push(parent)
  const missing = join(parent, 'absent')
  const loop = join(parent, 'loop-a')
  symlinkSync(join(parent, 'loop-b'), loop)
  symlinkSync(loop, join(parent, 'loop-b'))
  for (const [name, ...options] of [...COMMANDS, ['replay-verify']]) {
    const run = await cli([name as string, missing, ...options])
    expect({ name, options, code: run.code, err: run.err }).toEqual({ name, options, code: 1, err: `egress ${name}: NOT_A_DATA_DIR: ${missing} does not exist: not a data directory (nothing created)` })
    const looped = await cli([name as string, loop, ...options])
    expect({ name, options, code: looped.code, err: looped.err }).toEqual({ name, options, code: 1, err: `egress ${name}: NOT_A_DATA_DIR: ${loop} cannot be read (ELOOP): not a data directory (nothing created)` })
  }
})
