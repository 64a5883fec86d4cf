import { afterAll, describe, expect, test } from 'bun:test'
import { chmodSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  AUDIT_SEAL, Sealer, decodeSealRecord, findLastSeal, loadSigningKey, readSealUnverified, verifyLogDirectory, verifySeal,
  keyResolverFromJwk,
} from '../../src/audit/index.ts'
import { Wal, copyFrame, toHex } from '../../wal/index.ts'
import { payloadRecord, removeTempDirs, tempDir, testKeys } from './support.ts'

afterAll(removeTempDirs)

function openLog(): Wal {
  return Wal.open(tempDir('egress-sealer-'), { durability: 'none' })
}

function sealsIn(wal: Wal) {
  return Array.from(wal.read(1), copyFrame)
    .filter((frame) => frame.type === AUDIT_SEAL.type)
    .map((frame) => {
      const record = decodeSealRecord(frame.version, frame.payload)
      if (!record.ok) throw new Error(record.reason)
      const read = readSealUnverified(record.value.jws)
      if (!read.ok) throw new Error(read.reason)
      return { recordLsn: frame.lsn, ...read.value.claims }
    })
}

describe('Sealer', () => {
  test('sealNow signs the head at the current LSN and appends the seal after it', async () => {
    const keys = await testKeys()
    const wal = openLog()
    await wal.append([payloadRecord(1), payloadRecord(2)])
    const head = toHex(wal.chainHead)
    const sealer = new Sealer({ signer: keys.signer, everyRecords: 100, everyMs: 60_000 })
    const seal = await sealer.sealNow(wal, 1_234)
    expect(seal.claims).toEqual({ lsn: 2, chainHead: head, epoch: 1, sealedAtMs: 1_234, prevSealLsn: 0 })
    expect(seal.recordLsn).toBe(3)
    const verified = await verifySeal(seal.jws, await keyResolverFromJwk(keys.publicJwk))
    expect(verified.ok && verified.value.kid).toBe(keys.signer.kid)
    await wal.close()
  })

  test('maybeSeal seals every N records and every T ms, never an unchanged head, and links each seal to the last', async () => {
    const keys = await testKeys()
    const wal = openLog()
    const sealer = new Sealer({ signer: keys.signer, everyRecords: 10, everyMs: 1_000 })
    expect(await sealer.maybeSeal(wal, 0)).toBeNull() // empty log
    for (let index = 1; index <= 25; index++) {
      await wal.append([payloadRecord(index)])
      await sealer.maybeSeal(wal, 0)
    }
    const byCount = sealsIn(wal)
    expect(byCount.map((seal) => seal.lsn)).toEqual([10, 21]) // counted from the previous seal record (LSN 11)
    expect(byCount.map((seal) => seal.prevSealLsn)).toEqual([0, 11])
    expect(await sealer.maybeSeal(wal, 999)).toBeNull()
    const byTime = await sealer.maybeSeal(wal, 1_000)
    expect(byTime?.claims.lsn).toBe(wal.lastLsn - 1)
    expect(await sealer.maybeSeal(wal, 10_000)).toBeNull() // only the seal itself since: nothing new to seal
    await wal.close()
  })

  test('concurrent sealNow calls are serialised, so prevSealLsn always names the seal before', async () => {
    const keys = await testKeys()
    const wal = openLog()
    await wal.append([payloadRecord(1)])
    const sealer = new Sealer({ signer: keys.signer, everyRecords: 100, everyMs: 60_000 })
    await Promise.all([sealer.sealNow(wal, 1), wal.append([payloadRecord(2)]), sealer.sealNow(wal, 2), sealer.sealNow(wal, 3)])
    const seals = sealsIn(wal)
    expect(seals.slice(1).map((seal) => seal.prevSealLsn)).toEqual(seals.slice(0, -1).map((seal) => seal.recordLsn))
    await wal.close()
    expect((await verifyLogDirectory(wal.dir, { publicKey: keys.publicJwk })).ok).toBe(true)
  })

  test('calls while a seal waits to start share it: fifty at once write at most two seals', async () => {
    const keys = await testKeys()
    const wal = openLog()
    await wal.append([payloadRecord(1)])
    const sealer = new Sealer({ signer: keys.signer, everyRecords: 100, everyMs: 60_000 })
    const calls = Array.from({ length: 50 }, (_, index) => sealer.sealNow(wal, index))
    const appended = wal.append([payloadRecord(2)])
    const results = await Promise.all([...calls, appended])
    expect(sealsIn(wal).length).toBeLessThanOrEqual(2)
    // Every call after the first got the one seal that started after it.
    expect(new Set(results.slice(1, 50).map((result) => (result as { recordLsn: number }).recordLsn)).size).toBe(1)
    await wal.close()
    expect((await verifyLogDirectory(wal.dir, { publicKey: keys.publicJwk })).ok).toBe(true)
  })

  test('a Sealer resuming a log learns its last seal (findLastSeal), so the sequence continues across restarts', async () => {
    const keys = await testKeys()
    const dir = tempDir('egress-sealer-resume-')
    let wal = Wal.open(dir, { durability: 'none' })
    const first = new Sealer({ signer: keys.signer, everyRecords: 5, everyMs: 60_000 })
    for (let index = 1; index <= 12; index++) {
      await wal.append([payloadRecord(index)])
      await first.maybeSeal(wal, 0)
    }
    await wal.close()
    wal = Wal.open(dir, { durability: 'none' })
    const last = findLastSeal(wal, { windowRecords: 4 })
    expect(last).toEqual(first.lastSeal)
    const second = new Sealer({ signer: keys.signer, everyRecords: 5, everyMs: 60_000, lastSeal: last })
    const seal = await second.sealNow(wal, 1)
    expect(seal.claims.prevSealLsn).toBe(last?.recordLsn as number)
    await wal.close()
    expect((await verifyLogDirectory(dir, { publicKey: keys.publicJwk })).ok).toBe(true)
  })

  test('loadSigningKey reads a 0600 private JWK and refuses one that group or others can read', async () => {
    const keys = await testKeys()
    const path = join(tempDir('egress-sealer-key-'), 'seal.private.jwk.json')
    writeFileSync(path, JSON.stringify(keys.privateJwk), { mode: 0o600 })
    chmodSync(path, 0o600)
    expect((await loadSigningKey(path)).kid).toBe(keys.signer.kid)
    chmodSync(path, 0o640)
    await expect(loadSigningKey(path)).rejects.toThrow('accessible to group or others')
    const publicPath = join(tempDir('egress-sealer-key-'), 'seal.public.jwk.json')
    writeFileSync(publicPath, JSON.stringify(keys.publicJwk), { mode: 0o600 })
    await expect(loadSigningKey(publicPath)).rejects.toThrow('is a public key')
  })
})
