/**
 * `egress repair-tail` and the back office's query model (`DIR/backoffice.sqlite`). The back office writes only records
 * the log has made durable (src/backoffice/projector.ts), so a query model holding the log past the cut is, like a
 * snapshot beyond it, proof that the frames the cut would remove were durable: not a lost write, but damage to what
 * was acknowledged. The cut refused the snapshot and went ahead over the query model; now it refuses both.
 */

import { afterEach, expect, test } from 'bun:test'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Store } from '../../src/backoffice/index.ts'
import { openReadOnly, Wal, WalCorruptionError } from '../../wal/index.ts'
import { cli } from './io.ts'

const PAGE_BYTES = 4096
const PAYLOAD = new TextEncoder().encode('x'.repeat(150)) // 206-byte frames: the page at 20480 cuts the log after LSN 99
const LAST_GOOD_LSN = 99

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

/**
 * A data dir whose log (21,000 frames, one segment) has a zero page at 20480 with over 4 MiB of valid frames after it
 * (more than one batch in flight can span, so the open refuses it rather than cut it: wal/lost-write.ts).
 */
async function dataDirWithHole(): Promise<string> {
  const dataDir = mkdtempSync(join(tmpdir(), 'egress-repair-qm-'))
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

/** A query model in `dataDir` whose position is `lastLsn`, as the back office leaves it. */
function queryModelAt(dataDir: string, lastLsn: number): void {
  const store = Store.open(join(dataDir, 'backoffice.sqlite'))
  store.setPosition(lastLsn, 'ab'.repeat(32))
  store.close()
}

test('a query model beyond the cut refuses it (QUERY_MODEL_BEYOND_CUT), dry run too; the diagnosis says so; nothing is cut', async () => {
  const dataDir = await dataDirWithHole()
  queryModelAt(dataDir, 150)
  const diagnosis = await cli(['repair-tail', dataDir])
  expect(diagnosis.code).toBe(65)
  expect(diagnosis.out).toContain('a cut would be refused: the query model (backoffice.sqlite) holds the log through LSN 150')
  for (const extra of [['--dry-run'], []]) {
    const run = await cli(['repair-tail', dataDir, '--truncate-at-lsn', String(LAST_GOOD_LSN + 1), ...extra])
    expect({ extra, code: run.code }).toEqual({ extra, code: 1 })
    expect(run.err).toContain('QUERY_MODEL_BEYOND_CUT')
  }
  expect(existsSync(join(dataDir, 'quarantine'))).toBe(false)
  expect(() => openReadOnly(join(dataDir, 'log'))).toThrow(WalCorruptionError)
})

test('a query model at or below the last good LSN does not stop the cut (nor does none)', async () => {
  for (const lastLsn of [LAST_GOOD_LSN, 40, null]) {
    const dataDir = await dataDirWithHole()
    if (lastLsn !== null) queryModelAt(dataDir, lastLsn)
    const run = await cli(['repair-tail', dataDir, '--truncate-at-lsn', String(LAST_GOOD_LSN + 1)])
    expect({ lastLsn, code: run.code, err: run.err }).toEqual({ lastLsn, code: 0, err: '' })
    expect(openReadOnly(join(dataDir, 'log')).lastLsn).toBe(LAST_GOOD_LSN)
  }
})
