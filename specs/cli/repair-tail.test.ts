/**
 * `egress repair-tail`: a log whose last segment holds a zero-filled page followed by CRC-valid frames (what a power
 * loss can leave of writes never synced) is refused by the open (FRAME_CORRUPT), on purpose. The command diagnoses
 * it read-only, and cuts it only when told the exact LSN, under the locks, the removed bytes kept in a quarantine file.
 * Every log here is written by the Wal class (or a real gateway), then damaged the way a lost page write damages it.
 */

import { afterEach, describe, expect, test } from 'bun:test'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join, relative } from 'node:path'
import { interruptedSwapsIn, lockDataDir } from '../../src/runtime/ha/index.ts'
import { frameBytesFor } from '../../wal/frame.ts'
import { LogDirLock, openReadOnly, Wal, WalCorruptionError } from '../../wal/index.ts'
import { startWorld, worldsStoppedAfterEach } from '../runtime/harness.ts'
import { trade } from '../runtime/snapshot/support.ts'
import { cli } from './io.ts'

const PAGE_BYTES = 4096
const HEADER_BYTES = 64
const PAYLOAD = 'x'.repeat(150)
const FRAME_BYTES = frameBytesFor(PAYLOAD.length) // 206
// Over 4 MiB of frames past the hole: more than one batch (batchBytesMax) can span, so the open does not cut it on its
// own as a lost write of the batch in flight (wal/lost-write.ts); it is refused, and repair-tail's to cut.
const RECORDS = 21_000
const HOLE_AT_BYTES = 5 * PAGE_BYTES // a page-aligned page in the middle of the segment

const dirs: string[] = []
const worlds = worldsStoppedAfterEach()
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

/** Frame k (1-based) of a segment of PAYLOAD-sized frames starts here. */
const frameStart = (k: number): number => HEADER_BYTES + (k - 1) * FRAME_BYTES

function segmentsOf(logDir: string): string[] {
  return readdirSync(logDir).filter((name) => name.endsWith('.seg')).sort().map((name) => join(logDir, name))
}

function zeroPage(path: string, atBytes: number): void {
  const bytes = readFileSync(path)
  bytes.fill(0, atBytes, atBytes + PAGE_BYTES)
  writeFileSync(path, bytes)
}

/** A data dir whose log holds RECORDS frames of PAYLOAD, written by Wal and closed. */
async function dataDirWithLog(options: { segmentBytesMax?: number } = {}): Promise<{ dataDir: string; logDir: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'egress-repair-'))
  dirs.push(dataDir)
  const logDir = join(dataDir, 'log')
  const wal = Wal.open(logDir, { durability: 'none', segmentBytesMax: options.segmentBytesMax ?? 8 << 20 })
  for (let index = 0; index < RECORDS; index += 1000) {
    // 1000 appends of one record each, one batch: the hole's cut then falls between appends (a frame's own).
    await Promise.all(Array.from({ length: 1000 }, () => wal.append([{ type: 7, version: 1, payload: new TextEncoder().encode(PAYLOAD) }])))
  }
  await wal.close()
  return { dataDir, logDir }
}

/** dataDirWithLog, then a zero page in segment `segmentIndex` (default: the last), with valid frames after it. */
async function dataDirWithHole(options: { segmentBytesMax?: number; segmentIndex?: number } = {}): Promise<{ dataDir: string; logDir: string; segment: string }> {
  const { dataDir, logDir } = await dataDirWithLog(options)
  const segments = segmentsOf(logDir)
  const segment = segments.at(options.segmentIndex ?? -1) as string
  zeroPage(segment, options.segmentIndex === undefined ? HOLE_AT_BYTES : PAGE_BYTES)
  expect(() => Wal.open(logDir)).toThrow(WalCorruptionError)
  return { dataDir, logDir, segment }
}

/** Every file under `dir` with its bytes: what "changed nothing" is compared on. */
function contentsOf(dir: string): Record<string, string> {
  const files: Record<string, string> = {}
  const walk = (at: string): void => {
    for (const name of readdirSync(at).sort()) {
      const path = join(at, name)
      if (statSync(path).isDirectory()) walk(path)
      else files[relative(dir, path)] = readFileSync(path).toString('base64')
    }
  }
  walk(dir)
  return files
}

/** contentsOf without the lock files, whose content (holder, time) a command that takes a lock rewrites. */
function withoutLocks(files: Record<string, string>): Record<string, string> {
  const { 'log/LOCK': _log, DATA_DIR_LOCK: _dataDir, ...rest } = files
  return rest
}

// With 206-byte frames, the zero page 20480..24576 falls in frame 100 (20458..20664) through frame 119
// (24372..24578): the log keeps LSN 1..99, frames 120..RECORDS are valid past the hole, 100..119 lay in it.
const LAST_GOOD_LSN = 99
const CUT_BYTES = frameStart(100)
const DAMAGED_END_BYTES = frameStart(120)

describe('egress repair-tail: diagnosis', () => {
  test('reports the file, the cut, the last good LSN, the hole and the valid frames past it, exit 65, changing nothing', async () => {
    const { dataDir, segment } = await dataDirWithHole()
    const before = contentsOf(dataDir)
    const json = await cli(['repair-tail', dataDir, '--json'])
    expect(json.code).toBe(65)
    const report = JSON.parse(json.out) as { kind: string; hole: Record<string, unknown> }
    expect(report.kind).toBe('hole')
    expect(report.hole).toMatchObject({
      file: segment,
      segmentBytes: frameStart(RECORDS + 1),
      cutOffsetBytes: CUT_BYTES,
      lastGoodLsn: LAST_GOOD_LSN,
      damagedEndBytes: DAMAGED_END_BYTES,
      beyond: { frameCount: RECORDS - 119, firstLsn: 120, lastLsn: RECORDS },
      discardedBytes: frameStart(RECORDS + 1) - CUT_BYTES,
    })
    expect(report.hole.zeroFromBytes as number).toBeLessThanOrEqual(HOLE_AT_BYTES)
    expect(report.hole.zeroToBytes as number).toBeGreaterThanOrEqual(HOLE_AT_BYTES + PAGE_BYTES)
    expect(report.hole.refusal).toContain('FRAME_CORRUPT')
    const text = await cli(['repair-tail', dataDir])
    expect(text.code).toBe(65)
    expect(text.out).toContain(`last good   LSN ${LAST_GOOD_LSN}, ending at offset ${CUT_BYTES}`)
    expect(text.out).toContain(`beyond      ${RECORDS - 119} CRC-valid frame(s), LSN 120..${RECORDS}; LSN 100..119 lay in the hole`)
    expect(text.out).toContain('may have been acknowledged')
    expect(text.out).toContain(`--truncate-at-lsn ${LAST_GOOD_LSN + 1}`)
    expect(contentsOf(dataDir)).toEqual(before)
  })

  test('a log that opens is reported as such, exit 0', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'egress-repair-'))
    dirs.push(dataDir)
    const wal = Wal.open(join(dataDir, 'log'), { durability: 'none' })
    await wal.append([{ type: 7, version: 1, payload: new Uint8Array(10) }])
    await wal.close()
    const run = await cli(['repair-tail', dataDir])
    expect(run).toMatchObject({ code: 0, err: '' })
    expect(run.out).toContain('opens: LSN 1..1, chain verified')
    expect(run.out).toContain('nothing to repair')
    // Told to cut anyway (a cut run again, a script, a tail the gateway's open already cut): nothing to do is done,
    // exit 0, and it says that nothing was changed; a dry run alike.
    const before = contentsOf(dataDir)
    for (const extra of [[], ['--dry-run']]) {
      const cut = await cli(['repair-tail', dataDir, '--truncate-at-lsn', '2', ...extra])
      expect({ extra, code: cut.code, err: cut.err }).toEqual({ extra, code: 0, err: '' })
      expect(cut.out).toContain('NOTHING_TO_REPAIR: the log')
      expect(cut.out).toContain('nothing was changed')
      const json = JSON.parse((await cli(['repair-tail', dataDir, '--truncate-at-lsn', '2', '--json', ...extra])).out) as Record<string, unknown>
      expect(json).toMatchObject({ kind: 'opens', repaired: false, nothingToRepair: true, lastLsn: 1 })
    }
    expect(withoutLocks(contentsOf(dataDir))).toEqual(withoutLocks(before))
  })

  test('--dry-run with the right LSN says what it would do and changes nothing (byte for byte), exit 65', async () => {
    const { dataDir, segment } = await dataDirWithHole()
    const before = contentsOf(dataDir)
    const run = await cli(['repair-tail', dataDir, '--truncate-at-lsn', String(LAST_GOOD_LSN + 1), '--dry-run'])
    expect(run.code).toBe(65)
    expect(run.out).toContain(`would copy the removed bytes to ${join(dataDir, 'quarantine', `${segment.split('/').pop()}.${CUT_BYTES}.tail`)}`)
    expect(contentsOf(dataDir)).toEqual(before)
    expect(existsSync(join(dataDir, 'quarantine'))).toBe(false)
  })
})

describe('egress repair-tail: refusals change nothing', () => {
  test('an LSN other than the last good LSN + 1 is refused (LSN_MISMATCH), dry run or not', async () => {
    const { dataDir } = await dataDirWithHole()
    const before = contentsOf(dataDir)
    for (const lsn of [LAST_GOOD_LSN, LAST_GOOD_LSN + 2, 120]) {
      for (const extra of [[], ['--dry-run']]) {
        const run = await cli(['repair-tail', dataDir, '--truncate-at-lsn', String(lsn), ...extra])
        expect({ lsn, extra, code: run.code }).toEqual({ lsn, extra, code: 1 })
        expect(run.err).toContain(`LSN_MISMATCH: --truncate-at-lsn ${lsn} is not where the hole is`)
        expect(run.err).toContain(`--truncate-at-lsn ${LAST_GOOD_LSN + 1}`)
      }
    }
    expect(withoutLocks(contentsOf(dataDir))).toEqual(withoutLocks(before))
    expect(existsSync(join(dataDir, 'quarantine'))).toBe(false)
  })

  test('a hole in a sealed (not last) segment is refused (NOT_IN_LAST_SEGMENT): it needs a human', async () => {
    const { dataDir, logDir } = await dataDirWithHole({ segmentBytesMax: 16 * 1024, segmentIndex: 0 })
    expect(segmentsOf(logDir).length).toBeGreaterThan(1)
    const before = contentsOf(dataDir)
    const diagnosis = await cli(['repair-tail', dataDir])
    expect(diagnosis.code).toBe(1)
    expect(diagnosis.err).toContain('NOT_IN_LAST_SEGMENT')
    // LSN 1..19 fit whole before the page at 4096 (frame 20 starts at 3978): what a cut there would have needed.
    const cut = await cli(['repair-tail', dataDir, '--truncate-at-lsn', '20'])
    expect(cut.code).toBe(1)
    expect(cut.err).toContain('NOT_IN_LAST_SEGMENT')
    expect(withoutLocks(contentsOf(dataDir))).toEqual(withoutLocks(before))
  })

  test('a bit flip followed by valid frames (no zero page) and a damaged segment header are refused: not a lost write', async () => {
    const { dataDir, logDir } = await dataDirWithLog()
    const [path] = segmentsOf(logDir) as [string]
    const frames = readFileSync(path)
    frames[frameStart(20) + 70] = (frames[frameStart(20) + 70] as number) ^ 0x01
    writeFileSync(path, frames)
    expect(() => Wal.open(logDir)).toThrow('FRAME_CORRUPT')
    const before = contentsOf(dataDir)
    const flip = await cli(['repair-tail', dataDir, '--truncate-at-lsn', '20'])
    expect(flip.code).toBe(1)
    expect(flip.err).toContain('NO_ZERO_PAGE')
    expect(withoutLocks(contentsOf(dataDir))).toEqual(withoutLocks(before))
    // A damaged header is not a tail at all.
    const { dataDir: other, segment } = await dataDirWithHole()
    const header = readFileSync(segment)
    header[20] = (header[20] as number) ^ 0xff
    writeFileSync(segment, header)
    const run = await cli(['repair-tail', other])
    expect(run.code).toBe(1)
    expect(run.err).toContain('NOT_A_TORN_TAIL: SEGMENT_HEADER_CORRUPT')
  })

  test('refused while the log or the data dir is held (LOG_LOCKED): a gateway or a node owns it', async () => {
    const { dataDir, logDir } = await dataDirWithHole()
    const argv = ['repair-tail', dataDir, '--truncate-at-lsn', String(LAST_GOOD_LSN + 1)]
    for (const hold of [() => LogDirLock.acquire(logDir), () => lockDataDir(dataDir, { create: false })]) {
      const lock = hold()
      const before = contentsOf(dataDir)
      try {
        const run = await cli(argv)
        expect(run.code).toBe(1)
        expect(run.err).toContain('is open in another process')
        expect(withoutLocks(contentsOf(dataDir))).toEqual(withoutLocks(before))
      } finally {
        lock.release()
      }
    }
    expect(existsSync(join(dataDir, 'quarantine'))).toBe(false)
  })

  test('a snapshot beyond the cut refuses it (SNAPSHOT_BEYOND_CUT): those frames were durable', async () => {
    const { dataDir } = await dataDirWithHole()
    mkdirSync(join(dataDir, 'snapshots'))
    writeFileSync(join(dataDir, 'snapshots', `snapshot-${String(150).padStart(20, '0')}.snap`), 'x')
    const diagnosis = await cli(['repair-tail', dataDir])
    expect(diagnosis.code).toBe(65)
    expect(diagnosis.out).toContain('a cut would be refused')
    const run = await cli(['repair-tail', dataDir, '--truncate-at-lsn', String(LAST_GOOD_LSN + 1)])
    expect(run.code).toBe(1)
    expect(run.err).toContain('SNAPSHOT_BEYOND_CUT')
    expect(existsSync(join(dataDir, 'quarantine'))).toBe(false)
  })

  test('bad arguments are usage errors (exit 2) and no failure prints a stack trace', async () => {
    const { dataDir } = await dataDirWithHole()
    for (const argv of [
      ['repair-tail', dataDir, '--truncate-at-lsn', 'abc'],
      ['repair-tail', dataDir, '--truncate-at-lsn', '0'],
      ['repair-tail', dataDir, '--truncate-at-lsn', '-5'],
      ['repair-tail', dataDir, '--truncate-at-lsn', '1.5'],
      ['repair-tail', dataDir, '--truncate-at-lsn'],
      ['repair-tail', dataDir, 'extra'],
      ['repair-tail', dataDir, '--bogus'],
    ]) {
      const run = await cli(argv)
      expect({ argv, code: run.code }).toEqual({ argv, code: 2 })
      expect(run.err.split('\n')).toHaveLength(1)
      expect(run.err).not.toContain('    at ')
    }
    const missing = await cli(['repair-tail', join(dataDir, 'nope'), '--truncate-at-lsn', '100'])
    expect(missing.code).toBe(1)
    expect(missing.err).toContain('does not exist: not a data directory')
    expect(missing.err).not.toContain('    at ')
  })
})

describe('egress repair-tail: a dry run refuses what the cut would refuse', () => {
  // A dry run with N says what the cut would do: it used to print "would copy ... and verify" and exit 65 where the
  // cut itself is refused (exit 1), a snapshot beyond the cut or a quarantine file already there.
  test('a snapshot beyond the cut: SNAPSHOT_BEYOND_CUT, exit 1, as the cut', async () => {
    const { dataDir } = await dataDirWithHole()
    mkdirSync(join(dataDir, 'snapshots'))
    writeFileSync(join(dataDir, 'snapshots', `snapshot-${String(150).padStart(20, '0')}.snap`), 'x')
    const before = contentsOf(dataDir)
    const argv = ['repair-tail', dataDir, '--truncate-at-lsn', String(LAST_GOOD_LSN + 1)]
    const dry = await cli([...argv, '--dry-run'])
    const cut = await cli(argv)
    expect({ dry: dry.code, cut: cut.code }).toEqual({ dry: 1, cut: 1 })
    expect(dry.err).toContain('SNAPSHOT_BEYOND_CUT')
    expect(dry.out).not.toContain('would copy')
    expect(withoutLocks(contentsOf(dataDir))).toEqual(withoutLocks(before))
  })

  test('a quarantine file already there: QUARANTINE_EXISTS, exit 1, as the cut', async () => {
    const { dataDir, segment } = await dataDirWithHole()
    mkdirSync(join(dataDir, 'quarantine'))
    writeFileSync(join(dataDir, 'quarantine', `${segment.split('/').pop()}.${CUT_BYTES}.tail`), 'earlier')
    const dry = await cli(['repair-tail', dataDir, '--truncate-at-lsn', String(LAST_GOOD_LSN + 1), '--dry-run'])
    expect(dry.code).toBe(1)
    expect(dry.err).toContain('QUARANTINE_EXISTS')
  })

})

describe('egress repair-tail: a data dir left mid-swap', () => {
  // A committed swap whose log/ was moved aside: it was reported as "no log in DIR/log: not a data directory", which
  // sends the operator the wrong way; the command's help and the README promise INTERRUPTED_SWAP and what to run.
  test('with log/ moved aside, refused with INTERRUPTED_SWAP (diagnosis and cut), nothing changed', async () => {
    const { dataDir } = await dataDirWithHole()
    renameSync(join(dataDir, 'log'), join(dataDir, 'log.old'))
    writeFileSync(join(dataDir, 'snapshot-recovery.commit'), '')
    expect(interruptedSwapsIn(dataDir)).toEqual(['snapshot_recovery'])
    const before = contentsOf(dataDir)
    for (const extra of [[], ['--truncate-at-lsn', String(LAST_GOOD_LSN + 1)]]) {
      const run = await cli(['repair-tail', dataDir, ...extra])
      expect({ extra, code: run.code }).toEqual({ extra, code: 1 })
      expect(run.err).toContain('INTERRUPTED_SWAP')
    }
    expect(withoutLocks(contentsOf(dataDir))).toEqual(withoutLocks(before))
  })
})

describe('a hole in the last batch on a gateway\'s data dir (a power cut during its fdatasync)', () => {
  test('the gateway starts on its own without it (LOG_TAIL_TRUNCATED), replay-verify passes, repair-tail has nothing to do', async () => {
    const world = await startWorld({ seed: 4301, snapshots: { atShutdown: false } })
    worlds.push(world)
    await trade(world, { orders: 40, tag: 'repair', seed: 4301 })
    await world.gateway.stop()
    const logDir = join(world.dir, 'log')
    const segment = segmentsOf(logDir).at(-1) as string
    const original = readFileSync(segment)
    // A page near the end lost, the pages after it written: frames past it are CRC-valid (wal/lost-write.ts).
    const holeAt = (Math.floor(original.byteLength / PAGE_BYTES) - 2) * PAGE_BYTES
    const lastLsnBefore = openReadOnly(logDir).lastLsn
    zeroPage(segment, holeAt)

    const verify = await cli(['replay-verify', world.dir])
    expect({ code: verify.code, problems: verify.out.split('\n').filter((line) => line.includes('PROBLEM')) }).toEqual({ code: 0, problems: [] })
    expect(verify.out).toMatch(/torn tail .* CRC-valid frame\(s\) past a hole/)
    const diagnosis = await cli(['repair-tail', world.dir])
    expect({ code: diagnosis.code, err: diagnosis.err }).toEqual({ code: 0, err: '' })
    expect(diagnosis.out).toMatch(/opens: .*past a hole with it .*nothing to repair/)
    const damaged = readFileSync(segment)
    expect(damaged.byteLength).toBe(original.byteLength) // read-only so far

    const lines: string[] = []
    const restarted = await startWorld({ seed: 4301, dir: world.dir, clock: world.clock, venue: world.venue, snapshots: { atShutdown: false }, log: (line) => lines.push(line) })
    worlds.push(restarted)
    const torn = restarted.gateway.engine.wal.recovery.tornTail
    if (torn === null) throw new Error('the open cut nothing')
    expect(torn.lsn).toBeLessThan(lastLsnBefore)
    expect(torn.validFramesRemoved).toBeGreaterThan(0)
    expect(torn.offsetBytes).toBeLessThanOrEqual(holeAt)
    expect(lines.filter((line) => line.startsWith('LOG_TAIL_TRUNCATED'))).toEqual([
      `LOG_TAIL_TRUNCATED: ${segment} cut at offset ${torn.offsetBytes}: LSN ${torn.lsn} on, ${original.byteLength - torn.offsetBytes} bytes (${torn.reason}; ${torn.validFramesRemoved} CRC-valid frame(s) past a hole went with it, a power cut's lost write of the batch in flight); never acknowledged (its batch's fdatasync never came back), the log ends at LSN ${torn.lsn - 1}; the removed bytes are kept in ${join(world.dir, 'quarantine', `${basename(segment)}.${torn.offsetBytes}.tail`)}`,
    ])
    // Kept byte for byte beside the log (quarantine/), not destroyed.
    expect(Buffer.compare(readFileSync(join(world.dir, 'quarantine', `${basename(segment)}.${torn.offsetBytes}.tail`)), damaged.subarray(torn.offsetBytes))).toBe(0)
    await restarted.gateway.stop()
    expect(Buffer.compare(readFileSync(segment).subarray(0, torn.offsetBytes), original.subarray(0, torn.offsetBytes))).toBe(0)
    const after = await cli(['replay-verify', world.dir])
    expect({ code: after.code, torn: after.out.includes('torn tail') }).toEqual({ code: 0, torn: false })
  }, 60_000)
})

describe('a hole in the last batch, met by an offline compaction', () => {
  test('egress compact opens the log as a start does: it cuts the hole and says so on stderr (LOG_TAIL_TRUNCATED)', async () => {
    const { dataDir } = await dataDirWithLog()
    const segment = segmentsOf(join(dataDir, 'log')).at(-1) as string
    const size = readFileSync(segment).byteLength
    zeroPage(segment, (Math.floor(size / PAGE_BYTES) - 3) * PAGE_BYTES)
    const run = await cli(['compact', dataDir])
    expect(run.code).toBe(0)
    expect(run.err).toMatch(/^LOG_TAIL_TRUNCATED: .* cut at offset \d+: LSN \d+ on, \d+ bytes \(.*CRC-valid frame\(s\) past a hole went with it/m)
    expect(readFileSync(segment).byteLength).toBeLessThan(size)
  })
})

describe('egress repair-tail: the cut', () => {
  test('a quarantine file already there is never overwritten (QUARANTINE_EXISTS), and nothing is cut', async () => {
    const { dataDir, segment } = await dataDirWithHole()
    const name = `${segment.split('/').pop()}.${CUT_BYTES}.tail`
    mkdirSync(join(dataDir, 'quarantine'))
    writeFileSync(join(dataDir, 'quarantine', name), 'earlier')
    const before = contentsOf(dataDir)
    const run = await cli(['repair-tail', dataDir, '--truncate-at-lsn', String(LAST_GOOD_LSN + 1)])
    expect(run.code).toBe(1)
    expect(run.err).toContain('QUARANTINE_EXISTS')
    expect(withoutLocks(contentsOf(dataDir))).toEqual(withoutLocks(before))
  })
})
