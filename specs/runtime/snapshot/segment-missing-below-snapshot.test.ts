/**
 * A data dir whose log lost a segment in the middle, below the newest snapshot. The restart opens the log anchored at
 * the snapshot and used to accept it (the skipped segment before the hole credited with the missing LSNs; a read of
 * them failed later). Compaction removes only a prefix of whole segments, so a hole in the middle is never its doing:
 * the start now refuses with SEGMENT_MISSING naming the LSNs, and replay-verify and audit verify report it.
 */

import { afterAll, describe, expect, test } from 'bun:test'
import { readdirSync, unlinkSync } from 'node:fs'
import { join } from 'node:path'
import { WalCorruptionError } from '../../../wal/index.ts'
import { cli } from '../../cli/io.ts'
import { crashWorld, removeDir, run, startWorld } from '../harness.ts'
import { trade } from './support.ts'

const WAL = { durability: 'none', segmentBytesMax: 16 * 1024, preallocateBytes: 0 } as const
const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) removeDir(dir)
})

describe('a segment missing below the snapshot', () => {
  test('the start refuses with SEGMENT_MISSING naming the LSNs; replay-verify and audit verify report it', async () => {
    const world = await startWorld({ seed: 3501, wal: WAL, snapshots: { atShutdown: false, keep: 2 } })
    dirs.push(world.dir)
    await trade(world, { orders: 40, tag: 'gap', seed: 3501 })
    await run(world, 200)
    const taken = await world.gateway.snapshot()
    await trade(world, { orders: 4, tag: 'gap-tail', seed: 3502 })
    await run(world, 200)
    await crashWorld(world)

    const logDir = join(world.dir, 'log')
    const segments = readdirSync(logDir).filter((name) => name.endsWith('.seg')).sort()
    const firstLsns = segments.map((name) => Number(name.slice(0, 20)))
    const below = firstLsns.filter((lsn, index) => (firstLsns[index + 1] ?? Infinity) - 1 < (taken?.lsn ?? 0))
    expect(below.length).toBeGreaterThan(2)
    const victimIndex = 1
    unlinkSync(join(logDir, segments[victimIndex] as string))
    const missing = `LSNs ${firstLsns[victimIndex]}..${(firstLsns[victimIndex + 1] as number) - 1} are missing`

    let refused: unknown = null
    try {
      const restarted = await startWorld({ seed: 3501, dir: world.dir, clock: world.clock, venue: world.venue, wal: WAL, snapshots: { atShutdown: false, keep: 2 } })
      await restarted.gateway.stop()
    } catch (error) {
      refused = error instanceof Error && error.cause !== undefined ? error.cause : error
    }
    expect(refused).toBeInstanceOf(WalCorruptionError)
    expect((refused as WalCorruptionError).code).toBe('SEGMENT_MISSING')
    expect((refused as WalCorruptionError).message).toContain(missing)

    const verify = await cli(['replay-verify', world.dir])
    expect(verify.code).toBe(65)
    expect(`${verify.out}\n${verify.err}`).toContain('SEGMENT_MISSING')
    const audit = await cli(['audit', 'verify', logDir, '--no-signatures'])
    expect(audit.code).toBe(65)
    expect(`${audit.out}\n${audit.err}`).toContain('SEGMENT_MISSING')
  }, 60_000)
})
