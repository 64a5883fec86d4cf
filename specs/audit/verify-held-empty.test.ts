import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { verifyLogDirectory } from '../../src/audit/index.ts'
import { startAnchoredLog } from '../../src/runtime/ha/index.ts'

let dir: string

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'egress-verify-held-empty-'))
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

/** A log anchored at LSN 101 (a snapshot's shape, snapshot-recovery.ts) holding no frame yet: its head is its first header's base. */
function anchoredLog(base: Uint8Array): string {
  const logDir = join(dir, 'log')
  startAnchoredLog(logDir, { firstLsn: 101, previousHash: base })
  return logDir
}

describe('verifyLogDirectory against the live log it holds (held) when the log holds no record past its chain base', () => {
  test('the directory holds what the log holds (its base, the writer\'s head): CLEAN, not FRAME_CORRUPT', async () => {
    const base = new Uint8Array(32).fill(7)
    // It was FRAME_CORRUPT, "the directory's log ends at LSN 100, the gateway holds durable records through 100".
    const report = await verifyLogDirectory(anchoredLog(base), { held: { firstLsn: 101, lastLsn: 100, chainHead: base } })
    expect(report.problems).toEqual([])
    expect(report.ok).toBe(true)
  })

  test('a base that is not the writer\'s head is still CHAIN_BREAK at it', async () => {
    const logDir = anchoredLog(new Uint8Array(32).fill(7))
    const report = await verifyLogDirectory(logDir, { held: { firstLsn: 101, lastLsn: 100, chainHead: new Uint8Array(32).fill(8) } })
    expect(report.firstProblem).toMatchObject({ code: 'CHAIN_BREAK', lsn: 100 })
  })
})
