import { afterAll, describe, expect, test } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { findLastSeal, KeyFileError, sealRecord, setUpAudit, signSeal } from '../../src/audit/index.ts'
import { parseConfig } from '../../src/config/index.ts'
import { toHex, Wal } from '../../wal/index.ts'
import { payloadRecord, removeTempDirs, sealedWal, tempDir, testKeys } from './support.ts'

afterAll(removeTempDirs)

describe('setUpAudit', () => {
  test('from config: a Sealer resumed from the log, a self-check verifying with the signing key, forensics in the data dir', async () => {
    const keys = await testKeys()
    const dataDir = tempDir('egress-audit-setup-')
    const keyPath = join(dataDir, 'seal.private.jwk.json')
    writeFileSync(keyPath, JSON.stringify(keys.privateJwk), { mode: 0o600 })
    const config = parseConfig({ audit: { signingKeyFile: keyPath, sealEveryRecords: 5, tamperResponse: 'CANCEL_ONLY' } }).audit
    const wal = Wal.open(join(dataDir, 'log'), { durability: 'none' })
    const first = await setUpAudit({ config, dataDir, log: wal })
    for (let index = 1; index <= 12; index++) {
      await wal.append([payloadRecord(index)])
      await first.sealer?.maybeSeal(wal, 0)
    }
    expect(await first.selfCheck.check()).toBeNull()
    expect(first.selfCheck.sealsChecked).toBe(2)

    const second = await setUpAudit({ config, dataDir, log: wal })
    expect(second.sealer?.lastSeal).toEqual(first.sealer?.lastSeal ?? null)
    expect(second).toMatchObject({ tamperResponse: 'CANCEL_ONLY', forensicsDir: join(dataDir, 'forensics'), selfCheckEveryMs: 30_000 })
    await wal.close()
  })

  test('a publicKeyFile without the signing key\'s public half is refused at start, naming both fields; its own key or a set holding it starts', async () => {
    const dataDir = tempDir('egress-audit-setup-')
    const wal = Wal.open(join(dataDir, 'log'), { durability: 'none' })
    const [mine, other] = [await testKeys(), await testKeys()]
    const signingKeyFile = join(dataDir, 'signing.jwk.json')
    writeFileSync(signingKeyFile, JSON.stringify(mine.privateJwk), { mode: 0o600 })
    const write = (name: string, json: unknown): string => {
      const path = join(dataDir, name)
      writeFileSync(path, JSON.stringify(json))
      return path
    }
    const foreign = write('foreign.jwk.json', other.publicJwk)
    const failure = await setUpAudit({ config: parseConfig({ audit: { signingKeyFile, publicKeyFile: foreign } }).audit, dataDir, log: wal }).then(() => null, (error: unknown) => error)
    expect((failure as Error).message).toBe(`audit.publicKeyFile: ${foreign} does not hold the public half of audit.signingKeyFile's key ${mine.signer.kid}: every seal would fail verification; give the public key "egress keygen" wrote with it`)
    const foreignSet = write('foreign.jwks.json', { keys: [other.publicJwk] })
    expect(await setUpAudit({ config: parseConfig({ audit: { signingKeyFile, publicKeyFile: foreignSet } }).audit, dataDir, log: wal }).then(() => null, (error: unknown) => (error as Error).message)).toContain('does not hold the public half')
    for (const good of [write('mine.jwk.json', mine.publicJwk), write('rotated.jwks.json', { keys: [other.publicJwk, mine.publicJwk] })]) {
      const setup = await setUpAudit({ config: parseConfig({ audit: { signingKeyFile, publicKeyFile: good } }).audit, dataDir, log: wal })
      expect(setup.sealer).not.toBeNull()
      await setup.selfCheck.stop?.()
    }
    await wal.close()
  })

  test('a publicKeyFile whose keys could never verify a seal is refused at start, not taken for tampering at the first self-check', async () => {
    // Review: a JWKS holding the private key, a key with alg ES256 or use enc, an empty set or a malformed x passed the
    // start; then every seal failed verification, which the self-check reported as tampering (HALT).
    const dataDir = tempDir('egress-audit-setup-')
    const wal = Wal.open(join(dataDir, 'log'), { durability: 'none' })
    const mine = await testKeys()
    const signingKeyFile = join(dataDir, 'signing.jwk.json')
    writeFileSync(signingKeyFile, JSON.stringify(mine.privateJwk), { mode: 0o600 })
    const bad: [string, unknown][] = [
      ['private key in the set', { keys: [mine.privateJwk] }],
      ['alg ES256', { keys: [{ ...mine.publicJwk, alg: 'ES256' }] }],
      ['use enc', { keys: [{ ...mine.publicJwk, use: 'enc' }] }],
      ['empty set', { keys: [] }],
      ['malformed x', { keys: [{ ...mine.publicJwk, x: 'not-a-key' }] }],
      ['one JWK with alg ES256', { ...mine.publicJwk, alg: 'ES256' }],
    ]
    for (const [name, json] of bad) {
      const path = join(dataDir, 'bad.json')
      writeFileSync(path, JSON.stringify(json))
      const failure = await setUpAudit({ config: parseConfig({ audit: { signingKeyFile, publicKeyFile: path } }).audit, dataDir, log: wal }).then(() => null, (error: unknown) => (error as Error).message)
      expect({ name, failure }).toEqual({ name, failure: expect.stringMatching(/^audit\.publicKeyFile: .*expected (a JWKS|an Ed25519 JWK)/) })
    }
    // Sets shared with other signers still start: one seal key is enough beside keys of other types or uses, and the
    // newer alg name Ed25519 is read as before (review of the first version, which refused them).
    const rsaLike = { kty: 'RSA', kid: 'other', alg: 'RS256', n: 'AQAB', e: 'AQAB' }
    for (const good of [{ keys: [rsaLike, mine.publicJwk] }, { keys: [{ ...mine.publicJwk, alg: 'Ed25519' }] }]) {
      const path = join(dataDir, 'good.json')
      writeFileSync(path, JSON.stringify(good))
      const setup = await setUpAudit({ config: parseConfig({ audit: { signingKeyFile, publicKeyFile: path } }).audit, dataDir, log: wal })
      expect(setup.sealer).not.toBeNull()
      await setup.selfCheck.stop?.()
    }
    await wal.close()
  })

  test('a key file missing or not JSON: the error names the config field and the file, never the file content', async () => {
    const dataDir = tempDir('egress-audit-setup-')
    const wal = Wal.open(join(dataDir, 'log'), { durability: 'none' })
    const missing = join(dataDir, 'nope.jwk.json')
    const garbled = join(dataDir, 'garbled.jwk.json')
    // A private key with its quotes lost: the parser's message would quote the key material it stopped at.
    writeFileSync(garbled, '{ d: SECRETKEYMATERIAL }', { mode: 0o600 })
    // Each with its stable code (the CLI leads its line with it): a missing key file said only ENOENT.
    const cases: [Record<string, string>, KeyFileError['code'], string][] = [
      [{ signingKeyFile: missing }, 'KEY_FILE_UNREADABLE', `audit.signingKeyFile: ${missing}: cannot read (ENOENT)`],
      [{ publicKeyFile: missing }, 'KEY_FILE_UNREADABLE', `audit.publicKeyFile: ${missing}: cannot read (ENOENT)`],
      [{ signingKeyFile: garbled }, 'KEY_FILE_INVALID', `audit.signingKeyFile: ${garbled}: not valid JSON`],
      [{ publicKeyFile: garbled }, 'KEY_FILE_INVALID', `audit.publicKeyFile: ${garbled}: not valid JSON`],
    ]
    for (const [audit, code, message] of cases) {
      const failure = await setUpAudit({ config: parseConfig({ audit }).audit, dataDir, log: wal }).then(() => null, (error: unknown) => error)
      expect(failure).toBeInstanceOf(KeyFileError)
      expect((failure as KeyFileError).code).toBe(code)
      expect((failure as Error).message).toBe(message)
      expect((failure as Error).message).not.toContain('SECRETKEYMATERIAL')
    }
    await wal.close()
  })

  test('without keys: no sealer, and the self-check still re-derives the chain', async () => {
    const dataDir = tempDir('egress-audit-setup-')
    const wal = Wal.open(join(dataDir, 'log'), { durability: 'none' })
    await wal.append([payloadRecord(1)])
    const setup = await setUpAudit({ config: parseConfig({}).audit, dataDir, log: wal })
    expect(setup.sealer).toBeNull()
    expect(await setup.selfCheck.check()).toBeNull()
    expect(setup.selfCheck.verifiedThroughLsn).toBe(1)
    await wal.close()
  })

  test('from a snapshot head: the self-check re-derives only the records after it (and a wrong head is a finding there)', async () => {
    const dataDir = tempDir('egress-audit-setup-')
    const wal = Wal.open(join(dataDir, 'log'), { durability: 'none' })
    for (let index = 1; index <= 5; index++) await wal.append([payloadRecord(index)])
    let headAt3 = new Uint8Array(32)
    for (const frame of wal.read(3, { toLsn: 3 })) headAt3 = frame.hash.slice()
    const fromSnapshot = await setUpAudit({ config: parseConfig({}).audit, dataDir, log: wal, from: { lsn: 3, chainHead: headAt3 } })
    expect(fromSnapshot.selfCheck.verifiedThroughLsn).toBe(3)
    expect(await fromSnapshot.selfCheck.check()).toBeNull()
    expect(fromSnapshot.selfCheck.verifiedThroughLsn).toBe(5)
    const wrongHead = await setUpAudit({ config: parseConfig({}).audit, dataDir, log: wal, from: { lsn: 3, chainHead: new Uint8Array(32) } })
    expect(await wrongHead.selfCheck.check()).toMatchObject({ code: 'CHAIN_BREAK', lsn: 4 })
    await wal.close()
  })

  test('from a snapshot head: the first seal after it must name the last seal before it', async () => {
    const keys = await testKeys()
    for (const wrong of [false, true]) {
      const { wal } = await sealedWal(keys, 25) // seal records after records 10 and 20
      const snapshotLsn = wal.lastLsn
      const lastSeal = findLastSeal(wal)
      if (lastSeal === null) throw new Error('the log has no seal')
      const claims = { lsn: snapshotLsn, chainHead: toHex(wal.chainHead), epoch: wal.epoch, sealedAtMs: 1, prevSealLsn: wrong ? lastSeal.recordLsn - 1 : lastSeal.recordLsn }
      const [sealLsn] = await wal.append([sealRecord(await signSeal(claims, keys.signer))])
      const setup = await setUpAudit({ config: parseConfig({}).audit, dataDir: tempDir('egress-audit-setup-'), log: wal, from: { lsn: snapshotLsn, chainHead: frameHash(wal, snapshotLsn) } })
      const finding = await setup.selfCheck.check()
      if (wrong) expect(finding).toMatchObject({ code: 'SEAL_SEQUENCE_BROKEN', lsn: sealLsn })
      else expect(finding).toBeNull()
      setup.selfCheck.stop()
      await wal.close()
    }
  })
})

function frameHash(wal: Wal, lsn: number): Uint8Array {
  for (const frame of wal.read(lsn, { toLsn: lsn })) return frame.hash.slice()
  throw new Error(`no frame at LSN ${lsn}`)
}
