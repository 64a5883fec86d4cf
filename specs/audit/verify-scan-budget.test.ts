// The audit's search for a valid frame after damage is bounded as the open's is (wal/frame-search.ts): verify runs on a
// serving gateway's event loop (GET /v1/audit/verify), where 8 MB of bytes reading as frame lengths held it for a
// minute. A search that gives up reports FRAME_CORRUPT, never a torn tail; a count of frames beyond a tear stops. Work
// is asserted by the CRC counter, not the clock.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { appendFileSync, cpSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { verifyLogDirectory } from '../../src/audit/index.ts'
import { verifySummary } from '../../src/cli/audit.ts'
import { FRAME_SEARCH_BASE_CRC_BYTES, frameSearchWork, Wal } from '../../wal/index.ts'
import { craftedFrameHeaders } from '../wal/support.ts'
import { allRawFrames, frameAt, removeTempDirs, sealedLog, segmentFiles, tempDir, testKeys, type TestKeys } from './support.ts'

let keys: TestKeys
let pristine: string

beforeAll(async () => {
  keys = await testKeys()
  pristine = tempDir('egress-audit-')
  await sealedLog(pristine, keys, { records: 300, sealEvery: 50 })
})
afterAll(removeTempDirs)

function copyOfLog(): { dir: string; file: string; lastLsn: number } {
  const dir = tempDir('egress-audit-copy-')
  cpSync(pristine, dir, { recursive: true })
  const frames = allRawFrames(dir)
  return { dir, file: segmentFiles(dir)[0] as string, lastLsn: (frames[frames.length - 1] as { lsn: number }).lsn }
}

async function verifyCounted(dir: string): Promise<{ report: Awaited<ReturnType<typeof verifyLogDirectory>>; work: number }> {
  const before = frameSearchWork.crcBytes
  const report = await verifyLogDirectory(dir, { publicKey: keys.publicJwk })
  return { report, work: frameSearchWork.crcBytes - before }
}

describe('verify: the search for a valid frame after damage', () => {
  test('a tail crafted to read as frame headers everywhere is FRAME_CORRUPT (the search gave up), not a torn tail', async () => {
    const { dir, file, lastLsn } = copyOfLog()
    const end = statSync(file).size
    appendFileSync(file, craftedFrameHeaders(1 << 20, lastLsn + 1))
    const { report, work } = await verifyCounted(dir)
    expect(report.ok).toBe(false)
    expect(report.tornTail).toBeNull()
    expect(report.firstProblem).toMatchObject({ code: 'FRAME_CORRUPT', file, offsetBytes: end, lsn: lastLsn + 1, detail: expect.stringContaining('gave up') })
    expect(work).toBeLessThanOrEqual(FRAME_SEARCH_BASE_CRC_BYTES + 2 * (1 << 20))
  })

  test('the review\'s repro (2 MB of 00 00 0f 00 before LSN 100) is FRAME_CORRUPT at LSN 100 with no CRC spent on the garbage', async () => {
    const { dir, file } = copyOfLog()
    const at = frameAt(dir, 100).offset
    const bytes = readFileSync(file)
    writeFileSync(file, Buffer.concat([bytes.subarray(0, at), craftedFrameHeaders(2_000_000, null), bytes.subarray(at)]))
    const { report, work } = await verifyCounted(dir)
    expect(report.firstProblem).toMatchObject({ code: 'FRAME_CORRUPT', lsn: 100, offsetBytes: at, detail: expect.stringContaining('a valid frame follows') })
    // Only the valid frame found after it is CRC-checked (before: ~8 s of CRC, ~1 MiB at every fourth offset).
    expect(work).toBeGreaterThanOrEqual(frameAt(pristine, 100).end - frameAt(pristine, 100).offset - 8)
    expect(work).toBeLessThan(64 * 1024)
  })

  test('a copy race whose frames beyond are followed by crafted bytes: the count stops and says so', async () => {
    const { dir, file } = copyOfLog()
    const bytes = readFileSync(file)
    bytes.fill(0, 8192, 12288) // a zero page (a copy racing the writer), valid frames after it
    writeFileSync(file, bytes)
    const firstHit = allRawFrames(pristine).find((frame) => frame.end > 8192) as { lsn: number; offset: number }
    appendFileSync(file, craftedFrameHeaders(1 << 20, firstHit.lsn))
    const { report, work } = await verifyCounted(dir)
    expect(report.ok).toBe(true)
    expect(report.tornTail).toMatchObject({ kind: 'copy-race', lsn: firstHit.lsn, framesBeyondComplete: false })
    expect(report.tornTail?.framesBeyond).toBeGreaterThan(0)
    // The gateway's open would give up as well (its lost-write check meets the same bytes), and refuse.
    expect(report.tornTail?.gatewayCuts).toBe(false)
    expect(() => Wal.open(dir)).toThrow(/FRAME_CORRUPT/)
    expect(verifySummary(report)).toContain(`at least ${report.tornTail?.framesBeyond} frame(s) beyond not verified`)
    expect(work).toBeLessThanOrEqual(2 * (FRAME_SEARCH_BASE_CRC_BYTES + 2 * bytes.byteLength + 2 * (1 << 20)))
  })
})
