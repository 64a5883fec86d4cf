/**
 * A compacted log's chain base (the first segment header's previous hash) against a seal that signs that LSN. The
 * self-check seeds its head history with the base (self-check.ts), so such a seal is checked against it; the offline
 * verify did not: it counted the seal head-unchecked, and a base forged with every hash after it recomputed verified
 * CLEAN whenever that seal was the only one left in the log.
 */

import { afterAll, expect, test } from 'bun:test'
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { verifyLogDirectory } from '../../src/audit/index.ts'
import { Sealer } from '../../src/audit/index.ts'
import { chainHashReference, Wal } from '../../wal/index.ts'
import { payloadRecord, rawFrames, removeTempDirs, segmentFiles, tempDir, testKeys } from './support.ts'

afterAll(removeTempDirs)

const SEGMENT_BYTES_MAX = 4096

/**
 * A log whose segment N starts with a seal record signing LSN (its first − 1), followed by records only; the segments
 * before it removed, as a compaction to that LSN leaves the log. Returns its directory and the seal's LSN.
 */
async function compactedAtSeal(keys: Awaited<ReturnType<typeof testKeys>>): Promise<{ dir: string; sealRecordLsn: number }> {
  const dir = tempDir('egress-audit-base-')
  const wal = Wal.open(dir, { durability: 'none', preallocateBytes: 0, segmentBytesMax: SEGMENT_BYTES_MAX })
  const sealer = new Sealer({ signer: keys.signer, everyRecords: 1_000_000, everyMs: 1e9 })
  await wal.append([payloadRecord(1)])
  // One seal first, to learn a seal frame's size; its segment is compacted away below.
  await sealer.sealNow(wal, 1)
  const sealFrame = rawFrames(segmentFiles(dir)[0] as string).at(-1)
  const sealBytes = (sealFrame?.end ?? 0) - (sealFrame?.offset ?? 0)
  const lastSize = (): number => statSync(segmentFiles(dir).at(-1) as string).size
  for (let index = 2; SEGMENT_BYTES_MAX - lastSize() >= sealBytes + 8; index++) await wal.append([payloadRecord(index)])
  // No room for the seal: it is the next segment's first frame, signing the LSN before it.
  const { recordLsn } = await sealer.sealNow(wal, 2)
  for (let index = 0; index < 5; index++) await wal.append([payloadRecord(1_000 + index)])
  await wal.close()
  const files = segmentFiles(dir)
  const sealSegment = files.findIndex((file) => rawFrames(file)[0]?.lsn === recordLsn)
  expect(sealSegment).toBeGreaterThan(0)
  for (const file of files.slice(0, sealSegment)) rmSync(file)
  return { dir, sealRecordLsn: recordLsn }
}

/** The first segment's header chains from another base; every hash and CRC after it recomputed (no key needed). */
function forgeBase(dir: string): void {
  let head: Uint8Array = new Uint8Array(32).fill(0x5a)
  for (const file of segmentFiles(dir)) {
    const bytes = readFileSync(file)
    bytes.set(head, 24)
    bytes.writeUInt32LE(Bun.hash.crc32(bytes.subarray(16, 64)), 12)
    for (const frame of rawFrames(file)) {
      head = chainHashReference(head, bytes.subarray(frame.offset + 40, frame.end))
      bytes.set(head, frame.offset + 8)
      bytes.writeUInt32LE(Bun.hash.crc32(bytes.subarray(frame.offset + 8, frame.end)), frame.offset + 4)
    }
    writeFileSync(file, bytes)
  }
}

test('a seal signing a compacted log\'s base LSN is checked against the base; a forged base is SEAL_HEAD_MISMATCH', async () => {
  const keys = await testKeys()
  const { dir, sealRecordLsn } = await compactedAtSeal(keys)
  const clean = await verifyLogDirectory(dir, { publicKey: keys.publicJwk })
  expect(clean.firstLsn).toBe(sealRecordLsn)
  expect(clean.problems).toEqual([])
  expect(clean.seals).toMatchObject({ checked: 1, headUnchecked: 0 })

  forgeBase(dir)
  const forged = await verifyLogDirectory(dir, { publicKey: keys.publicJwk })
  expect(forged.problems.map((problem) => [problem.code, problem.lsn])).toEqual([['SEAL_HEAD_MISMATCH', sealRecordLsn]])
})
