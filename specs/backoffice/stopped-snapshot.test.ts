/**
 * A query model stopped by failed writes (src/backoffice/write-failures.ts) gives snapshots no back-office section
 * (captureSection: its store is behind, and is written no further). Taken anyway, such a snapshot became the basis of
 * a compaction, and the restart that was to rebuild the query model from the log (README) found the log compacted and
 * no section: the back office started LEDGER_INCOMPLETE, its history lost but for the archive. Now no snapshot is taken
 * while the query model is stopped (backOfficeSectionSource ready), as before the back office opens: none lacks the
 * section, compaction stays at the last snapshot with one, and the restart rebuilds the whole query model.
 */

import { Database } from 'bun:sqlite'
import { describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { nodeIo, openReadOnly } from '../../wal/index.ts'
import { BACKOFFICE_SECTION, backOfficeOf, backOfficeSectionSource } from '../../src/backoffice/index.ts'
import type { Gateway } from '../../src/runtime/gateway.ts'
import { SnapshotStore, loadNewestValid } from '../../src/runtime/snapshot/index.ts'
import { run, startWorld, worldsStoppedAfterEach, type World, type WorldOptions } from '../runtime/harness.ts'
import { trade } from '../runtime/snapshot/support.ts'

const worlds = worldsStoppedAfterEach()
const OPTIONS = { wal: { segmentBytesMax: 4096 }, snapshots: { everyRecords: 60, keep: 2, compaction: 'archive' as const } }

async function officeWorld(options: Partial<WorldOptions> & { seed: number }, batchRowsMax?: number): Promise<World> {
  let gateway: Gateway | null = null
  const world = await startWorld({ ...options, ...OPTIONS, snapshotSections: [backOfficeSectionSource(() => gateway)] })
  gateway = world.gateway
  backOfficeOf(world.gateway, { reconcileIntervalMs: null, ...(batchRowsMax === undefined ? {} : { batchRowsMax }) })
  return world
}

/** Another connection holding the query model's write lock: every write fails with SQLITE_BUSY until released. */
function lockStore(storePath: string): () => void {
  const other = new Database(storePath)
  other.exec('BEGIN IMMEDIATE')
  return () => {
    other.exec('ROLLBACK')
    other.close()
  }
}

/** Whether the snapshot a start of the stopped data dir `dir` would load holds a back-office section. */
function newestHasSection(dir: string): boolean {
  const { loaded } = loadNewestValid(new SnapshotStore(join(dir, 'snapshots'), { io: nodeIo, keep: 10 }), openReadOnly(join(dir, 'log')))
  if (loaded === null || loaded === undefined) throw new Error('no valid snapshot')
  return loaded.sections.has(BACKOFFICE_SECTION)
}

describe('a query model stopped by failed writes', () => {
  test('no snapshot is taken without its section, so the restart still rebuilds the whole query model from the log', async () => {
    const first = await officeWorld({ seed: 881 }, 2)
    await trade(first, { orders: 10, tag: 'a', seed: 881 })
    await run(first, 200)
    await first.gateway.snapshotter.idle()
    const office = backOfficeOf(first.gateway)
    const release = lockStore(join(first.dir, 'backoffice.sqlite'))
    await trade(first, { orders: 40, tag: 'b', seed: 882 })
    await run(first, 500)
    await first.gateway.snapshotter.idle()
    expect(office.projector.writeFailures.stopped?.sqliteCode).toBe('SQLITE_BUSY')
    expect(await first.gateway.snapshot()).toBeNull()
    await first.gateway.snapshotter.idle()
    release()
    await first.gateway.stop()
    expect(newestHasSection(first.dir)).toBe(true)

    const second = await officeWorld({ seed: 881, dir: first.dir, clock: first.clock, venue: first.venue })
    worlds.push(second)
    const stats = backOfficeOf(second.gateway).stats()
    expect(stats.ledgerComplete).toBe(true)
    expect(stats.storeHeld).toBeNull()
    expect(stats.sectionLsn).not.toBeNull()
  })
})
