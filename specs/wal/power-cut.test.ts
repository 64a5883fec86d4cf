// A power cut (not a kill -9: the page cache is lost too) at each step of the log's own file-system changes, with the
// directory entries not yet fsynced kept in every possible subset (specs/support/power-cut-io.ts). What was
// acknowledged must come back, and the log must open: no SEGMENT_MISSING hole, no lost directory.
import { afterAll, describe, expect, test } from 'bun:test'
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { openReadOnly, Wal } from '../../wal/index.ts'
import { everySubset, powerCutIo, type PowerCutIo } from '../support/power-cut-io.ts'
import { record, removeTempDirs, tempDir } from './support.ts'

afterAll(removeTempDirs)

/** Every tree a power cut now can leave: each subset of the pending directory changes, materialized in a new dir. */
function treesAfterCut(io: PowerCutIo, scratch: string, label: string): { dir: string; kept: string[] }[] {
  const pending = io.pendingChanges()
  return everySubset(pending.length).map((keep, index) => {
    const dir = join(scratch, `${label.replace(/[^A-Za-z0-9]+/g, '_')}-${index}`)
    io.materialize(dir, keep)
    return { dir, kept: pending.filter((change, at) => keep(change, at)).map((change) => change.label) }
  })
}

describe('a power cut', () => {
  test('after a first append to a new log in new directories: the acknowledged records survive with every directory entry', async () => {
    const root = tempDir()
    const scratch = tempDir()
    const io = powerCutIo(root)
    // The data directory and its log directory do not exist yet: the open creates both.
    const wal = Wal.open(join(root, 'data', 'log'), { io, durability: 'fsync', preallocateBytes: 0 })
    const lsns = await wal.append([record('acknowledged 1'), record('acknowledged 2')])
    expect(lsns).toEqual([1, 2])
    // The acknowledgement is given: a power cut now must keep both records, whatever else the disk got to write.
    const trees = treesAfterCut(io, scratch, 'after-ack')
    const lost = trees.filter((tree) => {
      try {
        return openReadOnly(join(tree.dir, 'data', 'log')).lastLsn !== 2
      } catch {
        return true
      }
    })
    // Before the fix: 'mkdir data' (in the root) and 'mkdir data/log' were never fsynced in their parents, so the
    // cut that keeps neither lost the log, acknowledged records and all.
    expect({ pending: io.pendingChanges().map((change) => change.label), lost: lost.map((tree) => tree.kept) }).toEqual({ pending: [], lost: [] })
    await wal.close()
  })

  test('at each step of appending (group commit, segment rolls, preallocated zeros): every acknowledged record survives', async () => {
    const root = tempDir()
    const scratch = tempDir()
    const io = powerCutIo(root)
    const wal = Wal.open(root, { io, segmentBytesMax: 4096, preallocateBytes: 1024, durability: 'fsync' })
    let acknowledged = 0
    const failures: string[] = []
    let cuts = 0
    io.beforeChange = (label) => {
      const at = acknowledged
      for (const tree of treesAfterCut(io, scratch, `${cuts++}`)) {
        try {
          const log = openReadOnly(tree.dir)
          if (log.lastLsn < at) failures.push(`before ${label} keeping [${tree.kept.join(', ')}]: ends at ${log.lastLsn}, ${at} acknowledged`)
        } catch (error) {
          failures.push(`before ${label} keeping [${tree.kept.join(', ')}]: ${String(error).slice(0, 160)}`)
        }
      }
    }
    // Bursts of appends: batches of several records, a roll now and then in the middle of a batch.
    for (let burst = 0; burst < 12; burst++) {
      const appends = Array.from({ length: 1 + (burst % 4) }, (_, index) =>
        wal.append([record(`burst ${burst} append ${index} ${'y'.repeat(300 + 37 * index)}`)]).then(([lsn]) => {
          acknowledged = Math.max(acknowledged, lsn as number)
        }),
      )
      await Promise.all(appends)
    }
    io.beforeChange = null
    expect(wal.segments.length).toBeGreaterThan(3)
    expect(cuts).toBeGreaterThan(40)
    expect(failures).toEqual([])
    await wal.close()
  })

  for (const mode of ['delete', 'archive'] as const) {
    test(`at each step of compaction (${mode}): the log opens with every acknowledged record, never with a hole`, async () => {
      const root = tempDir()
      const scratch = tempDir()
      const logDir = join(root, 'log')
      mkdirSync(logDir)
      const io = powerCutIo(logDir)
      const wal = Wal.open(logDir, { io, segmentBytesMax: 4096, preallocateBytes: 0, durability: 'fsync' })
      for (let index = 0; index < 50; index++) await wal.append([record(`record ${index} ${'x'.repeat(400)}`)])
      const lastLsn = wal.lastLsn
      expect(wal.segments.length).toBeGreaterThan(5)
      const bound = (wal.segments[3]?.lastLsn as number) + 1
      const doomed = wal.segments.slice(0, 4).map((segment) => segment.name)
      expect(io.pendingChanges()).toEqual([])
      const failures: string[] = []
      let cuts = 0
      const check = (label: string): void => {
        for (const tree of treesAfterCut(io, scratch, `${cuts++}-${label}`)) {
          try {
            const log = openReadOnly(tree.dir)
            if (log.lastLsn !== lastLsn || log.firstLsn > bound) failures.push(`${label} keeping [${tree.kept.join(', ')}]: LSNs ${log.firstLsn}..${log.lastLsn}`)
            // An archived segment is kept: in the log or in the archive, never in neither.
            const gone = mode === 'archive' ? doomed.filter((name) => !existsSync(join(tree.dir, name)) && !existsSync(join(tree.dir, 'archive', name))) : []
            if (gone.length > 0) failures.push(`${label} keeping [${tree.kept.join(', ')}]: ${gone.join(', ')} in neither the log nor the archive`)
          } catch (error) {
            failures.push(`${label} keeping [${tree.kept.join(', ')}]: ${String(error).slice(0, 120)}`)
          }
        }
      }
      io.beforeChange = (label) => check(`before ${label}`)
      // The archive is inside the log's root here, so the model sees both directories (a rename across them).
      const removed = wal.removeSegmentsBelow(bound, mode === 'archive' ? { archiveDir: join(logDir, 'archive') } : {})
      io.beforeChange = null
      check('after the compaction returned')
      expect(removed.length).toBe(4)
      expect(cuts).toBeGreaterThan(4)
      // Before the fix (unlinks oldest first, one directory fsync at the end): a cut that kept the unlink of the
      // second segment but not the first's left LSNs missing between them — SEGMENT_MISSING, the log would not open.
      expect(failures).toEqual([])
      await wal.close()
    })
  }
})
