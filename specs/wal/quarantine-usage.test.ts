/**
 * What the quarantine directory holds (wal/quarantine.ts quarantineUsage, read at every writable open for /health and
 * /metrics) is read by lstat, opening no file: each `*.tail` was opened to be sized, and a FIFO under that name held
 * the gateway's start (a blocking open, waiting for a writer). A `*.tail` that is no regular file (a FIFO, a link, a
 * directory) is no quarantine file (a cut writes only those) and is not counted.
 */

import { afterEach, expect, test } from 'bun:test'
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { nodeIo, quarantineUsage, type WalIo } from '../../wal/index.ts'
import { removeTempDirs, tempDir } from './support.ts'

afterEach(removeTempDirs)

test('regular *.tail files are counted without opening any; a FIFO, a link or a directory under the name is skipped', () => {
  const dir = join(tempDir(), 'quarantine')
  mkdirSync(dir)
  writeFileSync(join(dir, '00000000000000000001.seg.4096.tail'), new Uint8Array(10))
  writeFileSync(join(dir, '00000000000000000002.seg.4096.tail'), new Uint8Array(20))
  writeFileSync(join(dir, '00000000000000000003.seg.4096.tail.tmp'), new Uint8Array(1000))
  const fifo = Bun.spawnSync(['mkfifo', join(dir, '00000000000000000004.seg.4096.tail')])
  expect(fifo.exitCode).toBe(0)
  symlinkSync(join(dir, '00000000000000000001.seg.4096.tail'), join(dir, '00000000000000000005.seg.4096.tail'))
  mkdirSync(join(dir, '00000000000000000006.seg.4096.tail'))
  const opened: string[] = []
  // An open of the FIFO would block for good (no writer): refused here, so a regression fails instead of hanging.
  const io: WalIo = {
    ...nodeIo,
    openRead: (path) => {
      opened.push(path)
      throw new Error(`quarantineUsage opened ${path}`)
    },
  }
  expect(quarantineUsage(io, dir)).toEqual({ files: 2, bytes: 30 })
  expect(opened).toEqual([])
})

test('a quarantine directory that does not exist holds nothing', () => {
  expect(quarantineUsage(nodeIo, join(tempDir(), 'quarantine'))).toEqual({ files: 0, bytes: 0 })
})
