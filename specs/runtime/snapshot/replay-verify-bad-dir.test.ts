import { afterAll, describe, expect, test } from 'bun:test'
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { replayVerify } from '../../../src/runtime/snapshot/index.ts'
import { crashWorld, removeDir } from '../harness.ts'
import { tradedWorld } from './support.ts'

const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) removeDir(dir)
})

describe('replay-verify on a damaged snapshot directory', () => {
  test('a file where the snapshot directory should be is a problem in the report, never a thrown error', async () => {
    const world = await tradedWorld(93, 12)
    dirs.push(world.dir)
    await crashWorld(world)
    rmSync(join(world.dir, 'snapshots'), { recursive: true, force: true })
    writeFileSync(join(world.dir, 'snapshots'), 'not a directory')
    const report = replayVerify(world.dir, { from: 'auto', queryModel: false })
    expect(report.ok).toBe(false)
    expect(report.problems).toEqual([expect.stringContaining('cannot list snapshots')])
  })
})
