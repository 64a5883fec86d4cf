/**
 * LogFixSessionStore.load scans the log back from its end for the venue's newest record. A venue with no record yet
 * (a first start, or one compacted past its records) scanned the whole log synchronously: the gateway's event loop
 * held for it. The scan yields between chunks. A snapshot taken before the load (the session waiting for its
 * schedule, or its load under way) carried fresh numbers (1/1): a compaction through it removed the venue's record and
 * a restart logged on with 1; its section now carries the log's newest numbers.
 */

import { expect, test } from 'bun:test'
import { encodeFixSeqNumsRecord, LogFixSessionStore, type FixLogFrame, type FixSeqNumLog } from '../../../src/venues/fix/log-session-store.ts'
import type { FixSeqNums } from '../../../src/venues/fix/store.ts'

const OTHER = { type: 0x0101, version: 1, payload: new Uint8Array([123, 125]) }

/** A log of `size` records of another kind (and those `placed`), generated as read; counts frames read between pauses. */
function bigLog(size: number, placed = new Map<number, FixLogFrame>()) {
  const meter = { read: 0, stretch: 0, longest: 0, pauses: 0 }
  const log: FixSeqNumLog = {
    append: () => Promise.reject(new Error('not in this spec')),
    *read(fromLsn, toLsn) {
      for (let lsn = fromLsn; lsn <= Math.min(toLsn, size); lsn++) {
        meter.read++
        meter.stretch++
        meter.longest = Math.max(meter.longest, meter.stretch)
        yield placed.get(lsn) ?? { ...OTHER, lsn }
      }
    },
    bounds: () => ({ firstLsn: 1, lastLsn: size }),
  }
  const pause = (): Promise<void> => {
    meter.stretch = 0
    meter.pauses++
    return new Promise((resolve) => setImmediate(resolve))
  }
  return { log, meter, pause }
}

const sectionOf = (bytes: Uint8Array): FixSeqNums & { venue: string } => JSON.parse(new TextDecoder().decode(bytes))

test('a venue with no record yet is looked for over the whole log a chunk at a time, yielding between chunks', async () => {
  const { log, meter, pause } = bigLog(300_000)
  const store = new LogFixSessionStore({ venue: 'broker-a', log, scanChunkRecords: 1_000, pause })
  expect(await store.load()).toEqual({ nextSenderSeqNum: 1, nextTargetSeqNum: 1 })
  expect(store.loadedFrom).toBe('fresh')
  expect(meter.read).toBe(300_000)
  expect(meter.longest).toBeLessThanOrEqual(1_000)
  expect(meter.pauses).toBeGreaterThanOrEqual(299)
})

test('the default pause yields to the event loop: a timer runs while a long load scans', async () => {
  const { log } = bigLog(200_000)
  const store = new LogFixSessionStore({ venue: 'broker-a', log, scanChunkRecords: 1_000 })
  let timerRan = false
  setTimeout(() => (timerRan = true), 0)
  const loading = store.load()
  let timerRanBeforeLoad = false
  await Promise.race([loading.then(() => (timerRanBeforeLoad = timerRan)), new Promise((resolve) => setTimeout(resolve, 5_000))])
  expect(timerRanBeforeLoad).toBe(true)
})

test('the newest record is found whatever chunk it is in, and a second load scans nothing again', async () => {
  const placed = new Map<number, FixLogFrame>([[10, { ...encodeFixSeqNumsRecord('broker-a', { nextSenderSeqNum: 41, nextTargetSeqNum: 17 }), lsn: 10 }]])
  const { log, meter, pause } = bigLog(50_000, placed)
  const store = new LogFixSessionStore({ venue: 'broker-a', log, scanChunkRecords: 500, pause })
  expect(await store.load()).toEqual({ nextSenderSeqNum: 41, nextTargetSeqNum: 17 })
  expect(store.loadedFrom).toBe('log')
  expect(meter.longest).toBeLessThanOrEqual(500)
  const read = meter.read
  expect(await store.load()).toEqual({ nextSenderSeqNum: 41, nextTargetSeqNum: 17 })
  expect(meter.read).toBe(read)
})

test('a snapshot taken before the load carries the log\'s newest numbers, not fresh ones', async () => {
  const placed = new Map<number, FixLogFrame>([[7, { ...encodeFixSeqNumsRecord('broker-a', { nextSenderSeqNum: 900, nextTargetSeqNum: 800 }), lsn: 7 }]])
  const { log, pause } = bigLog(5_000, placed)
  const store = new LogFixSessionStore({ venue: 'broker-a', log, scanChunkRecords: 1_000, pause })
  const captured = store.capture()
  const section = typeof captured === 'function' ? await captured(5_000, pause) : captured
  expect(sectionOf(section)).toEqual({ venue: 'broker-a', nextSenderSeqNum: 900, nextTargetSeqNum: 800 })
  // The session's load, later, is the same scan's answer.
  expect(await store.load()).toEqual({ nextSenderSeqNum: 900, nextTargetSeqNum: 800 })
})
