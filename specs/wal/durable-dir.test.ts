/**
 * Making the log's and the lease's directories (wal/durable-dir.ts): a file where one should be is a typed refusal
 * naming the path (NOT_A_DIRECTORY), not node's bare `EEXIST: file already exists, mkdir`.
 */

import { afterEach, describe, expect, test } from 'bun:test'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { makeDirDurable } from '../../wal/durable-dir.ts'
import { NotADirectoryError, Wal, nodeIo } from '../../wal/index.ts'
import { removeTempDirs, tempDir } from './support.ts'

afterEach(removeTempDirs)

function refusal(make: () => unknown): NotADirectoryError {
  try {
    make()
  } catch (error) {
    if (error instanceof NotADirectoryError) return error
    throw error
  }
  throw new Error('expected NOT_A_DIRECTORY')
}

describe('makeDirDurable', () => {
  test('a file at the path, or at a directory above it, is NOT_A_DIRECTORY naming the path; the file is left as it was', () => {
    const root = tempDir()
    writeFileSync(join(root, 'log'), 'not a log')
    const atPath = refusal(() => makeDirDurable(nodeIo, join(root, 'log')))
    expect(atPath.code).toBe('NOT_A_DIRECTORY')
    expect(atPath.message).toContain(join(root, 'log'))
    const above = refusal(() => makeDirDurable(nodeIo, join(root, 'log', 'deeper')))
    expect(above.path).toBe(join(root, 'log', 'deeper'))
    expect(Bun.file(join(root, 'log')).size).toBe('not a log'.length)
  })

  test('a log directory that is a file refuses the open the same way', () => {
    const root = tempDir()
    writeFileSync(join(root, 'log'), '')
    expect(refusal(() => Wal.open(join(root, 'log'))).code).toBe('NOT_A_DIRECTORY')
  })

  test('an existing directory, or a new one under existing ones, is made as before', () => {
    const root = tempDir()
    mkdirSync(join(root, 'a'))
    makeDirDurable(nodeIo, join(root, 'a'))
    makeDirDurable(nodeIo, join(root, 'a', 'b', 'c'))
    expect(nodeIo.exists(join(root, 'a', 'b', 'c'))).toBe(true)
  })
})
