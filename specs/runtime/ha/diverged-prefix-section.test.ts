/**
 * A snapshot is named by the kernel's LSN, but its back-office section is built at the back office's own LSN, which is
 * later when the log ends in records the kernel does not apply (a reconcile's `backoffice.reconciled`, break records,
 * audit seals). A diverged standby keeping its log up to a shared LSN between the two must not keep such a snapshot
 * as it is: its section holds records set aside. A start refused the section (LOG_MISMATCH) and, on a compacted log,
 * the back office rebuilt from the log's first LSN and lost everything before it (ledger not complete).
 */

import { afterEach, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { nodeIo, openReadOnly } from '../../../wal/index.ts'
import { BACKOFFICE_SECTION, backOfficeOf, backOfficeSectionSource, sectionHeaderOf } from '../../../src/backoffice/index.ts'
import { Gateway } from '../../../src/runtime/index.ts'
import { compactOffline, loadNewestValid, SnapshotStore } from '../../../src/runtime/snapshot/index.ts'
import { DivergedPrefixError, keepCommonPrefix } from '../../../src/runtime/ha/diverged-prefix.ts'
import { crashWorld, drive, removeDir, standbyOptionsOf, startWorld, type World } from '../harness.ts'
import { trade } from '../snapshot/support.ts'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

interface Taken {
  file: string
  /** The kernel's LSN (the file's name) and the back-office section's. */
  lsn: number
  sectionLsn: number
}

/**
 * A crashed data dir: a snapshot whose section is at its own LSN (`below`), more trading, a reconcile (records the
 * kernel does not apply), and a snapshot whose section is past its name (`above`). The log compacted below `below`.
 */
async function dataDirWithLaterSection(seed: number): Promise<{ world: World; below: Taken; above: Taken }> {
  let gateway: Gateway | null = null
  const world = await startWorld({ seed, wal: { segmentBytesMax: 4096 }, snapshots: { atShutdown: false }, snapshotSections: [backOfficeSectionSource(() => gateway)] })
  gateway = world.gateway
  cleanups.push(() => removeDir(world.dir))
  const office = backOfficeOf(world.gateway, { reconcileIntervalMs: null })
  const snapshot = async (): Promise<Taken> => {
    const taken = await world.gateway.snapshot()
    if (taken === null) throw new Error('expected a snapshot')
    const content = new SnapshotStore(join(world.dir, 'snapshots'), { io: nodeIo, keep: 3 }).read({ file: taken.file, path: taken.path, lsn: taken.lsn })
    return { file: taken.file, lsn: taken.lsn, sectionLsn: sectionHeaderOf(content.sections.get(BACKOFFICE_SECTION) as Uint8Array).lsn }
  }
  await trade(world, { orders: 20, tag: 'early', seed })
  const below = await snapshot()
  await trade(world, { orders: 10, tag: 'late', seed: seed + 1 })
  await drive(world, office.reconcile())
  await drive(world, office.reconcile())
  const above = await snapshot()
  office.close()
  await crashWorld(world)
  await compactOffline(world.dir, { mode: 'delete', archiveDir: null, keep: 3, dryRun: false })
  return { world, below, above }
}

describe('keeping a diverged prefix between a snapshot and its back-office section', () => {
  test('the snapshot whose section holds records set aside is not kept; the start uses the one below with its section, ledger whole', async () => {
    const { world, below, above } = await dataDirWithLaterSection(471)
    // The shape of the defect: the newer snapshot's section is past the LSN it is named by.
    expect(below.sectionLsn).toBe(below.lsn)
    expect(above.sectionLsn).toBeGreaterThan(above.lsn)
    const firstLsn = openReadOnly(join(world.dir, 'log')).firstLsn
    expect(firstLsn).toBeGreaterThan(1)
    expect(firstLsn).toBeLessThanOrEqual(below.lsn)
    // The leader shares A's log through the newer snapshot's kernel LSN, not the reconcile's records after it.
    const kept = keepCommonPrefix(world.dir, above.lsn)
    expect(kept.snapshotsKept).toEqual([below.lsn])
    // No kept snapshot carries a section past the kept log.
    const store = new SnapshotStore(join(world.dir, 'snapshots'), { io: nodeIo, keep: 3 })
    for (const candidate of store.candidates()) {
      const section = store.read(candidate).sections.get(BACKOFFICE_SECTION)
      if (section !== undefined) expect(sectionHeaderOf(section).lsn).toBeLessThanOrEqual(above.lsn)
    }
    expect(loadNewestValid(store, openReadOnly(join(world.dir, 'log'))).loaded?.lsn).toBe(below.lsn)
    // The standby's start (as the HA node's) restores the back office from that section: nothing refused, nothing lost.
    const errors: string[] = []
    const standby = await Gateway.start(standbyOptionsOf(world, world.dir, errors))
    cleanups.push(() => standby.stop())
    const stats = backOfficeOf(standby, { reconcileIntervalMs: null }).stats()
    expect(stats).toMatchObject({ sectionProblem: null, sectionLsn: below.sectionLsn, ledgerComplete: true })
    expect(errors).toEqual([])
  })

  test('a compacted log whose only covering snapshot has such a section: refused (COMPACTED_WITHOUT_SNAPSHOT), so the node re-syncs whole', async () => {
    const { world, below, above } = await dataDirWithLaterSection(472)
    // Without the older snapshot the compacted log is covered by the newer one only.
    const store = new SnapshotStore(join(world.dir, 'snapshots'), { io: nodeIo, keep: 3 })
    nodeIo.unlink(join(world.dir, 'snapshots', below.file))
    expect(store.candidates().map((candidate) => candidate.lsn)).toEqual([above.lsn])
    let code = 'kept'
    try {
      keepCommonPrefix(world.dir, above.lsn)
    } catch (error) {
      if (!(error instanceof DivergedPrefixError)) throw error
      code = error.code
    }
    expect(code).toBe('COMPACTED_WITHOUT_SNAPSHOT')
    expect(openReadOnly(join(world.dir, 'log')).lastLsn).toBeGreaterThanOrEqual(above.sectionLsn)
  })
})
