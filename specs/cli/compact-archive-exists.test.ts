/**
 * `egress compact --archive` (and the gateway's archive compaction, the same wal/compaction.ts) never replaces a file
 * the archive directory holds: a segment name is its first LSN, so two logs archived into one directory (a data dir
 * started afresh, a second gateway given the same snapshots.archiveDir) meet under the same names. The rename replaced
 * the first log's archived segments with the second's, exit 0, and the first log's history was gone.
 */

import { afterAll, describe, expect, test } from 'bun:test'
import { copyFileSync, mkdirSync, readdirSync, readFileSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { removeDir, startWorld, tempDataDir } from '../runtime/harness.ts'
import { trade } from '../runtime/snapshot/support.ts'
import { cli } from './io.ts'

const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) removeDir(dir)
})

/** A stopped data directory of many small segments with a snapshot at its end: compaction has segments to archive. */
async function snapshottedDir(seed: number): Promise<string> {
  const world = await startWorld({ seed, wal: { segmentBytesMax: 4096 }, snapshots: { atShutdown: false } })
  dirs.push(world.dir)
  await trade(world, { orders: 30, tag: 'a', seed })
  await world.gateway.stop()
  expect((await cli(['snapshot', world.dir])).code).toBe(0)
  return world.dir
}

function segments(dir: string): string[] {
  return readdirSync(dir).filter((name) => name.endsWith('.seg')).sort()
}

function archiveDir(): string {
  const dir = tempDataDir()
  dirs.push(dir)
  return join(dir, 'archive')
}

describe('egress compact --archive into a directory holding segments of that name', () => {
  test('another log\'s archived segment is never replaced: ARCHIVE_SEGMENT_EXISTS, exit 1, the segment left in the log', async () => {
    const archive = archiveDir()
    const first = await snapshottedDir(401)
    expect((await cli(['compact', first, '--archive', archive])).code).toBe(0)
    const archived = segments(archive)
    expect(archived).toContain('00000000000000000001.seg')
    const firstBytes = archived.map((name) => readFileSync(join(archive, name)))

    const second = await snapshottedDir(402)
    const logBefore = segments(join(second, 'log'))
    const run = await cli(['compact', second, '--archive', archive])
    expect(run.code).toBe(1)
    expect(run.err).toMatch(/^egress compact: ARCHIVE_SEGMENT_EXISTS: .*00000000000000000001\.seg exists and holds other bytes than .*; nothing overwritten/)
    expect(run.err.split('\n')).toHaveLength(1)
    // The first log's archive is as it was, and the second log lost nothing.
    expect(segments(archive)).toEqual(archived)
    expect(archived.map((name) => readFileSync(join(archive, name)))).toEqual(firstBytes)
    expect(segments(join(second, 'log'))).toEqual(logBefore)
    expect((await cli(['replay-verify', second, '--from', 'genesis'])).code).toBe(0)
  }, 60_000)

  test('the same bytes under that name (a run stopped after archiving, before the log\'s name went) are this segment: the compaction goes on', async () => {
    const archive = archiveDir()
    const dir = await snapshottedDir(403)
    mkdirSync(archive, { recursive: true })
    const oldest = segments(join(dir, 'log'))[0] as string
    copyFileSync(join(dir, 'log', oldest), join(archive, oldest))
    const run = await cli(['compact', dir, '--archive', archive, '--json'])
    expect(run.code).toBe(0)
    const result = JSON.parse(run.out) as { removed: string[] }
    expect(result.removed).toContain(oldest)
    expect(segments(archive)).toEqual(result.removed.sort())
    expect(segments(join(dir, 'log'))).not.toContain(oldest)
    expect((await cli(['replay-verify', dir])).code).toBe(0)
  }, 60_000)

  test('an archive directory that is the log directory (by its path or a link) is refused, nothing removed', async () => {
    const dir = await snapshottedDir(404)
    const before = segments(join(dir, 'log'))
    symlinkSync('log', join(dir, 'log-link'))
    for (const archive of [join(dir, 'log'), join(dir, 'log-link')]) {
      const run = await cli(['compact', dir, '--archive', archive])
      expect(run.code).toBe(1)
      expect(run.err).toContain(`ARCHIVE_DIR_IS_LOG_DIR: the archive directory ${archive} is the log directory`)
      expect(segments(join(dir, 'log'))).toEqual(before)
    }
  }, 60_000)
})
