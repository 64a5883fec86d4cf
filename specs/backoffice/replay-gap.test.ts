/**
 * Review finding 5: the log reader clamps its start to the log's first LSN and ends quietly at a removed segment, so
 * a replay ledger folding across a range a compaction removed skipped it without a word (a false ledger_vs_replay
 * break). The replay ledger now notices: nothing past the hole is folded, and it stops so the caller starts over.
 */

import { afterEach, expect, test } from 'bun:test'
import { ReplayLedger } from '../../src/backoffice/replay-ledger.ts'
import { Wal, openSlice } from '../../wal/index.ts'
import { removeTempDirs, tempDir } from '../wal/support.ts'

const wals: Wal[] = []
afterEach(async () => {
  for (const wal of wals.splice(0)) await wal.close()
  removeTempDirs()
})

/** 100 one-record batches (not domain events: the fold only moves the LSN) over segments of a few records each. */
async function smallSegmentLog(): Promise<Wal> {
  const wal = Wal.open(tempDir(), { durability: 'none', segmentBytesMax: 4096, preallocateBytes: 0, scheduleFlush: queueMicrotask })
  wals.push(wal)
  for (let i = 0; i < 100; i++) await wal.append([{ type: 0xa001, version: 1, payload: new TextEncoder().encode('x'.repeat(200)) }])
  return wal
}

test('foldTo across a range compacted away reports a gap and folds nothing past it', async () => {
  const wal = await smallSegmentLog()
  const replay = new ReplayLedger()
  replay.start('genesis')
  expect(replay.foldTo(wal, 10)).toBe('done')
  expect(replay.foldedLsn).toBe(10)
  wal.removeSegmentsBelow(60)
  expect(wal.firstLsn).toBeGreaterThan(11)
  expect(replay.foldTo(wal, 100)).toBe('gap')
  expect(replay.foldedLsn).toBe(10)
  expect(replay.started).toBe(false)
  expect(replay.continuesIn(wal)).toBe(false)
})

test('a slice whose segments a compaction removed before they were read ends in a gap, not a skip', async () => {
  const wal = await smallSegmentLog()
  const replay = new ReplayLedger()
  replay.start('genesis')
  const slice = wal.slice(1, 100) // named while every segment was there, read after (as the replay worker may)
  wal.removeSegmentsBelow(80)
  expect(replay.foldTo(openSlice(slice), 100)).toBe('gap')
  expect(replay.foldedLsn).toBeLessThan(wal.firstLsn - 1)
  expect(replay.started).toBe(false)
})

test('foldTo on a log already compacted past the fold reports a gap without reading', async () => {
  const wal = await smallSegmentLog()
  const replay = new ReplayLedger()
  replay.start('genesis')
  wal.removeSegmentsBelow(60)
  expect(replay.foldTo(wal, 100)).toBe('gap')
  expect(replay.foldedLsn).toBe(0)
})

test('restarted from a base the log continues, it folds to the end', async () => {
  const wal = await smallSegmentLog()
  const replay = new ReplayLedger()
  replay.start('genesis')
  wal.removeSegmentsBelow(60)
  expect(replay.foldTo(wal, 100)).toBe('gap')
  const base = wal.firstLsn - 1
  replay.start({ ledger: freshLedger(), lsn: base })
  expect(replay.foldTo(wal, 100)).toBe('done')
  expect(replay.foldedLsn).toBe(100)
})

function freshLedger() {
  const genesis = new ReplayLedger()
  genesis.start('genesis')
  return genesis.ledger
}
