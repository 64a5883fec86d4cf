import { afterAll, describe, expect, test } from 'bun:test'
import { readFileSync, writeFileSync } from 'node:fs'
import { SelfCheckThread, publicKeySource, verifyLogDirectory } from '../../src/audit/index.ts'
import { appendSealed, editPayloadByte, payloadRecord, rechainFrom, removeTempDirs, sealedWal, testKeys } from './support.ts'

afterAll(removeTempDirs)

/**
 * Records the self-check has not reached yet, rewritten on disk with their CRCs and the chain after them recomputed (as
 * anyone with write access can): nothing in the bytes says so until a seal signs a later head, and the records after
 * the last seal never get one. The check passed them; it now also requires the disk to re-derive to the head the
 * writer computed (in memory) at the durable end it checks to.
 */
describe('SelfCheckThread: the disk must re-derive to the writer’s head', () => {
  test('an unsealed tail rewritten with its chain recomputed is CHAIN_BREAK at the checked end; the finding sticks', async () => {
    const keys = await testKeys()
    const { wal } = await sealedWal(keys, 30)
    const check = new SelfCheckThread({ log: wal, keys: publicKeySource(keys.publicJwk) })
    try {
      expect(await check.check()).toBeNull()
      await wal.append([payloadRecord(31), payloadRecord(32), payloadRecord(33)])
      const edited = editPayloadByte(wal.dir, wal.lastLsn - 1)
      const bytes = readFileSync(edited.file)
      rechainFrom(bytes, edited.offset)
      writeFileSync(edited.file, bytes)
      // The offline verifier has nothing to hold it against either: the rewrite is after the last seal.
      expect((await verifyLogDirectory(wal.dir, { publicKey: keys.publicJwk })).ok).toBe(true)
      const finding = await check.check()
      expect(finding).toMatchObject({ code: 'CHAIN_BREAK', lsn: wal.lastLsn, file: edited.file })
      expect(finding?.detail).toContain("the writer's head")
      expect(await check.check()).toEqual(finding)
    } finally {
      check.stop()
      await wal.close()
    }
  })

  test('an untouched log agrees with the writer at every check, across seals and a lost thread', async () => {
    const keys = await testKeys()
    const { wal, sealer } = await sealedWal(keys, 30)
    const check = new SelfCheckThread({ log: wal, keys: publicKeySource(keys.publicJwk) })
    try {
      for (let round = 0; round < 5; round++) {
        await appendSealed(wal, sealer, 100 + round * 7, 106 + round * 7)
        expect(await check.check()).toBeNull()
        expect(check.verifiedThroughLsn).toBe(wal.lastLsn)
        if (round === 2) (check as unknown as { channel: { worker: Worker } }).channel.worker.terminate()
        if (round === 2) for (const startedMs = Date.now(); (check as unknown as { channel: { running: boolean } }).channel.running && Date.now() - startedMs < 5_000; ) await Bun.sleep(5)
      }
    } finally {
      check.stop()
      await wal.close()
    }
  })
})
