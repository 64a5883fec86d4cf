/**
 * DIR/BACKUP.json is input from outside like any file of a data dir (src/runtime/backup/manifest.ts). It was read with
 * a plain readFileSync: a FIFO under its name held `egress replay-verify` (and `egress audit verify`) for good, waiting
 * for a writer, and a file of any size was read whole before its size was judged. It is now read bounded and no pipe:
 * such a file is a manifest that cannot be read (BACKUP_MANIFEST_INVALID), said at once. The command runs in a child,
 * so a regression fails instead of hanging the run.
 */

import { afterAll, expect, test } from 'bun:test'
import { join } from 'node:path'
import { crashWorld, removeDir } from '../harness.ts'
import { tradedWorld } from '../snapshot/support.ts'

const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) removeDir(dir)
})

test('a FIFO as BACKUP.json is BACKUP_MANIFEST_INVALID, reported at once by replay-verify', async () => {
  const world = await tradedWorld(5703, 8)
  dirs.push(world.dir)
  await crashWorld(world)
  expect(Bun.spawnSync(['mkfifo', join(world.dir, 'BACKUP.json')]).exitCode).toBe(0)

  const child = Bun.spawnSync([process.execPath, 'src/main.ts', 'replay-verify', world.dir], { timeout: 20_000, stdout: 'pipe', stderr: 'pipe' })
  expect(child.exitCode).toBe(65)
  expect(child.stdout.toString()).toContain(`PROBLEM    BACKUP_MANIFEST_INVALID: ${join(world.dir, 'BACKUP.json')} is not a backup manifest egress wrote (a pipe or socket, not a file)`)
}, 60_000)
