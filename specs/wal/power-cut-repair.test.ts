// `repair-tail`'s cut (wal/tail-repair.ts) with a power cut at every step (specs/support/power-cut-io.ts): the bytes
// the cut removes are never lost — in every tree the disk may hold, either the segment is still whole (the hole and
// the frames past it, as diagnosed) or it is cut and the quarantine file holds exactly the removed bytes.
import { afterAll, describe, expect, test } from 'bun:test'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { basename, join } from 'node:path'
import { diagnoseTail, repairTail, Wal } from '../../wal/index.ts'
import { everySubset, powerCutIo } from '../support/power-cut-io.ts'
import { removeTempDirs, tempDir } from './support.ts'

afterAll(removeTempDirs)

describe('a power cut during repair-tail', () => {
  test('at every step the removed bytes are in the segment or in the quarantine file, never in neither', async () => {
    const root = tempDir()
    const scratch = tempDir()
    const io = powerCutIo(root)
    const logDir = join(root, 'log')
    const wal = Wal.open(logDir, { io, durability: 'fsync', preallocateBytes: 0 })
    // Over 4 MiB of frames past the hole (more than one batch in flight spans): refused on open, repair-tail's to cut.
    for (let batch = 0; batch < 21; batch++) {
      await wal.append(Array.from({ length: 1000 }, () => ({ type: 7, version: 1, payload: new TextEncoder().encode('x'.repeat(150)) })))
    }
    await wal.close()
    // A lost page write in the middle of the last segment, synced as such: frames past it are CRC-valid.
    const segment = join(logDir, '00000000000000000001.seg')
    const fd = io.openAppend(segment)
    io.write(fd, new Uint8Array(4096), 5 * 4096)
    io.fsync(fd)
    io.close(fd)
    const original = readFileSync(segment)
    const diagnosis = diagnoseTail(logDir, { io })
    if (diagnosis.kind !== 'hole') throw new Error(`expected a hole, got ${diagnosis.kind}`)
    const { cutOffsetBytes, lastGoodLsn } = diagnosis.hole
    // The hole lies inside the first append of 1000 records: the cut goes back to where that append began, since an
    // append is in the log whole or not at all (wal/frame.ts).
    expect({ cutOffsetBytes, lastGoodLsn }).toEqual({ cutOffsetBytes: 64, lastGoodLsn: 0 })
    const removed = original.subarray(cutOffsetBytes)
    // Two levels of quarantine directory that do not exist yet.
    const quarantineDir = join(root, 'kept', 'quarantine')
    const failures: string[] = []
    let cuts = 0
    const check = (label: string): void => {
      const pending = io.pendingChanges()
      for (const keep of everySubset(pending.length)) {
        const tree = join(scratch, `cut-${cuts++}`)
        io.materialize(tree, keep)
        const where = `${label} keeping [${pending.filter((change, at) => keep(change, at)).map((change) => change.label).join(', ')}]`
        const cutSegment = readFileSync(join(tree, 'log', basename(segment)))
        const whole = cutSegment.equals(original)
        const quarantined = join(tree, 'kept', 'quarantine', `${basename(segment)}.${cutOffsetBytes}.tail`)
        const kept = existsSync(quarantined) && readFileSync(quarantined).equals(removed)
        if (!whole && !(kept && cutSegment.equals(original.subarray(0, cutOffsetBytes)))) {
          failures.push(`${where}: segment ${cutSegment.byteLength} bytes (was ${original.byteLength}), quarantine ${existsSync(quarantined) ? `${statSync(quarantined).size} bytes` : 'missing'}`)
        }
      }
    }
    io.beforeChange = (label) => check(`before ${label}`)
    const result = repairTail(logDir, { truncateAtLsn: lastGoodLsn + 1, quarantineDir, io })
    io.beforeChange = null
    check('after the cut returned')
    expect(result.lastLsn).toBe(lastGoodLsn)
    expect(cuts).toBeGreaterThan(5)
    // Once it returned nothing is pending: every tree holds the cut log and the quarantine file. Before the fix the
    // quarantine's directories were fsynced one level up only: 'mkdir kept' stayed pending, and a cut without it kept
    // the cut segment but lost the quarantine file (the removed frames gone).
    expect({ pending: io.pendingChanges().map((change) => change.label), failures }).toEqual({ pending: [], failures: [] })
  })
})
