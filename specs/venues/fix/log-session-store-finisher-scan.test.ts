/**
 * The snapshot finisher of a LogFixSessionStore with a save under way looks for that save's record at or below the
 * snapshot's LSN. It scanned from the store's last durable record — LSN 0 when none was saved since the start (numbers
 * fresh or from a snapshot) — to the snapshot's LSN, synchronously: the whole log, the gateway's event loop held for
 * it. The record can only come after the log's end when the save began, so the scan starts there, and it yields to
 * the event loop (the finisher's `pause`) between chunks.
 */

import { expect, test } from 'bun:test'
import { encodeFixSeqNumsRecord, LogFixSessionStore, type FixLogFrame, type FixSeqNumLog } from '../../../src/venues/fix/log-session-store.ts'
import type { FixSeqNums } from '../../../src/venues/fix/store.ts'

const OTHER = { type: 0x0101, version: 1, payload: new Uint8Array([123, 125]) }

/**
 * A log of `size` records of another kind, generated as read, whose appends wait for `commit`; counts the frames read
 * between two pauses (what one stretch of the event loop holds).
 */
function bigLog(size: number) {
  const placed = new Map<number, FixLogFrame>()
  const appends: { lsn: number; resolve: () => void }[] = []
  const meter = { lastLsn: size, read: 0, stretch: 0, longest: 0 }
  const log: FixSeqNumLog = {
    append: (records) => {
      const lsn = meter.lastLsn + appends.length + 1
      const [record] = records
      if (record !== undefined) placed.set(lsn, { ...record, lsn })
      return new Promise<number[]>((resolve) => appends.push({ lsn, resolve: () => resolve([lsn]) }))
    },
    *read(fromLsn, toLsn) {
      for (let lsn = fromLsn; lsn <= Math.min(toLsn, meter.lastLsn); lsn++) {
        meter.read++
        meter.stretch++
        meter.longest = Math.max(meter.longest, meter.stretch)
        yield placed.get(lsn) ?? { ...OTHER, lsn }
      }
    },
    bounds: () => ({ firstLsn: 1, lastLsn: meter.lastLsn }),
  }
  const pause = (): Promise<void> => {
    meter.stretch = 0
    return Promise.resolve()
  }
  /** The log is durable through `lsn`; the appends at or below it are not settled yet (their promises wait). */
  const durableThrough = (lsn: number): void => {
    meter.lastLsn = Math.max(meter.lastLsn, lsn)
  }
  return { log, meter, pause, durableThrough, appends, placed }
}

const sectionOf = (bytes: Uint8Array): FixSeqNums & { venue: string } => JSON.parse(new TextDecoder().decode(bytes))

test('with no save since the start, a save under way is looked for after the log\'s end at its start, not over the whole log', async () => {
  const { log, meter, pause, durableThrough } = bigLog(300_000)
  const store = new LogFixSessionStore({ venue: 'broker-a', log, scanChunkRecords: 1_000 })
  expect(await store.load()).toEqual({ nextSenderSeqNum: 1, nextTargetSeqNum: 1 })
  expect(store.loadedFrom).toBe('fresh')
  void store.save({ nextSenderSeqNum: 2, nextTargetSeqNum: 1 }) // its record: LSN 300,001, not durable at the snapshot
  const finish = store.capture()
  expect(typeof finish).toBe('function')
  durableThrough(300_000) // the snapshot's LSN
  meter.read = 0
  meter.longest = 0
  const section = await (finish as (lsn: number, pause: () => Promise<void>) => Promise<Uint8Array>)(300_000, pause)
  expect(sectionOf(section)).toEqual({ venue: 'broker-a', nextSenderSeqNum: 1, nextTargetSeqNum: 1 })
  expect(meter.read).toBe(0)
})

test('the record of a save under way, durable at the snapshot\'s LSN but its promise unsettled, is found; the scan yields between chunks', async () => {
  const { log, meter, pause, durableThrough, appends } = bigLog(1_000)
  const store = new LogFixSessionStore({ venue: 'broker-a', log, scanChunkRecords: 100 })
  await store.load()
  // Many records of other kinds are appended (durable) after the save began, before the snapshot's LSN.
  void store.save({ nextSenderSeqNum: 2, nextTargetSeqNum: 1 })
  expect(appends[0]?.lsn).toBe(1_001)
  const finish = store.capture() as (lsn: number, pause: () => Promise<void>) => Promise<Uint8Array>
  durableThrough(5_000)
  meter.read = 0
  meter.longest = 0
  const section = await finish(5_000, pause)
  expect(sectionOf(section)).toEqual({ venue: 'broker-a', nextSenderSeqNum: 2, nextTargetSeqNum: 1 })
  expect(meter.longest).toBeLessThanOrEqual(100)
  // Nothing before the save's start was read.
  expect(meter.read).toBeLessThanOrEqual(4_000)
})

test('a snapshot section still carries the durable numbers when nothing is under way', async () => {
  const { log } = bigLog(10)
  const store = new LogFixSessionStore({ venue: 'broker-a', log })
  await store.load()
  const captured = store.capture()
  expect(captured instanceof Uint8Array && sectionOf(captured)).toEqual({ venue: 'broker-a', nextSenderSeqNum: 1, nextTargetSeqNum: 1 })
  expect(encodeFixSeqNumsRecord('broker-a', { nextSenderSeqNum: 1, nextTargetSeqNum: 1 }).payload).toEqual(captured as Uint8Array)
})
