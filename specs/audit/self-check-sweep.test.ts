import { afterAll, describe, expect, test } from 'bun:test'
import { readFileSync, writeFileSync } from 'node:fs'
import { SelfCheckThread, publicKeySource } from '../../src/audit/index.ts'
import { appendSealed, editPayloadByte, frameAt, payloadRecord, rechainFrom, removeTempDirs, sealedWal, testKeys } from './support.ts'

afterAll(removeTempDirs)

/**
 * Bytes edited after the tail check passed them: it never reads them again, so the running gateway used to notice
 * nothing (only `egress audit verify`, the verify route or a start from genesis would). The sweep re-reads what the
 * tail check passed, a stretch per check.
 */
describe('SelfCheckThread: the sweep re-reads what the tail check passed', () => {
  test('an old record edited (CRC fixed up) is CHAIN_BREAK at its LSN, file and offset at a later check', async () => {
    const keys = await testKeys()
    const { wal, sealer } = await sealedWal(keys, 60)
    const check = new SelfCheckThread({ log: wal, keys: publicKeySource(keys.publicJwk) })
    try {
      expect(await check.check()).toBeNull()
      expect(check.verifiedThroughLsn).toBe(wal.lastLsn)
      const edited = editPayloadByte(wal.dir, 12)
      await appendSealed(wal, sealer, 61, 64)
      const finding = await check.check()
      expect(finding).toMatchObject({ code: 'CHAIN_BREAK', lsn: 12, file: edited.file, offsetBytes: edited.offset })
      expect(await check.check()).toEqual(finding)
    } finally {
      check.stop()
      await wal.close()
    }
  })

  test('an old record rewritten with the whole chain after it recomputed is caught by the seal after it', async () => {
    const keys = await testKeys()
    const { wal } = await sealedWal(keys, 60)
    const check = new SelfCheckThread({ log: wal, keys: publicKeySource(keys.publicJwk) })
    try {
      expect(await check.check()).toBeNull()
      const edited = editPayloadByte(wal.dir, 12)
      const bytes = readFileSync(edited.file)
      rechainFrom(bytes, edited.offset)
      writeFileSync(edited.file, bytes)
      // Nothing appended since: the tail check has nothing to read, the sweep does.
      const finding = await check.check()
      expect(finding).toMatchObject({ code: 'SEAL_HEAD_MISMATCH', file: edited.file })
      expect(finding?.lsn).toBeGreaterThan(12)
    } finally {
      check.stop()
      await wal.close()
    }
  })

  test('an untouched log: passes finish and begin again, also across compaction and a lost thread', async () => {
    const keys = await testKeys()
    const { wal, sealer } = await sealedWal(keys, 120, 4 * 1024)
    const check = new SelfCheckThread({ log: wal, keys: publicKeySource(keys.publicJwk) })
    try {
      expect(await check.check()).toBeNull()
      expect(check.sweepPasses).toBe(0) // not at the first check: the gateway's start waits for it
      expect(await check.check()).toBeNull()
      expect(check.sweepPasses).toBe(1)
      expect(wal.removeSegmentsBelow(check.verifiedThroughLsn + 1).length).toBeGreaterThan(1)
      await appendSealed(wal, sealer, 121, 130)
      expect(await check.check()).toBeNull()
      ;(check as unknown as { channel: { worker: Worker } }).channel.worker.terminate()
      const channel = (check as unknown as { channel: { running: boolean } }).channel
      for (const deadline = Date.now() + 5_000; channel.running && Date.now() < deadline; ) await Bun.sleep(5)
      await wal.append([payloadRecord(131)])
      expect(await check.check()).toBeNull()
      expect(await check.check()).toBeNull()
      expect(check.sweepPasses).toBeGreaterThanOrEqual(3)
      expect(frameAt(wal.dir, wal.lastLsn).lsn).toBe(wal.lastLsn)
    } finally {
      check.stop()
      await wal.close()
    }
  })

  test('a pass takes several checks; compaction under a pass under way begins a new one, no finding', async () => {
    const keys = await testKeys()
    const { wal, sealer } = await sealedWal(keys, 150, 4 * 1024)
    const check = new SelfCheckThread({ log: wal, keys: publicKeySource(keys.publicJwk), sweepRecordsPerCheck: 20 })
    try {
      expect(await check.check()).toBeNull()
      expect(await check.check()).toBeNull()
      expect(check.sweepPasses).toBe(0)
      expect(await check.check()).toBeNull() // the pass is at LSN 40 of ~165
      expect(wal.removeSegmentsBelow(check.verifiedThroughLsn + 1).length).toBeGreaterThan(1)
      await appendSealed(wal, sealer, 151, 160)
      for (let round = 0; round < 12; round++) expect(await check.check()).toBeNull()
      expect(check.sweepPasses).toBeGreaterThanOrEqual(1)
      // And an edit far behind the tail is still found by a later pass.
      const edited = editPayloadByte(wal.dir, wal.firstLsn + 3)
      let finding = null
      for (let round = 0; round < 12 && finding === null; round++) finding = await check.check()
      expect(finding).toMatchObject({ code: 'CHAIN_BREAK', lsn: wal.firstLsn + 3, file: edited.file, offsetBytes: edited.offset })
    } finally {
      check.stop()
      await wal.close()
    }
  })
})
