import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { cpSync, readFileSync, writeFileSync } from 'node:fs'
import { AUDIT_SEAL, verifyLogDirectory } from '../../src/audit/index.ts'
import { verifySummary } from '../../src/cli/audit.ts'
import { Wal, openReadOnly, toHex } from '../../wal/index.ts'
import {
  allRawFrames, deleteAndRenumber, editPayloadByte, frameAt, removeTempDirs, replaceSealSignature, sealedLog, segmentFiles,
  tempDir, testKeys, type TestKeys,
} from './support.ts'
import { withEvidence } from '../support/evidence.ts'

let keys: TestKeys
let pristine: string

beforeAll(async () => {
  keys = await testKeys()
  pristine = tempDir('egress-audit-')
  await sealedLog(pristine, keys, { records: 300, sealEvery: 50 })
})
afterAll(removeTempDirs)

function copyOfLog(): string {
  const dir = tempDir('egress-audit-copy-')
  cpSync(pristine, dir, { recursive: true })
  return dir
}

function sealLsns(dir: string): number[] {
  return allRawFrames(dir).filter((frame) => frame.type === AUDIT_SEAL.type).map((frame) => frame.lsn)
}

describe('verifyLogDirectory', () => {
  test('a clean sealed log verifies: every record, every seal signature, the head the writer has', async () => {
    const report = await verifyLogDirectory(pristine, { publicKey: keys.publicJwk })
    expect(report.problems).toEqual([])
    expect(report.ok).toBe(true)
    const seals = sealLsns(pristine).length
    expect(report.records).toBe(300 + seals)
    expect(report.seals).toMatchObject({ checked: seals, signaturesChecked: true, unsealedRecords: 0 })
    expect(report.chainHead).toBe(toHex(openReadOnly(pristine).chainHead))
    expect(report.tornTail).toBeNull()
  })

  test('one payload byte edited with its CRC fixed up is caught by the chain, at that LSN', async () => {
    const invariant = 'audit verify (read-only, on a copy) finds one payload byte edited with its CRC fixed up: the chain breaks at that record, named by file, offset and LSN; the untouched log verifies'
    await withEvidence({ id: 'audit.edit-caught', kind: 'invariant', spec: 'specs/audit/verify.test.ts', invariant, expected: { cases: 2 } }, async () => {
      expect((await verifyLogDirectory(pristine, { publicKey: keys.publicJwk })).ok).toBe(true)
      const dir = copyOfLog()
      const edited = editPayloadByte(dir, 123)
      const report = await verifyLogDirectory(dir, { publicKey: keys.publicJwk })
      expect(report.ok).toBe(false)
      expect(report.firstProblem).toMatchObject({ code: 'CHAIN_BREAK', lsn: 123, file: edited.file, offsetBytes: edited.offset })
      expect(report.lastLsn).toBe(122)
      return { cases: 2, details: { editedLsn: 123, found: report.firstProblem?.code } }
    })
  })

  test('a deleted record with the rest renumbered (CRCs fixed, chain not) breaks the chain where it was', async () => {
    const dir = copyOfLog()
    deleteAndRenumber(dir, 80, { rechain: false })
    const report = await verifyLogDirectory(dir, { publicKey: keys.publicJwk })
    expect(report.firstProblem).toMatchObject({ code: 'CHAIN_BREAK', lsn: 80 })
  })

  test('a deleted record with CRCs and the whole chain recomputed is caught by the next seal', async () => {
    const dir = copyOfLog()
    const firstSealAfter = sealLsns(dir).find((lsn) => lsn > 80) as number
    deleteAndRenumber(dir, 80, { rechain: true })
    const report = await verifyLogDirectory(dir, { publicKey: keys.publicJwk })
    expect(report.ok).toBe(false)
    // The chain itself is consistent now: only seals know the log was rewritten.
    expect(report.problems.every((problem) => problem.code.startsWith('SEAL_'))).toBe(true)
    expect(report.firstProblem?.lsn).toBe(firstSealAfter - 1)
    expect(['SEAL_HEAD_MISMATCH', 'SEAL_LSN_INVALID']).toContain(report.firstProblem?.code as string)
  })

  test('a seal with a replaced signature (chain recomputed around it) fails signature verification', async () => {
    const dir = copyOfLog()
    const seal = sealLsns(dir)[2] as number
    replaceSealSignature(dir, seal)
    const report = await verifyLogDirectory(dir, { publicKey: keys.publicJwk })
    expect(report.firstProblem).toMatchObject({ code: 'SEAL_SIGNATURE_INVALID', lsn: seal, file: frameAt(dir, seal).file })
    // Recomputing the chain over the forged record changed every later head, so every later seal disagrees too.
    expect(report.problems.slice(1).every((problem) => problem.code === 'SEAL_HEAD_MISMATCH' && problem.lsn > seal)).toBe(true)
  })

  test('seals signed by another key do not verify', async () => {
    const other = await testKeys()
    const report = await verifyLogDirectory(pristine, { publicKey: other.publicJwk })
    expect(report.firstProblem?.code).toBe('SEAL_SIGNATURE_INVALID')
  })

  test('a JWKS with the key (among others) verifies, selecting by kid', async () => {
    const other = await testKeys()
    const report = await verifyLogDirectory(pristine, { jwks: { keys: [other.publicJwk, keys.publicJwk] } })
    expect(report.ok).toBe(true)
  })

  test('a JWKS whose seal key carries the newer alg name Ed25519 verifies the seals (it is read as a seal key)', async () => {
    // jose's key set takes a key only under the header's alg (EdDSA): every seal failed, SEAL_SIGNATURE_INVALID.
    const report = await verifyLogDirectory(pristine, { jwks: { keys: [{ ...keys.publicJwk, alg: 'Ed25519' }] } })
    expect(report.problems).toEqual([])
    expect(report.seals).toMatchObject({ checked: sealLsns(pristine).length, signaturesChecked: true })
    // Another key under that name still verifies nothing.
    const other = await testKeys()
    const foreign = await verifyLogDirectory(pristine, { jwks: { keys: [{ ...other.publicJwk, alg: 'Ed25519', kid: keys.publicJwk.kid as string }] } })
    expect(foreign.firstProblem?.code).toBe('SEAL_SIGNATURE_INVALID')
  })

  test('without a key, seals are checked for head and sequence but the report says signatures were not', async () => {
    const report = await verifyLogDirectory(pristine)
    expect(report.ok).toBe(true)
    expect(report.seals.signaturesChecked).toBe(false)
  })

  test('anchors: a matching anchor passes, a wrong head and an LSN beyond the end are problems', async () => {
    const head = (await verifyLogDirectory(pristine)).chainHead
    const clean = await verifyLogDirectory(pristine, { anchors: [{ lsn: 1, chainHead: toHex(frameHash(pristine, 1)) }] })
    expect(clean.anchors.checked).toBe(1)
    expect(clean.ok).toBe(true)
    const wrong = await verifyLogDirectory(pristine, { anchors: [{ lsn: 200, chainHead: head }] })
    expect(wrong.firstProblem).toMatchObject({ code: 'ANCHOR_MISMATCH', lsn: 200 })
    const beyond = await verifyLogDirectory(pristine, { anchors: [{ lsn: 10_000, chainHead: head }] })
    expect(beyond.firstProblem).toMatchObject({ code: 'ANCHOR_BEYOND_END', lsn: 10_000 })
  })

  test('anchors that all lie before the log\'s first record are a problem, not a silent pass; one inside still checks', async () => {
    const dir = tempDir('egress-audit-anchors-before-')
    await sealedLog(dir, keys, { records: 400, sealEvery: 50, segmentBytesMax: 8 * 1024 })
    const early = { lsn: 5, chainHead: toHex(frameHash(dir, 5)) }
    const late = { lsn: 390, chainHead: toHex(frameHash(dir, 390)) }
    // The first two segments gone (as compaction, or a deletion, leaves it): the log now starts past LSN 5.
    for (const file of segmentFiles(dir).slice(0, 2)) Bun.spawnSync(['rm', file])
    const onlyEarly = await verifyLogDirectory(dir, { anchors: [early] })
    expect(onlyEarly.firstLsn).toBeGreaterThan(5)
    expect(onlyEarly.anchors).toEqual({ checked: 0, skipped: 1 })
    expect(onlyEarly.ok).toBe(false)
    expect(onlyEarly.firstProblem).toMatchObject({ code: 'ANCHORS_ALL_BEFORE_LOG', lsn: onlyEarly.firstLsn })
    const both = await verifyLogDirectory(dir, { anchors: [early, late] })
    expect(both.anchors).toEqual({ checked: 1, skipped: 1 })
    expect(both.ok).toBe(true)
    expect((await verifyLogDirectory(dir)).ok).toBe(true)
  })

  test('a whole log rewritten consistently (chain recomputed, seals left) still fails its anchors', async () => {
    const anchorLsn = 250
    const anchor = { lsn: anchorLsn, chainHead: toHex(frameHash(pristine, anchorLsn)) }
    const dir = copyOfLog()
    deleteAndRenumber(dir, 10, { rechain: true })
    const report = await verifyLogDirectory(dir, { anchors: [anchor] })
    expect(report.problems.some((problem) => problem.code === 'ANCHOR_MISMATCH' && problem.lsn === anchorLsn)).toBe(true)
  })

  test('a torn tail is reported, not a problem; a bad frame before valid ones is FRAME_CORRUPT', async () => {
    const torn = copyOfLog()
    const [file] = segmentFiles(torn) as [string]
    const bytes = readFileSync(file)
    writeFileSync(file, bytes.subarray(0, bytes.byteLength - 10))
    const tornReport = await verifyLogDirectory(torn, { publicKey: keys.publicJwk })
    expect(tornReport.ok).toBe(true)
    expect(tornReport.tornTail).toMatchObject({ kind: 'torn-write', file, framesBeyond: 0 })

    const rotten = copyOfLog()
    const frame = frameAt(rotten, 40)
    const rot = readFileSync(frame.file)
    rot[frame.offset + 60] = (rot[frame.offset + 60] as number) ^ 0x10
    writeFileSync(frame.file, rot)
    const report = await verifyLogDirectory(rotten, { publicKey: keys.publicJwk })
    expect(report.firstProblem).toMatchObject({ code: 'FRAME_CORRUPT', lsn: 40, offsetBytes: frame.offset })
  })

  test('a log ending inside an append: its whole frames are taken back, as a gateway\'s open cuts them, and reported as the torn tail', async () => {
    for (const cutInsideFrame of [false, true]) {
      const dir = tempDir('egress-audit-append-')
      const wal = Wal.open(dir, { durability: 'none', preallocateBytes: 0 })
      for (let append = 0; append < 3; append++) {
        await wal.append(Array.from({ length: 10 }, (_, index) => ({ type: 7, version: 1, payload: new TextEncoder().encode(`a${append}-${index}`) })))
      }
      await wal.close()
      const [file] = segmentFiles(dir) as [string]
      const bytes = readFileSync(file)
      const fifth = frameAt(dir, 25)
      // The third append's first five frames reached the disk, and (cutInsideFrame) part of its sixth.
      writeFileSync(file, bytes.subarray(0, fifth.offset + (cutInsideFrame ? 90 : frameAt(dir, 26).offset - fifth.offset)))
      const report = await verifyLogDirectory(dir)
      const opened = openReadOnly(dir)
      expect(opened.lastLsn).toBe(20)
      expect(report.ok).toBe(true)
      expect(report.records).toBe(20)
      expect(report.chainHead).toBe(toHex(opened.chainHead))
      expect(report.tornTail).toMatchObject({
        file, lsn: 21, offsetBytes: frameAt(dir, 21).offset, kind: cutInsideFrame ? 'torn-write' : 'append-incomplete', reason: expect.stringContaining('its append incomplete'),
      })
    }
  })

  test('a zero page inside the last segment with valid frames after it (a copy racing the writer) is a torn tail', async () => {
    const dir = copyOfLog()
    const [file] = segmentFiles(dir) as [string]
    const bytes = readFileSync(file)
    bytes.fill(0, 8192, 12288) // the copier read this page before the writer filled it, and later pages after
    writeFileSync(file, bytes)
    const firstHit = allRawFrames(copyOfLog()).find((frame) => frame.end > 8192) as { lsn: number; offset: number }
    const report = await verifyLogDirectory(dir, { publicKey: keys.publicJwk })
    expect(report.ok).toBe(true)
    expect(report.lastLsn).toBe(firstHit.lsn - 1)
    expect(report.tornTail).toMatchObject({ kind: 'copy-race', lsn: firstHit.lsn, offsetBytes: firstHit.offset })
    expect(report.tornTail?.framesBeyond).toBeGreaterThan(0)
    // A power cut's lost write of the batch in flight looks alike: within one batch of the end, the log's writable open
    // cuts it there (wal/lost-write.ts), and the report says so.
    expect(report.tornTail?.gatewayCuts).toBe(true)
    expect(verifySummary(report)).toContain(`a gateway would start from this copy without LSN ${firstHit.lsn} on`)
    const wal = Wal.open(dir)
    expect({ lastLsn: wal.lastLsn, lsn: wal.recovery.tornTail?.lsn }).toEqual({ lastLsn: firstHit.lsn - 1, lsn: firstHit.lsn })
    await wal.close()
  })

  test('across segments: a missing middle segment and an edited segment header are located', async () => {
    const dir = tempDir('egress-audit-segments-')
    await sealedLog(dir, keys, { records: 400, sealEvery: 50, segmentBytesMax: 8 * 1024 })
    expect((await verifyLogDirectory(dir, { publicKey: keys.publicJwk })).ok).toBe(true)
    const files = segmentFiles(dir)
    expect(files.length).toBeGreaterThan(3)
    const missing = tempDir('egress-audit-missing-')
    cpSync(dir, missing, { recursive: true })
    const gone = segmentFiles(missing)[2] as string
    Bun.spawnSync(['rm', gone])
    const report = await verifyLogDirectory(missing, { publicKey: keys.publicJwk })
    expect(report.firstProblem?.code).toBe('SEGMENT_MISSING')
    expect(report.firstProblem?.file).toBe(segmentFiles(missing)[2] as string)

    const rebased = tempDir('egress-audit-header-')
    cpSync(dir, rebased, { recursive: true })
    const target = segmentFiles(rebased)[2] as string
    const header = readFileSync(target)
    header[30] = (header[30] as number) ^ 0x01 // the chain base, then the header CRC fixed up
    header.writeUInt32LE(Bun.hash.crc32(header.subarray(16, 64)), 12)
    writeFileSync(target, header)
    const rebasedReport = await verifyLogDirectory(rebased, { publicKey: keys.publicJwk })
    expect(rebasedReport.firstProblem).toMatchObject({ code: 'CHAIN_BREAK', file: target, offsetBytes: 0 })
  })

  test('the writer still opens the logs the audit passes, and reads the same head', async () => {
    const wal = Wal.open(copyOfLog(), { durability: 'none' })
    expect(toHex(wal.chainHead)).toBe((await verifyLogDirectory(pristine)).chainHead)
    await wal.close()
  })
})

function frameHash(dir: string, lsn: number): Uint8Array {
  const frame = frameAt(dir, lsn)
  return new Uint8Array(readFileSync(frame.file).subarray(frame.offset + 8, frame.offset + 40))
}

