/**
 * `egress compact --dry-run` promises to change nothing. It opened the log writable (as a replica), and a writable open
 * cuts a torn tail — a power cut's hole in the last batch and the CRC-valid frames past it included (wal/lost-write.ts)
 * — so a dry run cut the very tail it was asked about. It now opens the log read-only and says what a real run would
 * cut; the data dir's bytes (all but the lock files' holder lines) are compared before and after.
 */

import { afterAll, describe, expect, test } from 'bun:test'
import { appendFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { frameBytesFor } from '../../wal/frame.ts'
import { openReadOnly, SECTOR_BYTES, Wal } from '../../wal/index.ts'
import { removeDir, startWorld, tempDataDir } from '../runtime/harness.ts'
import { trade } from '../runtime/snapshot/support.ts'
import { cli } from './io.ts'
import { dataDirContents } from './support/data-dir-contents.ts'

const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) removeDir(dir)
})

function lastSegmentOf(logDir: string): string {
  return join(logDir, readdirSync(logDir).filter((name) => name.endsWith('.seg')).sort().at(-1) as string)
}

describe('egress compact --dry-run', () => {
  test('on a log ending in a torn frame: nothing on disk changes, the tail a run would cut is said, and the run then cuts it', async () => {
    const world = await startWorld({ seed: 391, wal: { segmentBytesMax: 4096 }, snapshots: { atShutdown: false } })
    dirs.push(world.dir)
    await trade(world, { orders: 30, tag: 'dry', seed: 391 })
    await world.gateway.stop()
    expect((await cli(['snapshot', world.dir])).code).toBe(0)
    // A frame's first bytes, the rest never written: a torn tail after the snapshot's LSN.
    const segment = lastSegmentOf(join(world.dir, 'log'))
    appendFileSync(segment, Uint8Array.from({ length: 40 }, (_, index) => (index * 37 + 11) & 0xff))
    const lastLsn = openReadOnly(join(world.dir, 'log')).lastLsn
    const before = dataDirContents(world.dir)
    const dry = await cli(['compact', world.dir, '--dry-run', '--json'])
    expect(dry.code).toBe(0)
    expect(dataDirContents(world.dir)).toEqual(before)
    expect(dry.err).toContain(`LOG_TAIL_TRUNCATED: ${segment} to be cut by the next writable open`)
    expect(dry.err).toContain(`LSN ${lastLsn + 1} on, 40 bytes`)
    const planned = JSON.parse(dry.out) as { removed: string[] }
    expect(planned.removed.length).toBeGreaterThan(0)
    // The real run cuts what the dry run said, and removes what it said.
    const run = await cli(['compact', world.dir, '--json'])
    expect(run.code).toBe(0)
    expect(run.err).toContain(`LOG_TAIL_TRUNCATED: ${segment} cut at offset`)
    expect((JSON.parse(run.out) as { removed: string[] }).removed).toEqual(planned.removed)
  }, 60_000)

  test("on a log whose last batch a power cut left with a hole: nothing on disk changes (the valid frames past the hole stay)", async () => {
    const dataDir = tempDataDir()
    dirs.push(dataDir)
    const logDir = join(dataDir, 'log')
    const payload = new TextEncoder().encode('x'.repeat(150))
    const wal = Wal.open(logDir, { durability: 'none' })
    for (let batch = 0; batch < 4; batch++) await wal.append(Array.from({ length: 50 }, () => ({ type: 7, version: 1, payload })))
    await wal.close()
    // A sector of the last batch (frames 151..200) never written: zeros, with CRC-valid frames after it.
    const segment = lastSegmentOf(logDir)
    const holeAtBytes = Math.ceil((64 + 169 * frameBytesFor(payload.length)) / SECTOR_BYTES) * SECTOR_BYTES
    const bytes = readFileSync(segment)
    bytes.fill(0, holeAtBytes, holeAtBytes + SECTOR_BYTES)
    writeFileSync(segment, bytes)
    const seen = openReadOnly(logDir).report.tornTail
    expect(seen?.validFramesRemoved).toBeGreaterThan(0)
    const before = dataDirContents(dataDir)
    const dry = await cli(['compact', dataDir, '--dry-run'])
    expect(dry.code).toBe(0)
    expect(dry.out).toBe(`nothing to compact in ${dataDir}: no valid snapshot`)
    expect(dataDirContents(dataDir)).toEqual(before)
    expect(dry.err).toContain(`LOG_TAIL_TRUNCATED: ${segment} to be cut by the next writable open at offset ${seen?.offsetBytes}`)
    expect(dry.err).toContain(`${seen?.validFramesRemoved} CRC-valid frame(s) past a hole`)
  }, 60_000)
})
