/**
 * An anchor written from a seal names the seal's own record (`sealRecordLsn`, the record after the sealed LSN). That
 * record must be there and be that seal, at start (the clean shutdown's line: anchor-at-start.ts) and in verify
 * (AnchorChecker.observeRecord, beyondEnd). Checked by the sealed head alone, the shutdown seal record could be cut off
 * (verify said CLEAN) or replaced by any record chained on, with no key (the start and verify found nothing): review
 * of s52.
 */

import { afterEach, expect, test } from 'bun:test'
import { mkdirSync, truncateSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { checkAnchorsAtStart } from '../../src/audit/anchor-at-start.ts'
import { exportAnchor, verifyLogDirectory } from '../../src/audit/index.ts'
import { Wal } from '../../wal/index.ts'
import { allRawFrames, removeTempDirs, sealedLog, tempDir, testKeys } from './support.ts'

afterEach(removeTempDirs)

/** A sealed log whose last record is a seal, its clean shutdown's anchor line, and the log with that seal record cut. */
async function shutdownAnchored(): Promise<{ log: string; anchorsPath: string; anchor: Awaited<ReturnType<typeof exportAnchor>>; keys: Awaited<ReturnType<typeof testKeys>> }> {
  const keys = await testKeys()
  const data = tempDir('anchor-seal-record-')
  const log = join(data, 'log')
  mkdirSync(log, { recursive: true })
  await sealedLog(log, keys, { records: 50, sealEvery: 10 })
  const anchor = await exportAnchor(log, { publicKey: keys.publicJwk })
  mkdirSync(join(data, 'audit'), { recursive: true })
  const anchorsPath = join(data, 'audit', 'anchors.jsonl')
  writeFileSync(anchorsPath, `${JSON.stringify({ ...anchor, at: 'shutdown', ha: false, durability: 'fsync' })}\n`)
  const last = allRawFrames(log).at(-1)
  if (last === undefined) throw new Error('expected frames')
  expect(anchor.sealRecordLsn).toBe(anchor.lsn + 1)
  truncateSync(last.file, last.offset)
  return { log, anchorsPath, anchor, keys }
}

test('the anchored seal record cut off: verify finds the log ends before the anchor (it said CLEAN)', async () => {
  const { log, anchor, keys } = await shutdownAnchored()
  const report = await verifyLogDirectory(log, { publicKey: keys.publicJwk, anchors: [anchor] })
  expect(report.lastLsn).toBe(anchor.lsn)
  expect(report.problems.map((problem) => [problem.code, problem.lsn])).toEqual([['ANCHOR_BEYOND_END', anchor.sealRecordLsn]])
})

test('the shutdown seal record replaced by another record chained on: the start and verify both find it', async () => {
  const { log, anchorsPath, anchor, keys } = await shutdownAnchored()
  const wal = Wal.open(log, { durability: 'none', preallocateBytes: 0 })
  await wal.append([{ type: 7, version: 1, payload: new TextEncoder().encode('{"forged":"a fill"}') }])
  expect(wal.lastLsn).toBe(anchor.sealRecordLsn)
  expect(checkAnchorsAtStart(anchorsPath, wal).finding).toMatchObject({ code: 'ANCHOR_MISMATCH', lsn: anchor.sealRecordLsn })
  await wal.close()
  const report = await verifyLogDirectory(log, { publicKey: keys.publicJwk, anchors: [anchor] })
  expect(report.problems.map((problem) => [problem.code, problem.lsn])).toContainEqual(['ANCHOR_MISMATCH', anchor.sealRecordLsn])
})
