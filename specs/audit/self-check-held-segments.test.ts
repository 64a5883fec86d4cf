import { afterAll, describe, expect, test } from 'bun:test'
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs'
import { SelfCheckThread, publicKeySource } from '../../src/audit/index.ts'
import { appendSealed, removeTempDirs, sealedWal, testKeys } from './support.ts'

afterAll(removeTempDirs)

/**
 * A segment file deleted under the running gateway. The thread used to take any missing file for a race with
 * compaction ("removed before the self-check read it; not a finding") and every later check failed the same way, so
 * deleting a segment never reached HALT/CANCEL_ONLY; a deleted segment the check had already passed was never noticed.
 */
describe('SelfCheckThread: the segment files the log holds', () => {
  test('an unverified sealed segment deleted is SEGMENT_MISSING at its file and first LSN, and the finding sticks', async () => {
    const keys = await testKeys()
    const { wal, sealer } = await sealedWal(keys, 30, 4 * 1024)
    const check = new SelfCheckThread({ log: wal, keys: publicKeySource(keys.publicJwk) })
    try {
      expect(await check.check()).toBeNull()
      await appendSealed(wal, sealer, 31, 200)
      const victim = wal.segments.at(-2)
      if (victim === undefined || victim.firstLsn <= check.verifiedThroughLsn) throw new Error('the spec needs an unverified sealed segment')
      unlinkSync(victim.path)
      const finding = await check.check()
      expect(finding).toMatchObject({ code: 'SEGMENT_MISSING', file: victim.path, lsn: victim.firstLsn, offsetBytes: 0 })
      await appendSealed(wal, sealer, 201, 205)
      expect(await check.check()).toEqual(finding)
    } finally {
      check.stop()
      await wal.close()
    }
  })

  test('the active segment deleted is found too', async () => {
    const keys = await testKeys()
    const { wal, sealer } = await sealedWal(keys, 30, 4 * 1024)
    const check = new SelfCheckThread({ log: wal, keys: publicKeySource(keys.publicJwk) })
    try {
      expect(await check.check()).toBeNull()
      await appendSealed(wal, sealer, 31, 200)
      const active = wal.segments.at(-1)
      unlinkSync(active?.path as string)
      expect(await check.check()).toMatchObject({ code: 'SEGMENT_MISSING', file: active?.path, lsn: active?.firstLsn })
    } finally {
      check.stop()
      await wal.close().catch(() => undefined)
    }
  })

  test('a segment the check verified long ago, deleted later, is found even with nothing appended since', async () => {
    const keys = await testKeys()
    const { wal } = await sealedWal(keys, 200, 4 * 1024)
    const check = new SelfCheckThread({ log: wal, keys: publicKeySource(keys.publicJwk) })
    try {
      expect(await check.check()).toBeNull()
      expect(check.verifiedThroughLsn).toBe(wal.lastLsn)
      const victim = wal.segments[1]
      unlinkSync(victim?.path as string)
      expect(await check.check()).toMatchObject({ code: 'SEGMENT_MISSING', file: victim?.path, lsn: victim?.firstLsn })
    } finally {
      check.stop()
      await wal.close()
    }
  })

  test('a header edited on disk (chain base changed, CRC fixed up) is SEGMENT_HEADER_CORRUPT at that segment', async () => {
    const keys = await testKeys()
    const { wal } = await sealedWal(keys, 200, 4 * 1024)
    const check = new SelfCheckThread({ log: wal, keys: publicKeySource(keys.publicJwk) })
    try {
      expect(await check.check()).toBeNull()
      const victim = wal.segments[2]
      const bytes = readFileSync(victim?.path as string)
      bytes[30] = (bytes[30] as number) ^ 0x01 // inside the chain hash before the segment (header bytes 24..56)
      bytes.writeUInt32LE(Bun.hash.crc32(bytes.subarray(16, 64)), 12)
      writeFileSync(victim?.path as string, bytes)
      expect(await check.check()).toMatchObject({ code: 'SEGMENT_HEADER_CORRUPT', file: victim?.path, lsn: victim?.firstLsn, offsetBytes: 0 })
    } finally {
      check.stop()
      await wal.close()
    }
  })

  test("the log's own compaction (segments below the verified point) is no finding; checks go on", async () => {
    const keys = await testKeys()
    const { wal, sealer } = await sealedWal(keys, 200, 4 * 1024)
    const check = new SelfCheckThread({ log: wal, keys: publicKeySource(keys.publicJwk) })
    try {
      expect(await check.check()).toBeNull()
      const removed = wal.removeSegmentsBelow(check.verifiedThroughLsn + 1)
      expect(removed.length).toBeGreaterThan(1)
      await appendSealed(wal, sealer, 201, 260)
      expect(await check.check()).toBeNull()
      expect(check.verifiedThroughLsn).toBe(wal.lastLsn)
    } finally {
      check.stop()
      await wal.close()
    }
  })
})
