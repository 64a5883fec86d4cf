/**
 * `egress repair-tail` and the data dir's anchors file (`DIR/audit/anchors.jsonl`). Every line of it names an LSN that
 * was durable when it was written (src/audit/anchors-end.ts), so a line past the cut is, like a snapshot or the query
 * model beyond it, proof that the frames the cut would remove were durable. The cut went ahead over it, and the start
 * that followed was refused (LOG_BEHIND_ANCHOR) with the frames already in quarantine; now the cut is refused first.
 */

import { afterEach, expect, test } from 'bun:test'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openReadOnly, Wal, WalCorruptionError } from '../../wal/index.ts'
import { cli } from './io.ts'

const PAGE_BYTES = 4096
const PAYLOAD = new TextEncoder().encode('x'.repeat(150)) // 206-byte frames: the page at 20480 cuts the log after LSN 99
const LAST_GOOD_LSN = 99

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

/** A data dir whose log has a zero page further from its end than one batch reaches (the open refuses it). */
async function dataDirWithHole(): Promise<string> {
  const dataDir = mkdtempSync(join(tmpdir(), 'egress-repair-anchors-'))
  dirs.push(dataDir)
  const logDir = join(dataDir, 'log')
  const wal = Wal.open(logDir, { durability: 'none' })
  // Batches of 1000 appends of one record each: the hole's cut then falls between appends (a frame's own).
  for (let index = 0; index < 21; index++) await Promise.all(Array.from({ length: 1000 }, () => wal.append([{ type: 7, version: 1, payload: PAYLOAD }])))
  await wal.close()
  const segment = join(logDir, readdirSync(logDir).find((name) => name.endsWith('.seg')) as string)
  const bytes = readFileSync(segment)
  bytes.fill(0, 5 * PAGE_BYTES, 6 * PAGE_BYTES)
  writeFileSync(segment, bytes)
  expect(() => Wal.open(logDir)).toThrow(WalCorruptionError)
  return dataDir
}

/** The anchors file a gateway leaves, its last line naming `lsn` (a start line: the head it found). */
function anchorsAt(dataDir: string, lsn: number): void {
  mkdirSync(join(dataDir, 'audit'), { recursive: true })
  writeFileSync(join(dataDir, 'audit', 'anchors.jsonl'), `${JSON.stringify({ lsn: 40, chainHead: 'ab'.repeat(32) })}\n${JSON.stringify({ lsn, chainHead: 'cd'.repeat(32), at: 'start' })}\n`)
}

test('an anchor beyond the cut refuses it (ANCHOR_BEYOND_CUT), dry run too; the diagnosis says so; nothing is cut', async () => {
  const dataDir = await dataDirWithHole()
  anchorsAt(dataDir, 150)
  const diagnosis = await cli(['repair-tail', dataDir])
  expect(diagnosis.code).toBe(65)
  expect(diagnosis.out).toContain('a cut would be refused: the anchors file names LSN 150')
  for (const extra of [['--dry-run'], []]) {
    const run = await cli(['repair-tail', dataDir, '--truncate-at-lsn', String(LAST_GOOD_LSN + 1), ...extra])
    expect({ extra, code: run.code }).toEqual({ extra, code: 1 })
    expect(run.err).toContain(`ANCHOR_BEYOND_CUT: ${join(dataDir, 'audit', 'anchors.jsonl')} names LSN 150, beyond LSN ${LAST_GOOD_LSN}`)
  }
  expect(existsSync(join(dataDir, 'quarantine'))).toBe(false)
  expect(() => openReadOnly(join(dataDir, 'log'))).toThrow(WalCorruptionError)
})

test('anchors at or below the last good LSN do not stop the cut (nor does no file)', async () => {
  for (const lsn of [LAST_GOOD_LSN, null]) {
    const dataDir = await dataDirWithHole()
    if (lsn !== null) anchorsAt(dataDir, lsn)
    const run = await cli(['repair-tail', dataDir, '--truncate-at-lsn', String(LAST_GOOD_LSN + 1)])
    expect({ lsn, code: run.code, err: run.err }).toEqual({ lsn, code: 0, err: '' })
    expect(openReadOnly(join(dataDir, 'log')).lastLsn).toBe(LAST_GOOD_LSN)
  }
})

/**
 * A backup's manifest (DIR/BACKUP.json, src/runtime/backup/manifest.ts) is such proof too: `egress backup` wrote it once
 * every frame to its LSN was fsynced and verified, so a hole before it is a copy of the backup damaged, not a lost write.
 */
test('a backup manifest ending beyond the cut refuses it (BACKUP_BEYOND_CUT), dry run too; the diagnosis says so; nothing is cut', async () => {
  const dataDir = await dataDirWithHole()
  const manifest = join(dataDir, 'BACKUP.json')
  writeFileSync(manifest, JSON.stringify({ format: 1, source: 'http://127.0.0.1:1', firstLsn: 1, lastLsn: 150, chainHead: 'ab'.repeat(32), snapshot: null }))
  // The diagnosis lists it with the other witnesses: it named none, and proposed the cut the run then refused.
  const diagnosis = await cli(['repair-tail', dataDir])
  expect(diagnosis.code).toBe(65)
  expect(diagnosis.out).toContain('a cut would be refused: the backup manifest (BACKUP.json) says the copy holds the log through LSN 150')
  expect(JSON.parse((await cli(['repair-tail', dataDir, '--json'])).out)).toMatchObject({ backupLsn: 150 })
  for (const extra of [['--dry-run'], []]) {
    const run = await cli(['repair-tail', dataDir, '--truncate-at-lsn', String(LAST_GOOD_LSN + 1), ...extra])
    expect({ extra, code: run.code }).toEqual({ extra, code: 1 })
    expect(run.err).toContain(`BACKUP_BEYOND_CUT: ${manifest} says this backup holds the log through LSN 150, beyond LSN ${LAST_GOOD_LSN}`)
  }
  expect(existsSync(join(dataDir, 'quarantine'))).toBe(false)
  expect(() => openReadOnly(join(dataDir, 'log'))).toThrow(WalCorruptionError)
})
