/**
 * Snapshots taken at random points of seeded traffic — while places, amends, cancels and venue reports are in flight,
 * the log compacted (archived) below them — each restore to what a replay from genesis gives at the log's end: the
 * kernel state (each snapshot's state plus the log after it, digested) and the back office (each snapshot's section
 * plus the log after it: the query model's content digest and the ledger and break book, against a rebuild from
 * genesis over the archived and live segments). Then a crash and a restart from the newest snapshot: the running
 * gateway's kernel and query model equal genesis too. The seed is printed with each failure.
 */

import { describe, expect, test } from 'bun:test'
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { openReadOnly, nodeIo } from '../../../wal/index.ts'
import { BACKOFFICE_SECTION, backOfficeOf, decodeSection, openBackOfficeOf, QueryModelRebuild } from '../../../src/backoffice/index.ts'
import { stateDigest } from '../../../src/kernel/index.ts'
import { openSnapshot, rebuildState, SnapshotStore } from '../../../src/runtime/snapshot/index.ts'
import { backOfficeSectionSource } from '../../../src/backoffice/index.ts'
import type { Gateway } from '../../../src/runtime/gateway.ts'
import { crashWorld, run, startWorld, tempDataDir, worldsStoppedAfterEach, type World } from '../harness.ts'
import { trade } from './support.ts'

const worlds = worldsStoppedAfterEach()
const SEEDS = (process.env.SNAPSHOT_POINT_SEEDS ?? '7101,7102,7103').split(',').map(Number)

/** A world with the back-office section, small segments, two snapshots kept and the log archived below them. */
async function officeWorld(seed: number, from?: World): Promise<World> {
  let gateway: Gateway | null = null
  const restart = from === undefined ? {} : { dir: from.dir, clock: from.clock, venue: from.venue }
  const world = await startWorld({
    seed, ...restart, faults: seed % 2 === 1 ? FAULTS : {}, wal: { segmentBytesMax: 4096 }, snapshots: { keep: 2, compaction: 'archive', atShutdown: false }, snapshotSections: [backOfficeSectionSource(() => gateway)],
  })
  gateway = world.gateway
  worlds.push(world)
  return world
}

/** Odd seeds: a venue that repeats and drops reports, and times out calls it applied. */
const FAULTS = { dropReportProbability: 0.05, duplicateReportProbability: 0.1, timeoutAfterApplyProbability: 0.05, cancelAckLostProbability: 0.1 }

function random(seed: number): () => number {
  let state = seed >>> 0 || 1
  return () => {
    state ^= state << 13
    state ^= state >>> 17
    state ^= state << 5
    return (state >>> 0) / 0x1_0000_0000
  }
}

/** Every frame of the run: the archived segments and the live log, side by side in one directory. */
function wholeLogDir(dir: string, into: string): string {
  mkdirSync(into, { recursive: true })
  for (const from of [join(dir, 'archive'), join(dir, 'log')]) {
    if (!existsSync(from)) continue
    for (const name of readdirSync(from)) if (!name.endsWith('.lock')) copyFileSync(join(from, name), join(into, name))
  }
  return into
}

describe('snapshots at random points restore to the genesis state', () => {
  for (const seed of SEEDS) {
    test(`seed ${seed}`, async () => {
      const next = random(seed)
      const scratch = tempDataDir()
      try {
        let world: World = await officeWorld(seed)
        backOfficeOf(world.gateway, { reconcileIntervalMs: null })
        const taken: number[] = []
        for (let round = 0; round < 6; round++) {
          const trading = trade(world, { orders: 4 + Math.floor(next() * 14), tag: `p${round}`, seed: seed * 100 + round })
          // The snapshot lands somewhere inside the round's traffic (some turns of the event loop in).
          const turns = Math.floor(next() * 40)
          for (let turn = 0; turn < turns; turn++) await new Promise<void>((resolve) => setImmediate(resolve))
          const snapshot = world.gateway.snapshot()
          await Promise.all([trading, snapshot.then((entry) => entry !== null && taken.push(entry.lsn))])
          if (next() < 0.3) await run(world, Math.floor(next() * 400))
        }
        expect(taken.length).toBeGreaterThan(2)
        await world.gateway.snapshotter.idle()
        await run(world, 300)
        // A crash: the back office stops where it is, the query model file moved away so its section is what restores it.
        const office = openBackOfficeOf(world.gateway)
        await office?.quiesce()
        office?.projector.close({ flush: false })
        office?.close()
        await crashWorld(world)
        for (const suffix of ['', '-wal', '-shm']) rmSync(join(world.dir, `backoffice.sqlite${suffix}`), { force: true })

        const logDir = wholeLogDir(world.dir, join(scratch, 'log'))
        const whole = openReadOnly(logDir)
        expect(whole.firstLsn).toBe(1)
        const genesisKernel = stateDigest(rebuildState(whole).state)
        const genesis = QueryModelRebuild.fromGenesis()
        let genesisSection
        try {
          for (const frame of whole.read(1)) genesis.apply(frame)
          genesisSection = decodeSection(genesis.section())
        } finally {
          genesis.close()
        }
        const live = openReadOnly(join(world.dir, 'log'))
        expect(live.firstLsn).toBeGreaterThan(1)
        const store = new SnapshotStore(join(world.dir, 'snapshots'), { io: nodeIo, keep: 100 })
        const candidates = store.candidates()
        expect(candidates.length).toBeGreaterThan(0)
        for (const candidate of candidates) {
          const loaded = openSnapshot(store, candidate, live)
          expect({ seed, file: candidate.file, digest: stateDigest(rebuildState(live, { from: { state: loaded.state, lsn: loaded.lsn } }).state) }).toEqual({ seed, file: candidate.file, digest: genesisKernel })
          const bytes = loaded.sections.get(BACKOFFICE_SECTION)
          expect(bytes).toBeDefined()
          const section = decodeSection(bytes as Uint8Array)
          expect(section.header.lsn).toBeGreaterThanOrEqual(loaded.lsn)
          const resumed = QueryModelRebuild.fromSection(section)
          try {
            for (const frame of live.read(section.header.lsn + 1)) resumed.apply(frame)
            const resumedSection = decodeSection(resumed.section())
            expect({ seed, file: candidate.file, model: resumedSection.header.queryModel }).toEqual({ seed, file: candidate.file, model: genesisSection.header.queryModel })
            expect(resumedSection.ledger).toEqual(genesisSection.ledger)
            expect(resumedSection.breaks.open).toEqual(genesisSection.breaks.open)
          } finally {
            resumed.close()
          }
        }

        world = await officeWorld(seed, world)
        expect(world.gateway.restoreReport?.snapshot).not.toBeNull()
        // Its start may append (read-backs of calls the crash left in flight): compared with the whole log as it is now.
        await world.gateway.engine.settled()
        const after = openReadOnly(wholeLogDir(world.dir, join(scratch, 'after')))
        expect({ seed, digest: stateDigest(world.gateway.engine.state) }).toEqual({ seed, digest: stateDigest(rebuildState(after).state) })
        const restarted = backOfficeOf(world.gateway, { reconcileIntervalMs: null })
        expect(restarted.stats().sectionProblem).toBeNull()
        for (let attempt = 0; attempt < 100 && !restarted.projector.flush(); attempt++) await run(world, 5)
        const stored = restarted.projector.store.contentDigest()
        const again = QueryModelRebuild.fromGenesis()
        try {
          for (const frame of after.read(1, { toLsn: stored.lastLsn })) again.apply(frame)
          expect({ seed, model: stored }).toEqual({ seed, model: again.digest() })
        } finally {
          again.close()
        }
        expect(world.errors).toEqual([])
      } finally {
        removeScratch(scratch)
      }
    }, 120_000)
  }
})

function removeScratch(dir: string): void {
  rmSync(dir, { recursive: true, force: true })
}
