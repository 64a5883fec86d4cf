/**
 * `egress replay-verify` on a snapshot that is not there to read: listed in snapshots/MANIFEST.json with its file gone
 * (deleted, left out of a copy), or a dangling symbolic link under a snapshot's name. Either is reported INVALID
 * (UNREADABLE, naming the file and why) with exit 65, as a snapshot that is a directory is: the data dir says it holds a
 * snapshot it does not. Before, the store's candidates left both out (io.exists) and the report said "snapshots none"
 * and MATCH, exit 0. The state is never wrong either way: a log compacted below the snapshot has no base and says so.
 */

import { afterAll, describe, expect, test } from 'bun:test'
import { mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { parseSnapshotFileName } from '../../src/runtime/snapshot/index.ts'
import { removeDir, startWorld } from '../runtime/harness.ts'
import { trade } from '../runtime/snapshot/support.ts'
import { cli } from './io.ts'

const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) removeDir(dir)
})

/** A stopped data dir with one snapshot (the shutdown's), listed in the manifest: its dir and the snapshot's file name. */
async function withOneSnapshot(seed: number): Promise<{ dir: string; file: string; lsn: number }> {
  const world = await startWorld({ seed })
  dirs.push(world.dir)
  await trade(world, { orders: 8, tag: 'gone', seed })
  await world.gateway.stop()
  const files = readdirSync(join(world.dir, 'snapshots')).filter((name) => parseSnapshotFileName(name) !== null)
  expect(files.length).toBe(1)
  const file = files[0]!
  expect(readFileSync(join(world.dir, 'snapshots', 'MANIFEST.json'), 'utf8')).toContain(file)
  return { dir: world.dir, file, lsn: parseSnapshotFileName(file)! }
}

describe('replay-verify on a snapshot not there to read', () => {
  test('one that is a directory: INVALID, exit 65 (the behaviour the others follow)', async () => {
    const { dir, file, lsn } = await withOneSnapshot(741)
    rmSync(join(dir, 'snapshots', file))
    mkdirSync(join(dir, 'snapshots', file))
    const verified = await cli(['replay-verify', dir])
    expect(verified.code).toBe(65)
    expect(verified.out).toContain(`snapshot   ${file} LSN ${lsn}: INVALID — UNREADABLE`)
  })

  test('listed in MANIFEST.json, its file gone: INVALID naming it, exit 65, not "snapshots none"', async () => {
    const { dir, file, lsn } = await withOneSnapshot(742)
    rmSync(join(dir, 'snapshots', file))
    const verified = await cli(['replay-verify', dir])
    expect(verified.out).not.toContain('snapshots  none')
    expect(verified.out).toContain(`snapshot   ${file} LSN ${lsn}: INVALID — UNREADABLE: listed in MANIFEST.json, no such file`)
    expect(verified.out).toStartWith('DIFFERENCES FOUND')
    expect(verified.code).toBe(65)
    const json = await cli(['replay-verify', dir, '--json'])
    expect(JSON.parse(json.out).snapshots).toEqual([expect.objectContaining({ file, lsn, status: 'invalid' })])
  })

  test('a dangling symbolic link under its name: INVALID naming it, exit 65', async () => {
    const { dir, file, lsn } = await withOneSnapshot(743)
    rmSync(join(dir, 'snapshots', file))
    symlinkSync(join(dir, 'moved-away.snap'), join(dir, 'snapshots', file))
    const verified = await cli(['replay-verify', dir])
    expect(verified.out).not.toContain('snapshots  none')
    expect(verified.out).toContain(`snapshot   ${file} LSN ${lsn}: INVALID — UNREADABLE: named in the directory, leads to no file`)
    expect(verified.code).toBe(65)
  })
})
