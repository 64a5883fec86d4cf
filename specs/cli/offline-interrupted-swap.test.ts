/**
 * The offline tools on a data dir an HA node left mid-swap (src/runtime/ha/interrupted-swaps.ts): keeping a diverged
 * log's shared part commits, then moves `log/` aside and the kept log into its place. Between the two, `log/` is the
 * old log (records about to be set aside) or missing. Before, replay-verify and audit read that as the data dir's log
 * (a MATCH or CLEAN of records the node was discarding, or an empty log), `egress snapshot` failed with ENOENT, and
 * `egress compact` created an empty `log/` — after which the swap could never finish and no node could start.
 * Now the tools that write (snapshot, compact) finish the swap first, as `egress serve` does; those that change
 * nothing (replay-verify, audit, compact --dry-run) refuse with INTERRUPTED_SWAP and say how to finish it.
 */

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { cpSync, existsSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { finishKeepingPrefix, keepCommonPrefix, PrefixKeepingHalted, type PrefixStep } from '../../src/runtime/ha/index.ts'
import { openReadOnly } from '../../wal/index.ts'
import { removeDir, startWorld, tempDataDir } from '../runtime/harness.ts'
import { trade } from '../runtime/snapshot/support.ts'
import { cli } from './io.ts'

const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) removeDir(dir)
})

/** A stopped data dir of a few hundred records, and the LSN a divergence keeps the log through (a little below its end). */
const stopped: { dir: string; lastLsn: number; keptLsn: number } = { dir: '', lastLsn: 0, keptLsn: 0 }
beforeAll(async () => {
  const world = await startWorld({ seed: 71, wal: { segmentBytesMax: 4096 }, snapshots: { atShutdown: false } })
  dirs.push(world.dir)
  await trade(world, { orders: 12, tag: 'o', seed: 71 })
  await world.gateway.stop()
  stopped.dir = world.dir
  stopped.lastLsn = world.gateway.engine.wal.lastLsn
  stopped.keptLsn = stopped.lastLsn - 4
})

/** A copy of the stopped data dir, its keeping of the prefix through keptLsn stopped after `step` as a crash would. */
function haltedAfter(step: PrefixStep): string {
  const dir = tempDataDir()
  dirs.push(dir)
  cpSync(stopped.dir, dir, { recursive: true })
  expect(() => keepCommonPrefix(dir, stopped.keptLsn, { haltAfter: (at) => at === step })).toThrow(PrefixKeepingHalted)
  return dir
}

const REFUSED = /INTERRUPTED_SWAP: .* was left mid-swap by an HA node: the keeping of a diverged log's shared part \(diverged-prefix\.commit\) was committed and not finished/

describe('tools that change nothing refuse a data dir left mid-swap', () => {
  for (const step of ['committed', 'log_moved_aside'] as const) {
    test(`after ${step}: replay-verify, audit verify and compact --dry-run refuse with INTERRUPTED_SWAP, changing nothing`, async () => {
      const dir = haltedAfter(step)
      const before = readdirSync(dir).sort()
      for (const argv of [['replay-verify', dir], ['audit', 'verify', dir, '--no-signatures'], ['compact', dir, '--dry-run']]) {
        const run = await cli(argv)
        expect({ argv, code: run.code }).toEqual({ argv, code: 1 })
        expect(run.err).toMatch(REFUSED)
        expect(run.err).toContain('run "egress serve" on this data dir')
        expect(readdirSync(dir).sort()).toEqual(before)
      }
    })
  }

  test('a committed snapshot recovery is refused and named too', async () => {
    const dir = tempDataDir()
    dirs.push(dir)
    cpSync(stopped.dir, dir, { recursive: true })
    writeFileSync(join(dir, 'snapshot-recovery.commit'), JSON.stringify({ suffix: 'compacted-1' }))
    const run = await cli(['replay-verify', dir])
    expect(run.code).toBe(1)
    expect(run.err).toMatch(/INTERRUPTED_SWAP: .* a snapshot recovery \(snapshot-recovery\.commit\) was committed and not finished/)
  })

  test('a log directory given itself (the log set aside, say) is still audited as it is', async () => {
    const dir = haltedAfter('log_moved_aside')
    const aside = readdirSync(dir).find((name) => name.startsWith('log.diverged-')) as string
    const run = await cli(['audit', 'verify', join(dir, aside), '--no-signatures'])
    expect(run.code).toBe(0)
    expect(run.out).toContain(`(LSN 1..${stopped.lastLsn})`)
  })

  test('a build never committed does not stop them: log/ is untouched and whole, and is what they read', async () => {
    const dir = haltedAfter('snapshots_built')
    const run = await cli(['replay-verify', dir])
    expect(run.code).toBe(0)
    expect(run.out).toContain(`LSN 1..${stopped.lastLsn}`)
  })
})

describe('tools that write finish the swap first, as egress serve does', () => {
  for (const step of ['committed', 'log_moved_aside'] as const) {
    test(`after ${step}: egress snapshot finishes the swap, then snapshots the kept log`, async () => {
      const dir = haltedAfter(step)
      const run = await cli(['snapshot', dir])
      expect(run.code).toBe(0)
      expect(run.err).toContain("interrupted keeping of a diverged log's shared part finished before the offline snapshot")
      expect(run.out).toMatch(new RegExp(`^snapshot snapshot-\\d{20}\\.snap written: LSN ${stopped.keptLsn}, `))
      expectSwapFinished(dir)
    })

    test(`after ${step}: egress compact finishes the swap before it opens the log, never creating an empty one`, async () => {
      const dir = haltedAfter(step)
      const run = await cli(['compact', dir, '--delete'])
      expect(run.code).toBe(0)
      expect(run.err).toContain("interrupted keeping of a diverged log's shared part finished before compacting")
      expectSwapFinished(dir)
    })
  }
})

/** log/ is the kept log (through keptLsn), the old one is aside whole, nothing of the swap is left. */
function expectSwapFinished(dir: string): void {
  expect(openReadOnly(join(dir, 'log')).lastLsn).toBe(stopped.keptLsn)
  const asides = readdirSync(dir).filter((name) => name.startsWith('log.diverged-'))
  expect(asides).toHaveLength(1)
  expect(openReadOnly(join(dir, asides[0] as string)).lastLsn).toBe(stopped.lastLsn)
  for (const leftover of ['log.prefix', 'snapshots.prefix', 'diverged-prefix.commit']) expect(existsSync(join(dir, leftover))).toBe(false)
  expect(finishKeepingPrefix(dir)).toBe('none')
}
