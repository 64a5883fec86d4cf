/**
 * A power cut while one append larger than a batch (batchBytesMax) is being made durable. The group commit writes such
 * an append as a batch of its own, never split (wal/lost-write.ts), so everything from its first frame to the end of
 * the segment is the one batch in flight, never acknowledged: a page of it lost, with written pages after it, is a
 * torn tail the open cuts, as it is for a smaller batch. It was refused (FRAME_CORRUPT) once the hole lay further than
 * batchBytesMax from the last valid frame, and the start needed `egress repair-tail` for a write nobody was told of.
 * The same hole in an append that was followed by another (so acknowledged before it) is still refused.
 */

import { afterAll, describe, expect, test } from 'bun:test'
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { defaultWalOptions, nodeIo, openReadOnly, Wal, WalCorruptionError, type WalIo } from '../../wal/index.ts'
import { removeTempDirs, tempDir } from './support.ts'

afterAll(removeTempDirs)

const PAGE_BYTES = 4096
/** 8 records of 800 KiB: 6.4 MiB, over the default batchBytesMax (4 MiB). */
const BIG_RECORDS = 8
const BIG_RECORD_BYTES = 800 * 1024
const SMALL_APPENDS = 5

function bigAppend(): { type: number; version: number; payload: Uint8Array }[] {
  return Array.from({ length: BIG_RECORDS }, (_, index) => ({ type: 7, version: 1, payload: new Uint8Array(BIG_RECORD_BYTES).fill(10 + index) }))
}

function small(lsn: number): { type: number; version: number; payload: Uint8Array } {
  return { type: 7, version: 1, payload: new TextEncoder().encode(`small ${lsn}`) }
}

interface Crash {
  logDir: string
  segmentName: string
  /** The last segment as the process left it, and where the big append starts in it. */
  bytes: Uint8Array
  bigStartBytes: number
  lastAckedLsn: number
}

/** Small appends acknowledged, then (with `acked`) the big one and one more small one, else the big one held at its sync. */
async function crashDuringBigAppend(acked: boolean): Promise<Crash> {
  const logDir = join(tempDir(), 'log')
  let hold: (() => void) | null = null
  const io: WalIo = {
    ...nodeIo,
    fdatasyncOffLoop: (fd, done) => {
      if (hold === null) return nodeIo.fdatasyncOffLoop(fd, done)
      hold() // the power goes before this sync comes back
    },
  }
  const wal = Wal.open(logDir, { io, durability: 'fsync', preallocateBytes: 0 })
  for (let lsn = 1; lsn <= SMALL_APPENDS; lsn++) await wal.append([small(lsn)])
  const segmentName = readdirSync(logDir).filter((name) => name.endsWith('.seg')).sort().at(-1) as string
  const bigStartBytes = readFileSync(join(logDir, segmentName)).byteLength
  let lastAckedLsn = SMALL_APPENDS
  if (acked) {
    lastAckedLsn = (await wal.append(bigAppend())).at(-1) as number
    lastAckedLsn = (await wal.append([small(lastAckedLsn + 1)])).at(-1) as number
  } else {
    const written = new Promise<void>((resolve) => {
      hold = resolve
    })
    wal.append(bigAppend()).catch(() => {})
    await written
  }
  const bytes = new Uint8Array(readFileSync(join(logDir, segmentName)))
  wal.abandonAsCrashed()
  return { logDir, segmentName, bytes, bigStartBytes, lastAckedLsn }
}

let images = 0
/** A copy of the crashed log whose last segment has the page at `pageStart` lost (zeros). */
function withLostPage(crash: Crash, pageStart: number): string {
  const dir = join(tempDir(), `image-${images++}`)
  mkdirSync(dir)
  for (const name of readdirSync(crash.logDir)) if (name.endsWith('.seg')) copyFileSync(join(crash.logDir, name), join(dir, name))
  const image = crash.bytes.slice()
  image.fill(0, pageStart, pageStart + PAGE_BYTES)
  writeFileSync(join(dir, crash.segmentName), image)
  return dir
}

/** Pages of the big append from its first whole page on, the last few dropped (those the window always reached). */
function pagesOfBigAppend(crash: Crash): number[] {
  const first = Math.ceil(crash.bigStartBytes / PAGE_BYTES) * PAGE_BYTES
  return [first, first + PAGE_BYTES, first + 100 * PAGE_BYTES, first + 500 * PAGE_BYTES, crash.bigStartBytes + defaultWalOptions.batchBytesMax - 2 * PAGE_BYTES].map((start) => Math.floor(start / PAGE_BYTES) * PAGE_BYTES)
}

describe('a power cut during the sync of one append larger than a batch', () => {
  test('a lost page anywhere in it (valid frames after the hole) is cut as a torn tail: the log opens at the last acknowledged LSN', async () => {
    const crash = await crashDuringBigAppend(false)
    expect(crash.bytes.byteLength - crash.bigStartBytes).toBeGreaterThan(defaultWalOptions.batchBytesMax)
    for (const pageStart of pagesOfBigAppend(crash)) {
      const dir = withLostPage(crash, pageStart)
      const readOnly = openReadOnly(dir)
      const wal = Wal.open(dir, { durability: 'fsync' })
      const torn = wal.recovery.tornTail
      expect({ pageStart, lastLsn: wal.lastLsn, truncated: torn?.truncated, validFramesRemoved: (torn?.validFramesRemoved ?? 0) > 0 }).toEqual({
        pageStart,
        lastLsn: crash.lastAckedLsn,
        truncated: true,
        validFramesRemoved: true,
      })
      expect(readOnly.lastLsn).toBe(crash.lastAckedLsn)
      // The cut is durable and the log goes on after it.
      expect(await wal.append([small(crash.lastAckedLsn + 1)])).toEqual([crash.lastAckedLsn + 1])
      expect([...wal.read(1, { verifyChain: true })].length).toBe(crash.lastAckedLsn + 1)
      await wal.close()
    }
  })

  test('the same lost page in a big append acknowledged before a later one is refused (damage, not a lost write)', async () => {
    const crash = await crashDuringBigAppend(true)
    for (const pageStart of pagesOfBigAppend(crash).slice(0, 3)) {
      const dir = withLostPage(crash, pageStart)
      expect(() => Wal.open(dir, { durability: 'fsync' })).toThrow(WalCorruptionError)
      expect(() => openReadOnly(dir)).toThrow(WalCorruptionError)
    }
  })
})
