/**
 * `<dataDir>/snapshots` that is a regular file: the gateway's start threw a bare ENOTDIR out of the snapshot store's
 * directory listing (no code to match on, the path only in the errno text). It is refused now as the other start
 * problems are: RestoreError SNAPSHOT_DIR_UNUSABLE naming the path; the offline commands refuse alike.
 */

import { afterAll, expect, test } from 'bun:test'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { runCli } from '../../../src/cli/index.ts'
import { RestoreError } from '../../../src/runtime/snapshot/index.ts'
import { recordingIo } from '../../cli/io.ts'
import { crashWorld, removeDir, startWorld, tempDataDir } from '../harness.ts'

const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) removeDir(dir)
})

async function refusal(start: Promise<unknown>): Promise<RestoreError> {
  try {
    await start
  } catch (error) {
    // startWorld wraps a failed start ("gateway did not start"), the gateway's own error as its cause.
    const cause = error instanceof Error ? error.cause : undefined
    if (cause instanceof RestoreError) return cause
    throw new Error(`expected a RestoreError, got ${String(error)}`)
  }
  throw new Error('the start was not refused')
}

test('a start on a snapshots path that is a regular file is refused with SNAPSHOT_DIR_UNUSABLE naming the path', async () => {
  const world = await startWorld({ seed: 93 })
  dirs.push(world.dir)
  await crashWorld(world)
  const snapshots = join(world.dir, 'snapshots')
  removeDir(snapshots)
  writeFileSync(snapshots, 'not a directory')
  const error = await refusal(startWorld({ seed: 93, dir: world.dir }))
  expect(error.code).toBe('SNAPSHOT_DIR_UNUSABLE')
  expect(error.path).toBe(snapshots)
  expect(error.message).toBe(`SNAPSHOT_DIR_UNUSABLE: the snapshot directory ${snapshots}: it is not a directory; move it aside or make it a readable directory`)
  for (const argv of [['snapshot', world.dir], ['compact', world.dir, '--dry-run'], ['compact', world.dir, '--delete']]) {
    const io = recordingIo({})
    expect(await runCli(argv, io)).toBe(1)
    expect(io.stderr.join('\n')).toContain(`egress ${argv[0]}: SNAPSHOT_DIR_UNUSABLE: the snapshot directory ${snapshots}: it is not a directory`)
  }
  // Moved aside, the same data dir starts.
  removeDir(snapshots)
  await crashWorld(await startWorld({ seed: 93, dir: world.dir }))
})

test('a fresh data dir whose snapshots path is a regular file is refused the same way', async () => {
  const dir = tempDataDir()
  dirs.push(dir)
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'snapshots'), '')
  expect((await refusal(startWorld({ seed: 94, dir }))).code).toBe('SNAPSHOT_DIR_UNUSABLE')
})
