import { afterAll, describe, expect, test } from 'bun:test'
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import {
  AUDIT_TAMPER_DETECTED, MANIFEST_FILE, SelfCheck, decodeTamperRecord, keyResolverFromJwk, reportTamper, writeForensicsBundle,
} from '../../src/audit/index.ts'
import { PAYLOAD_BYTES_MAX, Wal, copyFrame } from '../../wal/index.ts'
import { editPayloadByte, expectEditFoundAndKept, expectForgedSealFound, payloadRecord, removeTempDirs, sealedWal, tempDir, testKeys } from './support.ts'

afterAll(removeTempDirs)

describe('SelfCheck', () => {
  test('a clean log passes, and later checks read only what was appended since', async () => {
    const keys = await testKeys()
    const { wal, sealer } = await sealedWal(keys, 35)
    const check = new SelfCheck(wal, { keys: await keyResolverFromJwk(keys.publicJwk) })
    expect(await check.check()).toBeNull()
    expect(check.verifiedThroughLsn).toBe(wal.lastLsn)
    expect(check.sealsChecked).toBe(3)
    for (let index = 0; index < 20; index++) {
      await wal.append([payloadRecord(100 + index)])
      await sealer.maybeSeal(wal, 1_000)
    }
    expect(await check.check()).toBeNull()
    expect(check.verifiedThroughLsn).toBe(wal.lastLsn)
    expect(check.sealsChecked).toBe(5)
    await wal.close()
  })

  test('payloads of every size, up to the largest a frame holds, re-derive to the chain the writer made; an edit in a large one is found', async () => {
    const wal = Wal.open(tempDir('egress-selfcheck-'), { durability: 'none', preallocateBytes: 0 })
    const sizes = [0, 1, 40, 1_000, 1_024, 1_025, 5_000, 70_000, PAYLOAD_BYTES_MAX, 3, 2_000]
    for (const [index, bytes] of sizes.entries()) await wal.append([payloadRecord(index, bytes)])
    const check = new SelfCheck(wal, { keys: null, recordsPerCheckMax: 2 })
    while (check.verifiedThroughLsn < wal.lastLsn) expect(await check.check()).toBeNull()
    // The head it derived is the writer's: one record more, and the chain still follows.
    await wal.append([payloadRecord(99, 10)])
    expect(await check.check()).toBeNull()
    const large = new SelfCheck(wal, { keys: null })
    const edited = editPayloadByte(wal.dir, sizes.indexOf(70_000) + 1)
    expect(await large.check()).toMatchObject({ code: 'CHAIN_BREAK', lsn: sizes.indexOf(70_000) + 1, file: edited.file })
    await wal.close()
  })

  test('an edit on disk under the running gateway is found at its LSN, file and offset, and the finding sticks', async () => {
    const keys = await testKeys()
    const { wal } = await sealedWal(keys, 30)
    await expectEditFoundAndKept(wal, new SelfCheck(wal, { keys: await keyResolverFromJwk(keys.publicJwk) }))
    await wal.close()
  })

  test('a seal with a forged signature is found by a check from the start', async () => {
    const keys = await testKeys()
    const { wal } = await sealedWal(keys, 30)
    await expectForgedSealFound(wal, async () => new SelfCheck(wal, { keys: await keyResolverFromJwk(keys.publicJwk) }))
    await wal.close()
  })
})

describe('tamper response', () => {
  test('reportTamper writes a forensics bundle (0700 dir, 0600 files, manifest hashes match) and appends the finding', async () => {
    const keys = await testKeys()
    const { wal } = await sealedWal(keys, 30)
    const edited = editPayloadByte(wal.dir, 17)
    const finding = await new SelfCheck(wal, { keys: null }).check()
    expect(finding?.lsn).toBe(17)
    const forensicsDir = tempDir('egress-forensics-')
    const report = await reportTamper({
      log: wal, finding: finding!, response: 'CANCEL_ONLY', forensicsDir, configDigest: 'ab'.repeat(32), config: { mode: 'paper' }, nowMs: 1_700_000_000_000,
    })
    expect(report.errors).toEqual([])
    expect(report.recordLsn).toBe(wal.lastLsn)
    const last = Array.from(wal.read(wal.lastLsn), copyFrame)[0]!
    expect(last.type).toBe(AUDIT_TAMPER_DETECTED.type)
    const decoded = decodeTamperRecord(last.version, last.payload)
    expect(decoded.ok && decoded.value).toMatchObject({ code: 'CHAIN_BREAK', lsn: 17, response: 'CANCEL_ONLY', bundleDir: report.bundle?.dir, offsetBytes: edited.offset })

    const dir = report.bundle!.dir
    expect(statSync(dir).mode & 0o777).toBe(0o700)
    const manifest = JSON.parse(readFileSync(join(dir, MANIFEST_FILE), 'utf8')) as { files: { name: string; sha256: string; bytes: number }[] }
    const names = readdirSync(dir).filter((name) => name !== MANIFEST_FILE).sort()
    expect(manifest.files.map((file) => file.name).sort()).toEqual(names)
    for (const file of manifest.files) {
      const bytes = readFileSync(join(dir, file.name))
      expect(bytesToHex(sha256(bytes))).toBe(file.sha256)
      expect(bytes.byteLength).toBe(file.bytes)
      expect(statSync(join(dir, file.name)).mode & 0o777).toBe(0o600)
    }
    expect(statSync(join(dir, MANIFEST_FILE)).mode & 0o777).toBe(0o600)
    // The slice starts at a frame boundary before the problem and holds the edited frame's bytes.
    const slice = names.find((name) => name.startsWith('slice-')) as string
    const [start] = slice.match(/-(\d+)-(\d+)\.bin$/)!.slice(1).map(Number) as [number]
    const segment = readFileSync(edited.file)
    expect(readFileSync(join(dir, slice)).subarray(edited.offset - start, edited.end - start)).toEqual(segment.subarray(edited.offset, edited.end))
    // Seals up to the damage (the one at LSN 11); nothing after a chain break can be trusted to be a seal.
    const seals = JSON.parse(readFileSync(join(dir, 'seals.json'), 'utf8')) as { recordLsn: number }[]
    expect(seals.map((seal) => seal.recordLsn)).toEqual([11])
    await wal.close()
  })

  test('a finding that names the log directory (not a segment) still gets its bundle, without a slice', async () => {
    // Review: the slice read the directory (EISDIR), and the whole bundle was lost.
    const keys = await testKeys()
    const { wal } = await sealedWal(keys, 10)
    const bundle = await writeForensicsBundle({ logDir: wal.dir, problem: { code: 'LOG_MISSING', lsn: 1, file: wal.dir, offsetBytes: 0, detail: 'a finding about the log as a whole' }, outDir: tempDir('egress-forensics-'), configDigest: 'ab'.repeat(32), nowMs: 1_700_000_000_000 })
    expect(bundle.files.map((file) => file.name).filter((name) => name.startsWith('slice-') || name.startsWith('segment-header-'))).toEqual([])
    expect(bundle.files.map((file) => file.name)).toContain('problem.json')
    await wal.close()
  })

  test('a bundle for a missing segment still has the problem, listing, seals, config and manifest', async () => {
    const keys = await testKeys()
    const { wal } = await sealedWal(keys, 12)
    await wal.close()
    const bundle = await writeForensicsBundle({
      logDir: wal.dir, problem: { code: 'SEGMENT_MISSING', lsn: 99, file: join(wal.dir, 'gone.seg'), offsetBytes: 0 },
      outDir: tempDir('egress-forensics-'), configDigest: 'cd'.repeat(32), nowMs: 0,
    })
    expect(bundle.files.map((file) => file.name).sort()).toEqual(['config.json', 'log-listing.json', MANIFEST_FILE, 'problem.json', 'seals.json'].sort())
  })
})
