/**
 * The forensics bundle's seals (seals.json) are read from the log near the problem, not from the whole log: audit's
 * independent scan re-derives the chain with the reference hash on the event loop of a gateway that has just gone to
 * CANCEL_ONLY or HALT, and over a long log it held the loop for the whole scan (1.1 s per 200,000 records), cancels,
 * /health and the lease renewal waiting (review). The segments up to the problem's, within a byte bound, the loop let
 * run between segments.
 */

import { afterAll, expect, test } from 'bun:test'
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { writeForensicsBundle } from '../../src/audit/index.ts'
import { removeTempDirs, sealedWal, tempDir, testKeys } from './support.ts'

afterAll(removeTempDirs)

test('a finding late in a long log: seals.json holds the seals of the segments up to the problem\'s, within the bound, and the event loop runs meanwhile', async () => {
  const keys = await testKeys()
  const { wal } = await sealedWal(keys, 400, 4096)
  const segments = wal.segments.map((segment) => ({ path: segment.path, firstLsn: segment.firstLsn, lastLsn: segment.lastLsn }))
  expect(segments.length).toBeGreaterThan(8)
  const problemSegment = segments.at(-2) as (typeof segments)[number]
  const lsn = problemSegment.lastLsn
  await wal.close()
  const bytesOf = (index: number): number => statSync(segments[index]?.path as string).size
  const problemIndex = segments.length - 2
  // The problem's segment and the two before it fit the bound; the third before does not.
  const sealsScanBytes = bytesOf(problemIndex) + bytesOf(problemIndex - 1) + bytesOf(problemIndex - 2) + 1
  const windowFirstLsn = segments[problemIndex - 2]?.firstLsn as number

  let ticks = 0
  let ticking = true
  const tick = (): void => {
    ticks++
    if (ticking) setImmediate(tick)
  }
  setImmediate(tick)
  const bundle = await writeForensicsBundle({
    logDir: wal.dir, problem: { code: 'SEAL_SIGNATURE_INVALID', lsn, file: problemSegment.path, offsetBytes: 64 },
    outDir: tempDir('egress-forensics-'), configDigest: 'ab'.repeat(32), nowMs: 0, sealsScanBytes,
  })
  const ticksDuring = ticks
  ticking = false
  // The loop ran between the segments read (it did not before: the whole scan was one stretch).
  expect(ticksDuring).toBeGreaterThan(0)

  const seals = JSON.parse(readFileSync(join(bundle.dir, 'seals.json'), 'utf8')) as { recordLsn: number }[]
  const recordLsns = seals.map((seal) => seal.recordLsn)
  expect(recordLsns.length).toBeGreaterThan(0)
  // Only the window's seals: none before it (the whole log's were listed), none past the problem's segment.
  expect(recordLsns.every((recordLsn) => recordLsn >= windowFirstLsn && recordLsn <= problemSegment.lastLsn)).toBe(true)
  expect(recordLsns.includes(11)).toBe(false)
  expect(readdirSync(bundle.dir)).toContain('seals.json')
})
