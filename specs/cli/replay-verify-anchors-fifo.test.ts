/**
 * A FIFO as the data dir's anchors file (DIR/audit/anchors.jsonl, src/audit/anchors-end.ts). Its tail was read after
 * a blocking open, which waited for a writer before the check that it is a file could pass it over: replay-verify
 * (and a start, judging whether a torn tail was durable) hung for good. It now opens at once and is passed over, as
 * anything there that is no file. The command runs in a child, so a regression fails instead of hanging the run.
 */

import { afterAll, expect, test } from 'bun:test'
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { anchorsPathOf } from '../../src/runtime/index.ts'
import { crashWorld, removeDir } from '../runtime/harness.ts'
import { tradedWorld } from '../runtime/snapshot/support.ts'

const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) removeDir(dir)
})

test('a FIFO as the anchors file is passed over: replay-verify matches, at once', async () => {
  const world = await tradedWorld(5704, 8)
  dirs.push(world.dir)
  await crashWorld(world)
  const anchors = anchorsPathOf(world.dir, undefined)
  mkdirSync(dirname(anchors), { recursive: true })
  expect(Bun.spawnSync(['mkfifo', anchors]).exitCode).toBe(0)

  const child = Bun.spawnSync([process.execPath, 'src/main.ts', 'replay-verify', world.dir], { timeout: 20_000, stdout: 'pipe', stderr: 'pipe' })
  expect(child.exitCode).toBe(0)
  expect(child.stdout.toString()).toStartWith(`MATCH: ${world.dir}`)
}, 60_000)
