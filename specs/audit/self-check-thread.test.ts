import { afterAll, describe, expect, test } from 'bun:test'
import { SelfCheckThread, publicKeySource, sealRecord, signSeal } from '../../src/audit/index.ts'
import { toHex } from '../../wal/index.ts'
import type { Wal } from '../../wal/index.ts'
import { appendSealed, editPayloadByte, expectEditFoundAndKept, expectForgedSealFound, removeTempDirs, sealedWal, segmentFiles, testKeys } from './support.ts'

afterAll(removeTempDirs)

describe('SelfCheckThread', () => {
  test('re-derives the log through its durable head in a thread of its own; later checks read only what was appended', async () => {
    const keys = await testKeys()
    const { wal, sealer } = await sealedWal(keys, 35)
    const check = new SelfCheckThread({ log: wal, keys: publicKeySource(keys.publicJwk) })
    // The event loop never reads the log for it.
    const read = wal.read.bind(wal)
    let readsOnLoop = 0
    wal.read = (...args: Parameters<Wal['read']>) => {
      readsOnLoop++
      return read(...args)
    }
    try {
      expect(await check.check()).toBeNull()
      expect(check.verifiedThroughLsn).toBe(wal.lastLsn)
      expect(check.sealsChecked).toBe(3)
      await appendSealed(wal, sealer, 100, 119)
      expect(await check.check()).toBeNull()
      expect(check.verifiedThroughLsn).toBe(wal.lastLsn)
      expect(check.sealsChecked).toBe(5)
      expect(readsOnLoop).toBe(0)
    } finally {
      check.stop()
      await wal.close()
    }
  })

  test('an edit on disk is found at its LSN, file and offset, and the finding sticks', async () => {
    const keys = await testKeys()
    const { wal } = await sealedWal(keys, 30)
    const check = new SelfCheckThread({ log: wal, keys: publicKeySource(keys.publicJwk) })
    await expectEditFoundAndKept(wal, check)
    check.stop()
    await wal.close()
  })

  test('a forged seal signature is found with the keys the thread built from their plain-data source', async () => {
    const keys = await testKeys()
    const { wal } = await sealedWal(keys, 30)
    const check = new SelfCheckThread({ log: wal, keys: publicKeySource(keys.privateJwk) }) // the public half is taken
    await expectForgedSealFound(wal, async () => check)
    check.stop()
    await wal.close()
  })

  test('after a lost thread, the next check starts a new one where the last stopped, from the head it reached', async () => {
    const keys = await testKeys()
    const { wal, sealer } = await sealedWal(keys, 25)
    const check = new SelfCheckThread({ log: wal, keys: publicKeySource(keys.publicJwk) })
    expect(await check.check()).toBeNull()
    const verified = check.verifiedThroughLsn
    // The thread dies (a request lost under way is WorkerChannel's to answer: worker-channel.test.ts).
    ;(check as unknown as { channel: { worker: Worker } }).channel.worker.terminate()
    // Its close event comes a moment later (longer on a loaded machine: a fixed 20 ms wait failed once).
    const running = (): boolean => (check as unknown as { channel: { running: boolean } }).channel.running
    for (const startedMs = Date.now(); running() && Date.now() - startedMs < 5_000; ) await Bun.sleep(5)
    expect(running()).toBe(false)
    await appendSealed(wal, sealer, 26, 40)
    // A record before the verified point is not read again; one after it is, from the head the last thread reached.
    editPayloadByte(wal.dir, verified - 2)
    await appendSealed(wal, sealer, 41, 45)
    const editedLsn = wal.lastLsn - 1
    editPayloadByte(wal.dir, editedLsn)
    expect(await check.check()).toMatchObject({ code: 'CHAIN_BREAK', lsn: editedLsn })
    expect(check.verifiedThroughLsn).toBe(editedLsn - 1)
    check.stop()
    await wal.close()
  })

  test('a new thread after a lost one still checks the next seal: its sequence, and a head at the restart point', async () => {
    const keys = await testKeys()
    // Each case: records through a seal, a check, the thread lost, then one more seal record with a wrong claim.
    const cases = [
      { claim: 'prevSealLsn', code: 'SEAL_SEQUENCE_BROKEN' },
      { claim: 'chainHead', code: 'SEAL_HEAD_MISMATCH' },
    ] as const
    for (const { claim, code } of cases) {
      const { wal, sealer } = await sealedWal(keys, 25) // seals after records 10 and 20
      const check = new SelfCheckThread({ log: wal, keys: publicKeySource(keys.publicJwk) })
      expect(await check.check()).toBeNull()
      const restartLsn = check.verifiedThroughLsn
      ;(check as unknown as { channel: { worker: Worker } }).channel.worker.terminate()
      const channel = (check as unknown as { channel: { running: boolean } }).channel
      for (const deadline = Date.now() + 5_000; channel.running && Date.now() < deadline; ) await Bun.sleep(5)
      expect(channel.running).toBe(false)
      // A validly signed seal of the head at the restart point, one claim wrong: prevSealLsn names no seal record,
      // or the head is another LSN's. A thread that knew neither the last seal nor that head would pass it.
      const lastSealLsn = (sealer as unknown as { last: { recordLsn: number } }).last.recordLsn
      const claims = { lsn: restartLsn, chainHead: toHex(wal.chainHead), epoch: wal.epoch, sealedAtMs: 1, prevSealLsn: lastSealLsn }
      if (claim === 'prevSealLsn') claims.prevSealLsn = lastSealLsn - 1
      else claims.chainHead = 'ab'.repeat(32)
      const [sealLsn] = await wal.append([sealRecord(await signSeal(claims, keys.signer))])
      expect(await check.check()).toMatchObject({ code, lsn: sealLsn })
      check.stop()
      await wal.close()
    }
  })

  test('segments the log compacted away before the thread read them are an error, not a finding; a stopped thread checks nothing', async () => {
    const keys = await testKeys()
    const { wal } = await sealedWal(keys, 150, 4_096)
    expect(segmentFiles(wal.dir).length).toBeGreaterThan(2)
    const check = new SelfCheckThread({ log: wal, keys: publicKeySource(keys.publicJwk) })
    // Through the log, as compaction removes them (a file deleted behind the log's back is a finding:
    // self-check-missing-segment.test.ts).
    expect(wal.removeSegmentsBelow(wal.segments[2]?.firstLsn as number)).toHaveLength(2)
    await expect(check.check()).rejects.toThrow('removed before the self-check reached it')
    expect(check.verifiedThroughLsn).toBe(0)
    check.stop()
    await expect(check.check()).rejects.toThrow('the thread was stopped')
    await wal.close().catch(() => undefined)
  })
})
