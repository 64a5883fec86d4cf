// An anchor's sealRecordLsn is what makes verify check the record after the sealed LSN (the seal itself) and count it
// as reached: an anchors line whose sealRecordLsn is not an LSN (a string, as a pipeline that quotes numbers writes it)
// was read as if it had none, so a log cut just after the sealed LSN (its seal record gone) verified CLEAN against it.
// The start reads the anchors file's last line by the same schema (anchor-at-start.ts): it read sealRecordLsn as any
// number, so a clean shutdown's line with sealRecordLsn 0 or 1.5, which verify refuses as ANCHORS_INVALID, was taken
// for one whose seal ended the log before its first record: the tamper response, for records "appended while no
// gateway ran" that the gateway itself wrote.
import { afterAll, describe, expect, test } from 'bun:test'
import { truncateSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { AnchorsFileError } from '../../src/audit/anchors.ts'
import { checkAnchorsAtStart } from '../../src/audit/anchor-at-start.ts'
import { anchorOf, keyResolverFromJwk, parseAnchors, readAnchorsFile, verifyLogDirectory } from '../../src/audit/index.ts'
import { Wal } from '../../wal/index.ts'
import { allRawFrames, removeTempDirs, sealedLog, tempDir, testKeys } from './support.ts'

afterAll(removeTempDirs)

describe('an anchor\'s sealRecordLsn', () => {
  test('a number: a log cut before the seal record is ANCHOR_BEYOND_END; not a number: the anchors file is refused, not read without it', async () => {
    const keys = await testKeys()
    const dir = tempDir('egress-anchor-seal-record-')
    await sealedLog(dir, keys, { records: 20, sealEvery: 1_000 })
    const verifyKeys = await keyResolverFromJwk(keys.publicJwk)
    const anchor = anchorOf(await verifyLogDirectory(dir, { keys: verifyKeys }))
    const sealFrame = allRawFrames(dir).at(-1)
    if (sealFrame?.lsn !== anchor.sealRecordLsn) throw new Error('expected the log to end with the anchored seal')
    truncateSync(sealFrame.file, sealFrame.offset) // the seal record cut; the sealed LSN and its head intact

    const numeric = parseAnchors(JSON.stringify(anchor), 'anchor')
    const report = await verifyLogDirectory(dir, { keys: verifyKeys, anchors: numeric })
    expect(report.firstProblem).toMatchObject({ code: 'ANCHOR_BEYOND_END', lsn: anchor.sealRecordLsn })

    const quoted = JSON.stringify({ ...anchor, sealRecordLsn: String(anchor.sealRecordLsn) })
    const path = join(tempDir('egress-anchor-seal-record-file-'), 'anchors.jsonl')
    writeFileSync(path, `${quoted}\n`)
    for (const read of [() => parseAnchors(quoted, 'anchor'), () => readAnchorsFile(path)]) {
      expect(read).toThrow(AnchorsFileError)
      expect(read).toThrow(/ANCHORS_INVALID.*sealRecordLsn/)
    }
    for (const bad of [0, -1, 1.5, null]) expect(() => parseAnchors(JSON.stringify({ ...anchor, sealRecordLsn: bad }), 'anchor')).toThrow(/sealRecordLsn/)
  })

  test('the start reads it by the same schema: a shutdown line whose sealRecordLsn is not an LSN is no anchor there either', async () => {
    const keys = await testKeys()
    const dir = tempDir('egress-anchor-seal-record-start-')
    const log = join(dir, 'log')
    await sealedLog(log, keys, { records: 20, sealEvery: 1_000 })
    const anchor = anchorOf(await verifyLogDirectory(log, { keys: await keyResolverFromJwk(keys.publicJwk) }))
    const path = join(dir, 'anchors.jsonl')
    const wal = Wal.open(log, { durability: 'none', preallocateBytes: 0 })
    try {
      expect(wal.lastLsn).toBe(anchor.sealRecordLsn as number)
      const startWith = (line: object): unknown => {
        writeFileSync(path, `${JSON.stringify({ ...line, at: 'shutdown' })}\n`)
        return checkAnchorsAtStart(path, wal).finding
      }
      expect(startWith(anchor)).toBeNull()
      expect(startWith({ ...anchor, sealRecordLsn: wal.lastLsn - 1 })).toMatchObject({ code: 'ANCHOR_MISMATCH', lsn: wal.lastLsn })
      for (const bad of [0, -1, 1.5, 2 ** 60]) {
        const line = { ...anchor, sealRecordLsn: bad }
        expect(() => parseAnchors(JSON.stringify(line), 'anchor')).toThrow(/ANCHORS_INVALID.*sealRecordLsn/)
        expect({ bad, finding: startWith(line) }).toEqual({ bad, finding: null })
      }
    } finally {
      await wal.close()
    }
  })
})
