/**
 * `egress repair-tail --truncate-at-lsn N` rerun after a crash between its two writing steps: the quarantine file was
 * written (and renamed into place), the segment was not yet cut. The rerun used to refuse with QUARANTINE_EXISTS, the
 * operator having to move the file away and cut again. Now a quarantine file holding exactly the bytes the cut removes
 * lets the rerun finish the cut; one holding anything else is still refused and never overwritten.
 */

import { afterEach, describe, expect, test } from 'bun:test'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { frameBytesFor } from '../../wal/frame.ts'
import { nodeIo, openReadOnly, repairTail, Wal, WalCorruptionError, type WalIo } from '../../wal/index.ts'
import { cli } from './io.ts'

const PAGE_BYTES = 4096
const HEADER_BYTES = 64
const PAYLOAD = 'x'.repeat(150)
const FRAME_BYTES = frameBytesFor(PAYLOAD.length) // 206
// The zero page 20480..24576 falls in frame 100 through frame 119: the log keeps LSN 1..99 (see repair-tail.test.ts).
const LAST_GOOD_LSN = 99
const CUT_BYTES = HEADER_BYTES + (LAST_GOOD_LSN) * FRAME_BYTES

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

class SimulatedCrash extends Error {}

/**
 * A data dir whose one segment holds 21,000 frames with a zero page near its start: FRAME_CORRUPT, a hole to cut (over
 * 4 MiB of frames past it, more than one batch in flight can span: the open does not cut it itself, wal/lost-write.ts).
 */
async function dataDirWithHole(): Promise<{ dataDir: string; logDir: string; segment: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'egress-repair-rerun-'))
  dirs.push(dataDir)
  const logDir = join(dataDir, 'log')
  const wal = Wal.open(logDir, { durability: 'none', segmentBytesMax: 8 << 20 })
  for (let index = 0; index < 21_000; index += 1000) {
    // 1000 appends of one record each, one batch: the hole's cut then falls between appends (a frame's own).
    await Promise.all(Array.from({ length: 1000 }, () => wal.append([{ type: 7, version: 1, payload: new TextEncoder().encode(PAYLOAD) }])))
  }
  await wal.close()
  const segment = join(logDir, readdirSync(logDir).filter((name) => name.endsWith('.seg')).sort()[0] as string)
  const bytes = readFileSync(segment)
  bytes.fill(0, 5 * PAGE_BYTES, 6 * PAGE_BYTES)
  writeFileSync(segment, bytes)
  expect(() => Wal.open(logDir)).toThrow(WalCorruptionError)
  return { dataDir, logDir, segment }
}

/** Runs the cut with the process "dying" at the segment's truncate: the quarantine file is in place, nothing is cut. */
function crashBeforeTheCut(logDir: string, quarantineDir: string): void {
  const io: WalIo = { ...nodeIo, truncate: () => { throw new SimulatedCrash('the process died before the cut') } }
  expect(() => repairTail(logDir, { truncateAtLsn: LAST_GOOD_LSN + 1, quarantineDir, io })).toThrow(SimulatedCrash)
}

describe('egress repair-tail: a rerun after a crash between the quarantine write and the cut', () => {
  test('a quarantine file holding exactly the removed bytes: the rerun finishes the cut, the file kept as it was', async () => {
    const { dataDir, logDir, segment } = await dataDirWithHole()
    const removed = readFileSync(segment).subarray(CUT_BYTES)
    const quarantineDir = join(dataDir, 'quarantine')
    crashBeforeTheCut(logDir, quarantineDir)
    const quarantineFile = join(quarantineDir, `${basename(segment)}.${CUT_BYTES}.tail`)
    expect(Buffer.compare(readFileSync(quarantineFile), removed)).toBe(0)
    expect(readFileSync(segment).byteLength).toBe(CUT_BYTES + removed.byteLength) // not cut

    const dry = await cli(['repair-tail', dataDir, '--truncate-at-lsn', String(LAST_GOOD_LSN + 1), '--dry-run'])
    expect({ code: dry.code, err: dry.err }).toEqual({ code: 65, err: '' })
    expect(dry.out).toContain('already holds exactly the removed bytes')

    const rerun = await cli(['repair-tail', dataDir, '--truncate-at-lsn', String(LAST_GOOD_LSN + 1), '--json'])
    expect({ code: rerun.code, err: rerun.err }).toEqual({ code: 0, err: '' })
    const result = JSON.parse(rerun.out) as { repaired: boolean; quarantineFound: boolean; lastLsn: number; quarantineFile: string }
    expect({ repaired: result.repaired, quarantineFound: result.quarantineFound, lastLsn: result.lastLsn, quarantineFile: result.quarantineFile })
      .toEqual({ repaired: true, quarantineFound: true, lastLsn: LAST_GOOD_LSN, quarantineFile })
    expect(readFileSync(segment).byteLength).toBe(CUT_BYTES)
    expect(Buffer.compare(readFileSync(quarantineFile), removed)).toBe(0)
    expect(readdirSync(quarantineDir)).toEqual([basename(quarantineFile)])
    const log = openReadOnly(logDir, { verifyChain: true })
    expect(log.lastLsn).toBe(LAST_GOOD_LSN)
  })

  test('the rerun writes the quarantine copy afresh from the segment, durable before the cut, instead of trusting the found file', async () => {
    // The interrupted run may have stopped on a failed fsync: fsyncing its file again could succeed on pages that never
    // reached the disk. The rerun writes a new copy (temp, fsync, rename over, directory fsync) before it cuts.
    const { dataDir, logDir, segment } = await dataDirWithHole()
    const quarantineDir = join(dataDir, 'quarantine')
    crashBeforeTheCut(logDir, quarantineDir)
    const quarantineFile = join(quarantineDir, `${basename(segment)}.${CUT_BYTES}.tail`)
    const removed = readFileSync(quarantineFile)
    const steps: string[] = []
    const io: WalIo = {
      ...nodeIo,
      openAppend: (path) => {
        steps.push(`open ${basename(path)}`)
        return nodeIo.openAppend(path)
      },
      fsync: (fd) => {
        steps.push('fsync')
        nodeIo.fsync(fd)
      },
      rename: (from, to) => {
        steps.push(`rename ${basename(from)} ${basename(to)}`)
        nodeIo.rename(from, to)
      },
      truncate: (fd, lengthBytes) => {
        steps.push('cut')
        nodeIo.truncate(fd, lengthBytes)
      },
    }
    const result = repairTail(logDir, { truncateAtLsn: LAST_GOOD_LSN + 1, quarantineDir, io })
    expect(result.quarantineFound).toBe(true)
    const name = basename(quarantineFile)
    expect(steps.slice(0, steps.indexOf('cut'))).toEqual([`open ${name}.tmp`, 'fsync', `rename ${name}.tmp ${name}`, `open ${basename(segment)}`])
    expect(Buffer.compare(readFileSync(quarantineFile), removed)).toBe(0)
    expect(readdirSync(quarantineDir)).toEqual([name])
    expect(readFileSync(segment).byteLength).toBe(CUT_BYTES)
  })

  test('a quarantine file that differs (one byte, or a prefix) is still refused: QUARANTINE_EXISTS, nothing cut or overwritten', async () => {
    const { dataDir, logDir, segment } = await dataDirWithHole()
    const quarantineDir = join(dataDir, 'quarantine')
    crashBeforeTheCut(logDir, quarantineDir)
    const quarantineFile = join(quarantineDir, `${basename(segment)}.${CUT_BYTES}.tail`)
    const removed = readFileSync(quarantineFile)
    const segmentBefore = readFileSync(segment)
    const flipped = Buffer.from(removed)
    flipped[flipped.byteLength - 1] = (flipped[flipped.byteLength - 1] as number) ^ 0x01
    for (const other of [flipped, removed.subarray(0, removed.byteLength - 1)]) {
      writeFileSync(quarantineFile, other)
      for (const extra of [['--dry-run'], []]) {
        const run = await cli(['repair-tail', dataDir, '--truncate-at-lsn', String(LAST_GOOD_LSN + 1), ...extra])
        expect(run.code).toBe(1)
        expect(run.err).toContain('QUARANTINE_EXISTS')
      }
      expect(Buffer.compare(readFileSync(quarantineFile), other)).toBe(0)
      expect(Buffer.compare(readFileSync(segment), segmentBefore)).toBe(0)
    }
  })
})
