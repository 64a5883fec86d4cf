/**
 * A gateway started on a copy of a backup cut short (a `cp` interrupted, a tape restore that stopped at a segment)
 * refuses to start: the backup's manifest (DIR/BACKUP.json) says where the copy ends, and every record up to there was
 * on the leader's log, so acknowledged. The start read nothing of it: a copy cut at a frame boundary started on its
 * shorter log, and one cut inside its last frame had the rest of that frame cut as a torn tail (never acknowledged,
 * it assumed) — either way the orders after the cut were forgotten and their LSNs handed to new records, where
 * `egress replay-verify DIR` said BACKUP_TRUNCATED of the same directory.
 */

import { afterEach, expect, test } from 'bun:test'
import { cpSync, readdirSync, statSync, truncateSync } from 'node:fs'
import { join } from 'node:path'
import { crashCopyAt, removeDir, startWorld, tempDataDir, type World } from '../harness.ts'
import { trade } from '../snapshot/support.ts'
import { backup, outDir } from './backup-support.ts'
import { compactingLeader } from './compacting-leader.ts'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const segmentsOf = (dir: string): string[] => readdirSync(join(dir, 'log')).filter((name) => name.endsWith('.seg')).sort()

/** The start's refusal (the cause the harness wraps), or null when it started (stopped at once). */
async function startRefusal(world: World, dir: string): Promise<{ code: unknown; message: string } | null> {
  try {
    const restored = await startWorld({ seed: 91, dir, clock: world.clock, venue: world.venue, wal: { durability: 'fsync' } })
    await restored.gateway.stop()
    return null
  } catch (error) {
    const cause = error instanceof Error && error.cause !== undefined ? error.cause : error
    return { code: (cause as { code?: unknown }).code, message: String((cause as Error).message) }
  }
}

test('a copy of a backup cut short, at a frame boundary or inside its last frame, is refused at start with BACKUP_TRUNCATED; nothing cut', async () => {
  const { world, url } = await compactingLeader(91, cleanups)
  await trade(world, { orders: 6, tag: 'r', seed: 91 })
  const { parent, out } = outDir(cleanups)
  const run = await backup(['--from', url, '--out', out, '--whole-log'])
  if (run.code !== 0) throw new Error(`backup failed: ${run.stderr}`)
  const lastLsn = (run.result as { lastLsn: number }).lastLsn

  const cut = crashCopyAt(out, lastLsn - 3)
  cleanups.push(() => removeDir(cut))
  const refusedCut = await startRefusal(world, cut)
  expect(refusedCut?.code).toBe('BACKUP_TRUNCATED')
  expect(refusedCut?.message).toContain(`was taken through LSN ${lastLsn}`)

  const torn = join(parent, 'torn')
  cpSync(out, torn, { recursive: true })
  const last = join(torn, 'log', segmentsOf(torn).at(-1) as string)
  const size = statSync(last).size - 10
  truncateSync(last, size)
  const refusedTorn = await startRefusal(world, torn)
  expect(refusedTorn?.code).toBe('LOG_TAIL_DURABLE')
  expect(refusedTorn?.message).toContain('BACKUP.json')
  expect(statSync(last).size).toBe(size)

  // The backup itself starts (and a copy of it whose start appended past its end starts again).
  const whole = join(parent, 'whole')
  cpSync(out, whole, { recursive: true })
  expect(await startRefusal(world, whole)).toBeNull()
  expect(await startRefusal(world, whole)).toBeNull()
}, 90_000)
