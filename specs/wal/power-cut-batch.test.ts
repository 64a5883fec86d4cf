/**
 * A power cut while a batch is being made durable (wal/lost-write.ts): the group commit writes a batch, fdatasyncs
 * it, and only then acknowledges it; at most one batch is ever written and not yet synced. A power cut then leaves
 * the acknowledged bytes as they were and of the batch in flight any subset of its pages or sectors (the page cache
 * writes them back in any order; a page not written reads as zeros, preallocated or past the end). The log must open
 * on its own from every such disk, lose nothing acknowledged and invent nothing; and still refuse a log whose
 * acknowledged frames are damaged.
 *
 * The batch in flight is caught with its write done and its fdatasync held (never completing), the process then
 * "dies" (abandonAsCrashed), and the disks a power cut could leave are built from the segment's bytes before and after
 * that write.
 */

import { afterAll, describe, expect, test } from 'bun:test'
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { nodeIo, openReadOnly, Wal, WalCorruptionError, type WalIo } from '../../wal/index.ts'
import { prng, removeTempDirs, tempDir, text } from './support.ts'

afterAll(removeTempDirs)

const PAGE_BYTES = 4096
const SECTOR_BYTES = 512
const ACKED_BATCHES = 6
const RECORDS_PER_BATCH = 25

/** The payload of LSN `lsn`: its LSN, padded to a seeded length so frames straddle pages and sectors at odd offsets. */
function payloadOf(lsn: number): string {
  const random = prng(lsn * 7919)
  return `lsn-${lsn}:`.padEnd(60 + Math.floor(random() * 300), String.fromCharCode(97 + (lsn % 26)))
}

function recordsFrom(firstLsn: number, count: number): { type: number; version: number; payload: Uint8Array }[] {
  return Array.from({ length: count }, (_, index) => ({ type: 7, version: 1, payload: new TextEncoder().encode(payloadOf(firstLsn + index)) }))
}

interface Crash {
  /** The log directory as the process left it (its other files are copied into every image). */
  logDir: string
  segment: string
  /** The segment before the batch in flight was written (all of it acknowledged) and after. */
  before: Uint8Array
  after: Uint8Array
  lastAckedLsn: number
  lastWrittenLsn: number
}

/** Acknowledged batches, then one more written with its fdatasync held: the moment a power cut is modelled at. */
async function crashMidBatch(preallocateBytes: number): Promise<Crash> {
  const logDir = join(tempDir(), 'log')
  let hold: (() => void) | null = null
  const io: WalIo = {
    ...nodeIo,
    fdatasyncOffLoop: (fd, done) => {
      if (hold === null) return nodeIo.fdatasyncOffLoop(fd, done)
      // The batch's sync never comes back: the power goes first.
      hold()
    },
  }
  const wal = Wal.open(logDir, { io, durability: 'fsync', preallocateBytes })
  let lsn = 1
  for (let batch = 0; batch < ACKED_BATCHES; batch++) {
    await wal.append(recordsFrom(lsn, RECORDS_PER_BATCH))
    lsn += RECORDS_PER_BATCH
  }
  const segment = join(logDir, readdirSync(logDir).filter((name) => name.endsWith('.seg')).sort().at(-1) as string)
  const before = new Uint8Array(readFileSync(segment))
  const written = new Promise<void>((resolve) => {
    hold = resolve
  })
  const inFlight = wal.append(recordsFrom(lsn, RECORDS_PER_BATCH))
  inFlight.catch(() => {})
  await written
  const after = new Uint8Array(readFileSync(segment))
  wal.abandonAsCrashed()
  return { logDir, segment, before, after, lastAckedLsn: lsn - 1, lastWrittenLsn: lsn + RECORDS_PER_BATCH - 1 }
}

/** The units (pages or sectors) of the segment the batch in flight changed. */
function dirtyUnits(crash: Crash, unitBytes: number): number[] {
  const units: number[] = []
  for (let start = 0; start < crash.after.byteLength; start += unitBytes) {
    const end = Math.min(start + unitBytes, crash.after.byteLength)
    for (let at = start; at < end; at++) {
      if (crash.after[at] !== (crash.before[at] ?? 0)) {
        units.push(start)
        break
      }
    }
  }
  return units
}

/** The segment a power cut leaves: the bytes before the write, with the units `kept` as written, the rest zero. */
function imageOf(crash: Crash, unitBytes: number, kept: readonly number[], sizeBytes: number): Uint8Array {
  const image = new Uint8Array(sizeBytes)
  image.set(crash.before.subarray(0, Math.min(sizeBytes, crash.before.byteLength)))
  for (const start of kept) {
    if (start < sizeBytes) image.set(crash.after.subarray(start, Math.min(start + unitBytes, sizeBytes)), start)
  }
  return image
}

let images = 0
/** A copy of the crashed log directory whose last segment holds `bytes`. */
function logWith(crash: Crash, bytes: Uint8Array): string {
  const dir = join(tempDir(), `image-${images++}`)
  mkdirSync(dir)
  for (const name of readdirSync(crash.logDir)) {
    if (name.endsWith('.seg')) copyFileSync(join(crash.logDir, name), join(dir, name))
  }
  writeFileSync(join(dir, crash.segment.split('/').at(-1) as string), bytes)
  return dir
}

/** Opens `dir` as the next start would; null and the refusal when it refuses. */
function openAfterCut(dir: string): { wal: Wal | null; refusal: WalCorruptionError | null } {
  try {
    return { wal: Wal.open(dir, { durability: 'fsync' }), refusal: null }
  } catch (error) {
    if (error instanceof WalCorruptionError) return { wal: null, refusal: error }
    throw error
  }
}

/** Nothing acknowledged is lost, nothing unacknowledged is invented: LSN n holds the payload appended as LSN n. */
async function expectFaithful(wal: Wal, crash: Crash, label: string): Promise<void> {
  expect({ label, atLeastAcked: wal.lastLsn >= crash.lastAckedLsn, atMostWritten: wal.lastLsn <= crash.lastWrittenLsn }).toEqual({ label, atLeastAcked: true, atMostWritten: true })
  let expected = 1
  for (const frame of wal.read(1, { verifyChain: true })) {
    if (text(frame.payload) !== payloadOf(frame.lsn) || frame.lsn !== expected) throw new Error(`${label}: LSN ${frame.lsn} reads back wrong`)
    expected++
  }
  expect(expected - 1).toBe(wal.lastLsn)
  // The cut is durable and the log takes appends after it.
  const next = wal.lastLsn + 1
  await wal.append(recordsFrom(next, 1))
  await wal.close()
}

function subsetsOf<T>(items: readonly T[], pick: number, random: () => number): T[][] {
  if (items.length <= 10) return Array.from({ length: 1 << items.length }, (_, mask) => items.filter((_, index) => (mask & (1 << index)) !== 0))
  return Array.from({ length: pick }, () => items.filter(() => random() < 0.5))
}

describe('a power cut during a batch fdatasync', () => {
  for (const preallocateBytes of [0, 64 * 1024]) {
    test(`every subset of the batch's pages and sectors reaching the disk opens, keeping exactly a prefix of what was appended (preallocate ${preallocateBytes})`, async () => {
      const crash = await crashMidBatch(preallocateBytes)
      const random = prng(20261123 + preallocateBytes)
      const sizes = [...new Set([crash.before.byteLength, crash.after.byteLength])]
      let holes = 0
      for (const unitBytes of [PAGE_BYTES, SECTOR_BYTES]) {
        const units = dirtyUnits(crash, unitBytes)
        expect(units.length).toBeGreaterThan(2)
        for (const kept of subsetsOf(units, 60, random)) {
          for (const sizeBytes of sizes) {
            const label = `${unitBytes}-byte units kept [${kept.join(', ')}] of [${units.join(', ')}], ${sizeBytes} bytes`
            const { wal, refusal } = openAfterCut(logWith(crash, imageOf(crash, unitBytes, kept, sizeBytes)))
            if (wal === null) throw new Error(`${label}: refused: ${refusal?.message}`)
            if (wal.recovery.tornTail !== null && wal.recovery.tornTail.validFramesRemoved > 0) holes++
            await expectFaithful(wal, crash, label)
          }
        }
      }
      // Holes (a lost unit with written ones after it) were among them, not only plain torn tails.
      expect(holes).toBeGreaterThan(20)
    })
  }

  test('a hole is reported: the first LSN dropped, the bytes, the valid frames past it; a read-only open reports the same without cutting', async () => {
    const crash = await crashMidBatch(0)
    const units = dirtyUnits(crash, PAGE_BYTES)
    const image = imageOf(crash, PAGE_BYTES, units.slice(1), crash.after.byteLength)
    const dir = logWith(crash, image)
    const readOnly = openReadOnly(dir)
    expect(readFileSync(join(dir, crash.segment.split('/').at(-1) as string)).byteLength).toBe(image.byteLength)
    const wal = Wal.open(dir)
    const torn = wal.recovery.tornTail
    expect(torn).not.toBeNull()
    expect(torn?.truncated).toBe(true)
    expect(torn?.lsn).toBe(wal.lastLsn + 1)
    expect(torn?.removedBytes).toBe(image.byteLength - (torn?.offsetBytes ?? 0))
    expect(torn?.validFramesRemoved).toBeGreaterThan(0)
    expect(wal.lastLsn).toBeGreaterThanOrEqual(crash.lastAckedLsn)
    expect({ ...readOnly.report.tornTail, truncated: true }).toEqual(torn as NonNullable<typeof torn>)
    expect(readOnly.lastLsn).toBe(wal.lastLsn)
    await wal.close()
  })
})

describe('damage a power cut does not explain is still refused', () => {
  /** Frame starts in `bytes` from the header on (every frame whole). */
  function frameStarts(bytes: Uint8Array, endBytes: number): number[] {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    const starts: number[] = []
    for (let at = 64; at < endBytes; at += view.getUint32(at, true) + 8) starts.push(at)
    return starts
  }

  /** Where the acknowledged frames end in the segment (the batch in flight starts there). */
  function ackedEnd(crash: Crash): number {
    let at = 0
    while (at < crash.after.byteLength && crash.after[at] === crash.before[at]) at++
    return frameStarts(crash.after, crash.after.byteLength).filter((start) => start <= at).at(-1) as number
  }

  test('a flipped byte in an acknowledged frame of the last batch, with the batch in flight whole or torn after it', async () => {
    const crash = await crashMidBatch(0)
    const end = ackedEnd(crash)
    const acked = frameStarts(crash.after, end)
    const units = dirtyUnits(crash, PAGE_BYTES)
    for (const kept of [units, units.slice(1), units.slice(0, -1), []]) {
      for (const victim of acked.slice(-RECORDS_PER_BATCH)) {
        // The last frame with nothing valid after it is a torn tail by DESIGN §3, acknowledged or not (not this rule).
        if (victim === acked.at(-1) && kept.length === 0) continue
        for (const delta of [0, 9, 60]) {
          const image = imageOf(crash, PAGE_BYTES, kept, crash.after.byteLength)
          image[victim + delta] = (image[victim + delta] as number) ^ 0x10
          const { wal, refusal } = openAfterCut(logWith(crash, image))
          if (wal !== null) {
            await wal.close()
            throw new Error(`opened with acknowledged frame at ${victim} damaged (+${delta}), units kept [${kept.join(', ')}]`)
          }
          expect(refusal?.code).toBe('FRAME_CORRUPT')
        }
      }
    }
  })

  test('an acknowledged frame zeroed exactly (not a lost sector), and a flipped byte in the batch in flight with written frames after it', async () => {
    const crash = await crashMidBatch(0)
    const end = ackedEnd(crash)
    const starts = frameStarts(crash.after, crash.after.byteLength)
    const acked = starts.filter((start) => start < end)
    const inFlight = starts.filter((start) => start >= end)
    let checked = 0
    for (const victim of acked.slice(-RECORDS_PER_BATCH)) {
      const next = starts[starts.indexOf(victim) + 1] as number
      // Only a frame inside one sector, not ending at its end: its zeros hold no whole sector and reach no sector's end,
      // which a lost write always does (a frame spanning sectors zeroed whole is what a lost write can look like).
      if (Math.floor(victim / SECTOR_BYTES) !== Math.floor(next / SECTOR_BYTES)) continue
      const image = crash.after.slice()
      image.fill(0, victim, next)
      const { wal, refusal } = openAfterCut(logWith(crash, image))
      if (wal !== null) {
        await wal.close()
        throw new Error(`opened with the acknowledged frame at ${victim}..${next} zeroed`)
      }
      expect(refusal?.code).toBe('FRAME_CORRUPT')
      checked++
    }
    for (const victim of inFlight.slice(0, -1)) {
      const image = crash.after.slice()
      image[victim + 70] = (image[victim + 70] as number) ^ 0x01
      expect(openAfterCut(logWith(crash, image)).refusal?.code).toBe('FRAME_CORRUPT')
      checked++
    }
    expect(checked).toBeGreaterThan(RECORDS_PER_BATCH + 5)
  })

  test('a lost page further from the end than one batch can reach is refused', async () => {
    const logDir = join(tempDir(), 'log')
    const wal = Wal.open(logDir, { durability: 'none', preallocateBytes: 0 })
    let lsn = 1
    // 5 MiB of frames after the hole: more than batchBytesMax (4 MiB), so not one batch in flight.
    for (let batch = 0; batch < 40; batch++) {
      await wal.append(Array.from({ length: 4 }, () => ({ type: 7, version: 1, payload: new Uint8Array(32 * 1024).fill(1 + (lsn++ % 200)) })))
    }
    await wal.close()
    const segment = join(logDir, readdirSync(logDir).filter((name) => name.endsWith('.seg')).sort().at(-1) as string)
    const bytes = readFileSync(segment)
    bytes.fill(0, 2 * PAGE_BYTES, 3 * PAGE_BYTES)
    writeFileSync(segment, bytes)
    expect(() => Wal.open(logDir)).toThrow(WalCorruptionError)
  })
})
